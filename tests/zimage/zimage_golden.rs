//! Golden parity with the diffusers reference on the tiny Z-Image fixture sets: every case listed
//! in each set's `fixtures/manifest.json`, every stage, with the recorded noise. Everything about
//! a case (model, sizes, prompts, steps, strength, guidance, input files) is read from the fixture
//! files; file names in the metadata are relative to the set's root, as in the manifest. The sets:
//! the shared one (`ZEDIT_FIXTURES`, default ../shared/fixtures/zimage-tiny) and
//! tests/fixtures/zimage-tiny-b (scripts/make_zimage_fixtures.py: another config, a 100x60 input,
//! 6 and 9 steps, Chinese prompts).
#![cfg(feature = "zimage")]

use crate::common;

use common::golden::{self, max_diff, png_max_lsb, Case};

use candle_core::{DType, Device, Tensor};
use std::path::{Path, PathBuf};
use zedit::engine::zimage::scheduler::Schedule;
use zedit::engine::zimage::{imageio, Init, Job, Noise, Pipeline};
use zedit::engine::Flow;

/// The fixture sets' roots, each holding `tiny-zimage/` and `fixtures/`.
fn roots() -> Vec<PathBuf> {
    let mut v = vec![common::zimage_fixtures()];
    let ours = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/zimage-tiny-b"
    ));
    if !v.iter().any(|r| same_dir(r, &ours)) {
        v.push(ours);
    }
    v
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Worst diff per stage over all cases, printed at the end.
#[derive(Default)]
struct Report(Vec<(String, f32, f32)>);

impl Report {
    fn check(&mut self, what: &str, got: &Tensor, want: &Tensor, atol: f32) {
        let d = max_diff(got, want);
        println!("  {what:48} max|diff| {d:.3e} (atol {atol:.0e})");
        assert!(d <= atol, "{what}: max|diff| {d} > {atol}");
        self.0.push((what.to_string(), d, atol));
    }
}

/// The negative prompt joins the prompt when guidance is on.
fn prompts(c: &Case) -> Vec<String> {
    let mut v = vec![c.str("prompt").unwrap()];
    if c.num("guidance_scale").unwrap_or(0.0) > 0.0 {
        v.push(c.str("negative_prompt").unwrap_or_default());
    }
    v
}

fn cases(root: &Path) -> Vec<Case> {
    golden::cases(&root.join("fixtures"), root)
}

fn pipeline(root: &Path) -> Pipeline {
    Pipeline::load(&root.join("tiny-zimage"), &Device::Cpu, DType::F32).unwrap()
}

/// Every case of every set, with its set's pipeline.
fn all_cases() -> Vec<(PathBuf, Vec<Case>)> {
    roots()
        .into_iter()
        .map(|r| {
            println!("fixture set {}", r.display());
            let c = cases(&r);
            assert!(!c.is_empty(), "{}: no cases", r.display());
            (r, c)
        })
        .collect()
}

fn ids_of(t: &Tensor) -> Vec<i64> {
    t.flatten_all().unwrap().to_vec1::<i64>().unwrap()
}

#[test]
fn prompts_tokenize_and_encode_like_the_reference() {
    let mut r = Report::default();
    for (root, cases) in all_cases() {
        let mut p = pipeline(&root);
        for c in cases {
            println!("{}", c.name);
            let max_len = c.num("max_sequence_length").unwrap_or(512.0) as usize;
            for (k, prompt) in prompts(&c).iter().enumerate() {
                let ids = p.tokenizer().ids(prompt, max_len).unwrap();
                let want = ids_of(c.get(&format!("text_encoder.{k}.input_ids")));
                let mask = ids_of(c.get(&format!("text_encoder.{k}.attention_mask")));
                let l = ids.len();
                let got: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
                assert_eq!(got, want[..l], "{} prompt {k}: token ids", c.name);
                assert!(mask[..l].iter().all(|&m| m == 1) && mask[l..].iter().all(|&m| m == 0));
                if k == 0 {
                    let meta_ids: Vec<i64> =
                        serde_json::from_value(c.meta["prompt_token_ids"].clone()).unwrap();
                    assert_eq!(got, meta_ids);
                }
                let feats = p.text_encoder().unwrap().encode(&ids).unwrap();
                let want = c
                    .get(&format!("text_encoder.{k}.hidden_states_m2"))
                    .squeeze(0)
                    .unwrap()
                    .narrow(0, 0, l)
                    .unwrap();
                r.check(
                    &format!("{} text_encoder.{k} hidden_states[-2]", c.name),
                    &feats,
                    &want,
                    1e-5,
                );
                if k == 0 {
                    r.check(
                        &format!("{} cap_feats == encoder rows", c.name),
                        &feats,
                        c.get("transformer.0.cap_feats.0"),
                        1e-5,
                    );
                }
            }
        }
    }
}

#[test]
fn every_transformer_call_matches() {
    let mut r = Report::default();
    for (root, cases) in all_cases() {
        let p = pipeline(&root);
        for c in cases {
            println!("{}", c.name);
            for i in 0..c.calls() {
                golden::replay_call(&p, &c, i, |what, got, want| r.check(what, got, want, 1e-4));
            }
        }
    }
}

/// Stacked calls of different latents and captions (as FlowEdit's source and target make), in
/// batches of two and of one, give what each call gives alone.
#[test]
fn stacked_calls_equal_separate_calls() {
    for (root, cases) in all_cases() {
        let mut p = pipeline(&root);
        for c in cases.iter().filter(|c| c.calls() >= 2) {
            let x0 = c.get("transformer.0.x.0").squeeze(1).unwrap();
            let x1 = c.get("transformer.1.x.0").squeeze(1).unwrap();
            // The prompt's features, and their first half: another caption, padded shorter
            // when the prompt is longer than 32 tokens.
            let feats = c.get("transformer.0.cap_feats.0");
            let half = feats
                .narrow(0, 0, feats.dim(0).unwrap().div_ceil(2))
                .unwrap();
            let t = 0.3;
            let mut outs = Vec::new();
            for max_batch in [2, 1] {
                p.transformer_mut().max_batch = max_batch;
                let tr = p.transformer();
                let (a, b) = (tr.caption(feats).unwrap(), tr.caption(&half).unwrap());
                let items = [(&x0, &a), (&x1, &b), (&x1, &a)];
                let alone: Vec<Tensor> = items
                    .iter()
                    .map(|(x, cap)| tr.forward(x, t, cap).unwrap())
                    .collect();
                let stacked = tr.forward_batch(&items, t).unwrap();
                for (i, (s, one)) in stacked.iter().zip(&alone).enumerate() {
                    let d = max_diff(s, one);
                    println!(
                        "{} item {i}, batches of {max_batch}: max|diff| {d:.2e}",
                        c.name
                    );
                    assert!(d <= 1e-5, "{} item {i}: {d}", c.name);
                }
                outs.push(stacked);
            }
            // The items differ from each other, so a mix-up of rows would show.
            assert!(max_diff(&outs[0][1], &outs[0][2]) > 1e-3, "{}", c.name);
        }
    }
}

#[test]
fn vae_encode_and_decode_match() {
    let mut r = Report::default();
    for (root, cases) in all_cases() {
        let p = pipeline(&root);
        for c in cases {
            println!("{}", c.name);
            for k in 0.. {
                let Some(input) = c.t.get(&format!("vae_encode.{k}.input")) else {
                    break;
                };
                let post = p.vae().encode(input).unwrap();
                r.check(
                    &format!("{} vae_encode.{k}.mean", c.name),
                    &post.mean,
                    c.get(&format!("vae_encode.{k}.mean")),
                    1e-4,
                );
                r.check(
                    &format!("{} vae_encode.{k}.logvar", c.name),
                    &post.logvar,
                    c.get(&format!("vae_encode.{k}.logvar")),
                    1e-4,
                );
                r.check(
                    &format!("{} vae_encode.{k}.std", c.name),
                    &post.std().unwrap(),
                    c.get(&format!("vae_encode.{k}.std")),
                    1e-4,
                );
            }
            let z = p.vae().from_latents(c.get("final_latents")).unwrap();
            r.check(
                &format!("{} vae_decode.input", c.name),
                &z,
                c.get("vae_decode.input"),
                1e-6,
            );
            let out = p.vae().decode(c.get("vae_decode.input")).unwrap();
            r.check(
                &format!("{} vae_decode.output", c.name),
                &out,
                c.get("vae_decode.output"),
                1e-4,
            );
        }
    }
}

#[test]
fn schedules_are_exact() {
    for (root, cases) in all_cases() {
        let p = pipeline(&root);
        for c in cases {
            let n = c.num("num_inference_steps").unwrap() as usize;
            let s = match c.num("strength") {
                Some(st) => Schedule::with_strength(p.scheduler_config(), n, st),
                None => Schedule::new(p.scheduler_config(), n),
            };
            assert_eq!(
                s.sigmas,
                c.get("scheduler.sigmas").to_vec1::<f32>().unwrap(),
                "{} sigmas",
                c.name
            );
            assert_eq!(
                s.timesteps,
                c.get("scheduler.timesteps").to_vec1::<f32>().unwrap(),
                "{} timesteps",
                c.name
            );
            assert_eq!(s.run_len(), c.calls(), "{} t_start", c.name);
            for (i, &ts) in s.run_timesteps().iter().enumerate() {
                let want = c
                    .get(&format!("transformer.{i}.t"))
                    .to_vec1::<f32>()
                    .unwrap();
                assert!(
                    want.iter().all(|&w| w == Schedule::model_t(ts)),
                    "{} t of step {i}",
                    c.name
                );
            }
            println!(
                "{}: sigmas, timesteps, t, t_start = {} exact",
                c.name, s.t_start
            );
        }
    }
}

fn job_for(c: &Case) -> Job {
    let (h, w) = (
        c.num("height").unwrap() as usize,
        c.num("width").unwrap() as usize,
    );
    let pipe = c.str("pipeline").unwrap();
    let init = if pipe == "ZImagePipeline" {
        Init::Text {
            height: h,
            width: w,
        }
    } else {
        let img = image::open(c.file("input_image", "fixtures/input.png"))
            .unwrap()
            .to_rgb8();
        let size = imageio::model_size(img.width(), img.height()).unwrap();
        assert_eq!(size, (w as u32, h as u32), "model size of the input image");
        let image = imageio::image_tensor(&img, size, &Device::Cpu).unwrap();
        // The preprocessed image is the first VAE input: resize and scaling are exact.
        let d = max_diff(&image, c.get("vae_encode.0.input"));
        assert_eq!(d, 0.0, "{}: preprocessed image differs by {d}", c.name);
        let mask = pipe.contains("Inpaint").then(|| {
            let m = image::open(c.file("mask_image", "fixtures/mask.png"))
                .unwrap()
                .to_luma8();
            let m = imageio::mask_tensor(&m, size, &Device::Cpu).unwrap();
            if let Some(want) = c.t.get("mask.processed") {
                let d = max_diff(&m, want);
                assert_eq!(d, 0.0, "{}: processed mask differs by {d}", c.name);
            }
            m
        });
        Init::Image { image, mask }
    };
    let noise = match &init {
        Init::Text { .. } => Noise::Given {
            posterior_eps: vec![],
            noise: c.get("initial_latents").clone(),
        },
        Init::Image { .. } => Noise::Given {
            posterior_eps: vec![c.get("randn.0").clone()],
            noise: c.get("randn.1").clone(),
        },
    };
    Job {
        prompt: c.str("prompt").unwrap(),
        negative_prompt: c.str("negative_prompt"),
        guidance: c.num("guidance_scale").unwrap_or(0.0) as f32,
        cfg_truncation: c.num("cfg_truncation").unwrap_or(1.0),
        cfg_normalization: c.num("cfg_normalization").unwrap_or(0.0) as f32,
        steps: c.num("num_inference_steps").unwrap() as usize,
        strength: c.num("strength").unwrap_or(1.0),
        init,
        noise,
    }
}

#[test]
fn end_to_end_with_recorded_noise() {
    let mut r = Report::default();
    for (root, cases) in all_cases() {
        let mut p = pipeline(&root);
        for c in cases {
            println!("{}", c.name);
            let job = job_for(&c);
            let mut steps = Vec::new();
            let out = p
                .run(&job, &mut |s| {
                    steps.push(s.latents.clone());
                    Flow::Continue
                })
                .unwrap();
            for (i, l) in steps.iter().enumerate() {
                println!(
                    "  step.{i}.latents max|diff| {:.3e}",
                    max_diff(l, c.get(&format!("step.{i}.latents")))
                );
            }
            r.check(
                &format!("{} final_latents", c.name),
                &out.final_latents,
                c.get("final_latents"),
                5e-4,
            );
            let img = zedit::engine::zimage::pipeline::unit_image(&out.decoded).unwrap();
            let want = c
                .get("image")
                .squeeze(0)
                .unwrap()
                .permute((2, 0, 1))
                .unwrap();
            r.check(&format!("{} image", c.name), &img, &want, 1e-3);
            let png = root.join("fixtures").join(&c.name).join("output.png");
            let lsb = png_max_lsb(&out.to_rgb().unwrap(), &png);
            println!("  PNG max|diff| {lsb} LSB");
            assert!(lsb <= 1, "{}: PNG differs by {lsb} LSB", c.name);
        }
    }
}
