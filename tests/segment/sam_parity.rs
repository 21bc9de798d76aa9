//! Segment Anything against the reference implementation: every model and case that the
//! fixtures' manifest lists (written by scripts/make_sam_fixtures.py with the reference Python
//! code), at the tolerances it states. Fixture root: `ZEDIT_SAM_FIXTURES`, else
//! tests/fixtures/sam.
#![cfg(feature = "sam")]

use crate::common;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use zedit::segment::sam::{transform, Prompt, Sam, SamConfig};

fn root() -> PathBuf {
    common::fixtures::root("ZEDIT_SAM_FIXTURES", "sam")
}

fn manifest() -> Value {
    common::fixtures::manifest(&root())
}

fn rgb(name: &str) -> image::RgbImage {
    image::open(root().join(name)).unwrap().to_rgb8()
}

struct Tol {
    atol: f64,
    rtol: f64,
    margin: f64,
}

fn tol(m: &Value) -> Tol {
    let t = &m["tolerance"];
    Tol {
        atol: t["atol"].as_f64().unwrap(),
        rtol: t["rtol"].as_f64().unwrap(),
        margin: t["mask_logit_margin"].as_f64().unwrap(),
    }
}

/// Element-wise closeness; returns the worst difference.
fn close(what: &str, ours: &[f32], theirs: &[f32], t: &Tol) -> f64 {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    let mut worst = 0f64;
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        let d = (f64::from(a) - f64::from(b)).abs();
        assert!(
            d <= t.atol + t.rtol * f64::from(b).abs(),
            "{what}[{i}]: ours {a}, reference {b} (difference {d:e})"
        );
        worst = worst.max(d);
    }
    worst
}

/// The stride-sampled elements and the sums the generator recorded for a large tensor.
fn check_sampled(
    what: &str,
    full: &[f32],
    model: &Value,
    key: &str,
    exp: &HashMap<String, Tensor>,
    t: &Tol,
) {
    let stride = model["stride"].as_u64().unwrap() as usize;
    let sampled: Vec<f32> = full.iter().step_by(stride).copied().collect();
    let worst = close(what, &sampled, &common::fixtures::f32s(&exp[key]), t);
    let s = &model["summary"][key];
    let want: Vec<usize> = s["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(full.len(), want.iter().product::<usize>(), "{what}: size");
    let sum: f64 = full.iter().map(|&v| f64::from(v)).sum();
    let abs: f64 = full.iter().map(|&v| f64::from(v).abs()).sum();
    let (rsum, rabs) = (s["sum"].as_f64().unwrap(), s["abs_sum"].as_f64().unwrap());
    assert!(
        (sum - rsum).abs() <= 1e-4 * rabs,
        "{what}: sum {sum} vs reference {rsum}"
    );
    assert!(
        (abs - rabs).abs() <= 1e-4 * rabs,
        "{what}: abs sum {abs} vs reference {rabs}"
    );
    eprintln!("{what}: worst sampled difference {worst:e}");
}

#[test]
fn the_resize_is_pillows_bilinear_exactly() {
    let m = manifest();
    for case in m["resize_cases"].as_array().unwrap() {
        let input = rgb(case["input"].as_str().unwrap());
        let want = rgb(case["resized"].as_str().unwrap());
        let ours = transform::resize_longest(&input, 1024);
        assert_eq!(ours.dimensions(), want.dimensions());
        let differ = ours
            .as_raw()
            .iter()
            .zip(want.as_raw())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(differ, 0, "{} bytes differ from Pillow's resize", differ);
    }
}

fn load(model: &Value) -> Sam {
    let dir = root().join(model["dir"].as_str().unwrap());
    let cfg_text = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let cfg = SamConfig::from_json(&cfg_text, "config.json").unwrap();
    let vb = VarBuilder::from_buffered_safetensors(
        std::fs::read(dir.join("model.safetensors")).unwrap(),
        DType::F32,
        &Device::Cpu,
    )
    .unwrap();
    Sam::new(cfg, vb).unwrap()
}

fn prompt(case: &Value) -> Prompt {
    Prompt {
        points: case["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_f64().unwrap(),
                    p[1].as_f64().unwrap(),
                    p[2].as_i64().unwrap() == 1,
                )
            })
            .collect(),
        bbox: case["box"].as_array().map(|b| {
            let v: Vec<f64> = b.iter().map(|x| x.as_f64().unwrap()).collect();
            [v[0], v[1], v[2], v[3]]
        }),
    }
}

#[test]
fn every_model_and_prompt_matches_the_reference() {
    let m = manifest();
    let t = tol(&m);
    let image = rgb(m["image"].as_str().unwrap());
    let models = m["models"].as_array().unwrap();
    assert!(!models.is_empty(), "the manifest lists no models");
    for model in models {
        let name = model["name"].as_str().unwrap();
        let dir = root().join(model["dir"].as_str().unwrap());
        let exp =
            candle_core::safetensors::load(dir.join("expected.safetensors"), &Device::Cpu).unwrap();
        let sam = load(model);

        let resized = transform::resize_longest(&image, sam.config().image_size);
        assert_eq!(
            resized,
            rgb(model["resized"].as_str().unwrap()),
            "{name}: resized input"
        );
        let (pre, input) = sam.preprocess(&image).unwrap();
        let want_input: Vec<usize> = model["input_size"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(
            [input.0, input.1],
            [want_input[0], want_input[1]],
            "{name}: input size"
        );
        check_sampled(
            &format!("{name}: preprocessed"),
            &common::fixtures::f32s(&pre),
            model,
            "preprocessed",
            &exp,
            &t,
        );

        let emb = sam.embed(&image).unwrap();
        check_sampled(
            &format!("{name}: embedding"),
            &common::fixtures::f32s(&emb.features),
            model,
            "embedding",
            &exp,
            &t,
        );

        let cases = model["cases"].as_array().unwrap();
        assert!(
            cases.len() >= 4,
            "{name}: point, negative point, box and point+box cases"
        );
        for case in cases {
            let key = case["name"].as_str().unwrap();
            let what = format!("{name}/{key}");
            let pred = sam.predict(&emb, &prompt(case)).unwrap();
            // The reference's multimask output: tokens 1..
            let low: Vec<f32> = pred.low_res[1..].concat();
            check_sampled(
                &format!("{what}: low-res logits"),
                &low,
                model,
                &format!("{key}.low_res"),
                &exp,
                &t,
            );
            close(
                &format!("{what}: iou"),
                &pred.iou[1..],
                &common::fixtures::f32s(&exp[&format!("{key}.iou")]),
                &t,
            );
            let logits: Vec<f32> = (1..pred.iou.len())
                .flat_map(|i| sam.upscale(&emb, &pred, i))
                .collect();
            let want = common::fixtures::f32s(&exp[&format!("{key}.logits")]);
            let worst = close(&format!("{what}: logits"), &logits, &want, &t);
            let masks = exp[&format!("{key}.masks")]
                .flatten_all()
                .unwrap()
                .to_vec1::<u8>()
                .unwrap();
            let mut exempt = 0;
            for (i, ((&ours, &theirs), &bit)) in logits.iter().zip(&want).zip(&masks).enumerate() {
                if f64::from(theirs).abs() <= t.margin {
                    exempt += 1;
                    continue;
                }
                assert_eq!(
                    u8::from(ours > 0.0),
                    bit,
                    "{what}: mask pixel {i} (logit {ours}, reference {theirs})"
                );
            }
            eprintln!("{what}: logits within {worst:e}; {exempt} mask pixels within the margin");
        }
    }
}
