//! Golden parity of FlowEdit and classic-prefill + inpaint with the Python reference
//! (`scripts/flowedit_reference.py` on diffusers' Z-Image components, tiny fixture model):
//! every case listed in `tests/fixtures/flowedit/manifest.json`, every transformer call, and the
//! final latents from the recorded noise. Everything about a case is read from its files.
#![cfg(feature = "zimage")]

use crate::common;

use common::golden::{self, max_diff, png_max_lsb, Case};

use candle_core::{DType, Device, Tensor};
use std::path::PathBuf;
use zedit::core::{EditParams, FlowEditParams, MaskSource, Mode, Recipe};
use zedit::engine::zimage::{imageio, FlowEditJob, Init, Job, Noise, Pipeline};
use zedit::engine::Flow;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flowedit")
}

fn cases() -> Vec<Case> {
    let cases = golden::cases(&dir(), &dir());
    assert!(cases.len() >= 2, "the manifest lists too few cases");
    cases
}

fn pipeline() -> Pipeline {
    let root = common::recorded_fixtures();
    Pipeline::load(&root.join("tiny-zimage"), &Device::Cpu, DType::F32).unwrap()
}

fn image(c: &Case, key: &str) -> Tensor {
    let img = image::open(c.file(key, "")).unwrap().to_rgb8();
    let (w, h) = (c.need("width") as u32, c.need("height") as u32);
    assert_eq!(
        imageio::model_size(img.width(), img.height()).unwrap(),
        (w, h)
    );
    imageio::image_tensor(&img, (w, h), &Device::Cpu).unwrap()
}

fn mask(c: &Case) -> Option<Tensor> {
    c.str("mask_image")?;
    let m = image::open(c.file("mask_image", "")).unwrap().to_luma8();
    let size = (c.need("width") as u32, c.need("height") as u32);
    Some(imageio::mask_tensor(&m, size, &Device::Cpu).unwrap())
}

#[test]
fn every_recorded_transformer_call_matches() {
    let p = pipeline();
    let mut worst = 0f32;
    for c in cases() {
        let calls = c.calls();
        assert_eq!(calls as f64, c.need("n_transformer_calls"), "{}", c.name);
        for i in 0..calls {
            golden::replay_call(&p, &c, i, |what, got, want| {
                let d = max_diff(got, want);
                assert!(d <= 1e-4, "{what}: max|diff| {d}");
                worst = worst.max(d);
            });
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
        steps: c.need("steps") as u32,
        strength: if flow { 1.0 } else { c.need("strength") as f32 },
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
    let draws = (0..c.need("n_noise_draws") as usize)
        .map(|j| c.get(&format!("noise.{j}")).clone())
        .collect();
    FlowEditJob {
        source_prompt: c.str("source_prompt").unwrap(),
        target_prompt: c.str("target_prompt").unwrap(),
        negative_prompt: c.str("negative_prompt"),
        params: FlowEditParams {
            n_max: c.need("n_max") as u32,
            n_min: c.need("n_min") as u32,
            n_avg: c.need("n_avg") as u32,
            source_guidance: c.need("source_guidance") as f32,
            target_guidance: c.need("target_guidance") as f32,
        },
        steps: c.need("steps") as usize,
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
        steps: c.need("steps") as usize,
        strength: c.need("strength"),
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
        let png = dir().join(&c.name).join("output.png");
        let lsb = png_max_lsb(&out.to_rgb().unwrap(), &png);
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

#[test]
fn recorded_from_the_tiny_set_in_the_repository() {
    let text = std::fs::read_to_string(dir().join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    common::assert_recorded_from_the_tiny_set(&manifest, "tests/fixtures/flowedit");
}
