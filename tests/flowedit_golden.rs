//! Golden parity of FlowEdit and classic-prefill + inpaint with the Python reference
//! (`scripts/flowedit_reference.py` on diffusers' Z-Image components, tiny fixture model):
//! every case listed in `tests/fixtures/flowedit/manifest.json`, every transformer call, and the
//! final latents from the recorded noise. Everything about a case is read from its files.
#![cfg(feature = "zimage")]

mod common;

use candle_core::{DType, Device, Tensor};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use zedit::core::{EditParams, FlowEditParams, MaskSource, Mode, Recipe};
use zedit::engine::zimage::{imageio, FlowEditJob, Init, Job, Noise, Pipeline};
use zedit::engine::Flow;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flowedit")
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    let a = a.to_dtype(DType::F32).unwrap().flatten_all().unwrap();
    let b = b.to_dtype(DType::F32).unwrap().flatten_all().unwrap();
    assert_eq!(a.dims(), b.dims(), "element counts differ");
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

struct Case {
    name: String,
    meta: Value,
    t: HashMap<String, Tensor>,
}

impl Case {
    fn get(&self, k: &str) -> &Tensor {
        self.t
            .get(k)
            .unwrap_or_else(|| panic!("{}: tensor {k} missing", self.name))
    }
    fn str(&self, k: &str) -> Option<String> {
        self.meta.get(k).and_then(Value::as_str).map(str::to_string)
    }
    fn num(&self, k: &str) -> f64 {
        self.meta[k]
            .as_f64()
            .unwrap_or_else(|| panic!("{}: meta {k} missing", self.name))
    }
}

fn cases() -> Vec<Case> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("manifest.json")).unwrap())
            .unwrap();
    let mut names: Vec<String> = manifest["cases"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    names.sort();
    assert!(names.len() >= 2, "manifest lists {names:?}");
    names
        .into_iter()
        .map(|name| {
            let d = dir().join(&name);
            let meta = serde_json::from_str(&std::fs::read_to_string(d.join("meta.json")).unwrap())
                .unwrap();
            let t = candle_core::safetensors::load(d.join("tensors.safetensors"), &Device::Cpu)
                .unwrap();
            Case { name, meta, t }
        })
        .collect()
}

fn pipeline() -> Pipeline {
    let root = common::zimage_fixtures();
    Pipeline::load(&root.join("tiny-zimage"), &Device::Cpu, DType::F32).unwrap()
}

fn image(c: &Case, key: &str) -> Tensor {
    let name = c.str(key).unwrap();
    let img = image::open(dir().join(name)).unwrap().to_rgb8();
    let (w, h) = (c.num("width") as u32, c.num("height") as u32);
    assert_eq!(
        imageio::model_size(img.width(), img.height()).unwrap(),
        (w, h)
    );
    imageio::image_tensor(&img, (w, h), &Device::Cpu).unwrap()
}

fn mask(c: &Case) -> Option<Tensor> {
    let name = c.str("mask_image")?;
    let m = image::open(dir().join(name)).unwrap().to_luma8();
    let size = (c.num("width") as u32, c.num("height") as u32);
    Some(imageio::mask_tensor(&m, size, &Device::Cpu).unwrap())
}

#[test]
fn every_recorded_transformer_call_matches() {
    let p = pipeline();
    let mut worst = 0f32;
    for c in cases() {
        let calls = (0..)
            .take_while(|i| c.t.contains_key(&format!("transformer.{i}.t")))
            .count();
        assert_eq!(calls as f64, c.num("n_transformer_calls"), "{}", c.name);
        for i in 0..calls {
            let ts = c
                .get(&format!("transformer.{i}.t"))
                .to_vec1::<f32>()
                .unwrap();
            for (b, t) in ts.iter().enumerate() {
                let x = c.get(&format!("transformer.{i}.x.{b}")).squeeze(1).unwrap();
                let cap = p
                    .transformer()
                    .caption(c.get(&format!("transformer.{i}.cap_feats.{b}")))
                    .unwrap();
                let out = p.transformer().forward(&x, *t, &cap).unwrap();
                let want = c
                    .get(&format!("transformer.{i}.out.{b}"))
                    .squeeze(1)
                    .unwrap();
                let d = max_diff(&out, &want);
                assert!(d <= 1e-4, "{} call {i}.{b}: max|diff| {d}", c.name);
                worst = worst.max(d);
            }
        }
        let forwards: usize = (0..calls)
            .map(|i| c.get(&format!("transformer.{i}.t")).dims1().unwrap())
            .sum();
        assert_eq!(
            forwards,
            predicted_calls(&c),
            "{}: transformer calls",
            c.name
        );
        println!("{}: {calls} calls ({forwards} forwards) match", c.name);
    }
    println!("worst call max|diff| {worst:.3e} (atol 1e-4)");
}

/// The transformer forwards `recipe::transformer_calls` predicts for the case.
fn predicted_calls(c: &Case) -> usize {
    let flow = c.str("kind").as_deref() == Some("flowedit");
    let params = EditParams {
        steps: c.num("steps") as u32,
        strength: if flow { 1.0 } else { c.num("strength") as f32 },
        flowedit: flow.then(|| flowedit_job(c).params),
        ..Default::default()
    };
    let recipe = Recipe {
        mode: if flow {
            Mode::Flowedit
        } else {
            Mode::ClassicPrefillInpaint
        },
        prompt: String::new(),
        source_prompt: None,
        negative_prompt: None,
        mask_source: MaskSource::File,
        strength: params.strength,
        steps: params.steps,
        loras: Vec::new(),
    };
    zedit::recipe::transformer_calls(&recipe, &params)
}

fn flowedit_job(c: &Case) -> FlowEditJob {
    let draws = (0..c.num("n_noise_draws") as usize)
        .map(|j| c.get(&format!("noise.{j}")).clone())
        .collect();
    FlowEditJob {
        source_prompt: c.str("source_prompt").unwrap(),
        target_prompt: c.str("target_prompt").unwrap(),
        negative_prompt: c.str("negative_prompt"),
        params: FlowEditParams {
            n_max: c.num("n_max") as u32,
            n_min: c.num("n_min") as u32,
            n_avg: c.num("n_avg") as u32,
            source_guidance: c.num("source_guidance") as f32,
            target_guidance: c.num("target_guidance") as f32,
        },
        steps: c.num("steps") as usize,
        image: image(c, "input_image"),
        mask: mask(c),
        noise: Noise::Draws(draws),
    }
}

fn prefill_job(c: &Case) -> Job {
    Job {
        prompt: c.str("prompt").unwrap(),
        negative_prompt: None,
        guidance: 0.0,
        cfg_truncation: 1.0,
        cfg_normalization: 0.0,
        steps: c.num("steps") as usize,
        strength: c.num("strength"),
        init: Init::Image {
            image: image(c, "input_image"),
            mask: mask(c),
        },
        noise: Noise::Given {
            posterior_eps: vec![c.get("randn.0").clone()],
            noise: c.get("randn.1").clone(),
        },
    }
}

#[test]
fn final_latents_match_from_the_recorded_noise() {
    let mut p = pipeline();
    for c in cases() {
        let mut steps = Vec::new();
        let mut record = |s: zedit::engine::zimage::StepInfo| {
            steps.push((s.index, s.total, s.latents.clone()));
            Flow::Continue
        };
        let out = match c.str("kind").unwrap().as_str() {
            "flowedit" => p.run_flowedit(&flowedit_job(&c), &mut record).unwrap(),
            "prefill_inpaint" => p.run(&prefill_job(&c), &mut record).unwrap(),
            other => panic!("{}: unknown kind {other}", c.name),
        };
        for (index, total, l) in &steps {
            assert_eq!(*total, steps.len());
            let want = c.get(&format!("step.{index}.latents"));
            println!(
                "  {} step {index}: max|diff| {:.3e}",
                c.name,
                max_diff(l, want)
            );
        }
        let d = max_diff(&out.final_latents, c.get("final_latents"));
        println!("{}: final_latents max|diff| {d:.3e} (atol 5e-4)", c.name);
        assert!(d <= 5e-4, "{}: final latents differ by {d}", c.name);
        let png = image::open(dir().join(&c.name).join("output.png"))
            .unwrap()
            .to_rgb8();
        let got = out.to_rgb().unwrap();
        let lsb = got
            .as_raw()
            .iter()
            .zip(png.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        println!("{}: PNG max|diff| {lsb} LSB", c.name);
        assert!(lsb <= 1, "{}: PNG differs by {lsb} LSB", c.name);
    }
}

#[test]
fn a_cancelled_flowedit_stops_after_the_step() {
    let mut p = pipeline();
    let c = cases()
        .into_iter()
        .find(|c| c.str("kind").as_deref() == Some("flowedit"))
        .unwrap();
    let mut seen = 0;
    let r = p.run_flowedit(&flowedit_job(&c), &mut |_| {
        seen += 1;
        Flow::Cancel
    });
    assert!(matches!(r, Err(zedit::engine::EngineError::Cancelled)));
    assert_eq!(seen, 1);
}
