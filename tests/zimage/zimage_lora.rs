//! LoRAs on the tiny transformer (tests/fixtures/zimage-lora, made by
//! scripts/make_lora_fixtures.py): each key format against diffusers' own LoRA loading (or
//! ComfyUI's merge for a fused qkv LoRA) per transformer call; removing them restores the base
//! model bit for bit; LoRAs for another model or the text encoder are refused by key.
#![cfg(feature = "zimage")]

use crate::common;

use candle_core::{DType, Device, Tensor};
use common::gguf::worst;
use common::lora::{
    apply_case, case_files, dense_weights, flat, meta, reference, tiny_transformer,
};
use std::collections::HashMap;
use std::path::PathBuf;
use zedit::engine::zimage::lora;
use zedit::engine::zimage::transformer::Transformer;

fn fixtures() -> PathBuf {
    common::lora::adapter_fixtures("zimage-lora")
}

fn outputs(t: &Transformer, r: &HashMap<String, Tensor>) -> Vec<Tensor> {
    common::lora::outputs(&fixtures(), t, r)
}

#[test]
fn every_format_matches_its_reference_per_call() {
    let (mut t, cfg) = tiny_transformer();
    let r = reference(&fixtures());
    let base = outputs(&t, &r);
    assert!(worst(&base, &r, "out.base") <= 1e-4);
    let m = meta(&fixtures());
    let cases = m["cases"].as_object().unwrap();
    assert!(
        cases.len() >= 6,
        "ai_toolkit, diffusers, kohya, comfy_qkv, partial, stack"
    );
    for (case, spec) in cases {
        let files = case_files(&fixtures(), spec, &cfg);
        apply_case(&mut t, &files);
        let d = worst(&outputs(&t, &r), &r, &format!("out.{case}"));
        let moved = spec["max_abs_change_from_base"].as_f64().unwrap();
        println!(
            "{case:10} ({}): max|ours - reference| {d:.2e}, the LoRA moves the output by {moved:.3}",
            spec["reference"].as_str().unwrap()
        );
        assert!(d <= 1e-4, "{case}: {d}");
        assert!(moved > 0.05, "{case}: the LoRA must change the output");
    }
    // Switching back to none restores the base model exactly.
    lora::apply(&mut t, &[]).unwrap();
    let again = outputs(&t, &r);
    for (a, b) in base.iter().zip(&again) {
        assert_eq!(flat(a), flat(b));
    }
}

#[test]
fn base_weights_are_never_touched() {
    let (mut t, cfg) = tiny_transformer();
    let before = dense_weights(&mut t);
    let f = lora::read(&fixtures().join("comfy_qkv.safetensors"), &cfg).unwrap();
    lora::apply(&mut t, &[(&f, 0.8)]).unwrap();
    let sides = t
        .linears_mut()
        .iter()
        .filter(|(_, l)| !l.side().is_empty())
        .count();
    // Every layer's q, k, v, out, w2 and adaLN.
    assert_eq!(sides, cfg.n_layers * 6);
    let after = dense_weights(&mut t);
    assert_eq!(before, after);
}

#[test]
fn a_partial_file_says_how_many_keys_it_used() {
    let (_, cfg) = tiny_transformer();
    let f = lora::read(&fixtures().join("partial.safetensors"), &cfg).unwrap();
    let m = meta(&fixtures());
    let pairs = m["used_keys"]["partial"][0].as_u64().unwrap() as usize;
    assert_eq!(f.used_keys, pairs * 3, "down, up and alpha of each layer");
    assert_eq!(f.total_keys, pairs * 3 + 3);
    let note = f.coverage().unwrap();
    assert!(
        note.contains(&format!("used {} of {} keys", pairs * 3, pairs * 3 + 3)),
        "{note}"
    );
    assert!(note.contains("lora_unet_layers_9_attention_to_q"), "{note}");
    let full = lora::read(&fixtures().join("kohya.safetensors"), &cfg).unwrap();
    assert!(full.coverage().is_none());
}

#[test]
fn loras_for_something_else_are_refused_by_key() {
    let (_, cfg) = tiny_transformer();
    let e = lora::read(&fixtures().join("other_model.safetensors"), &cfg)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("other_model.safetensors") && e.contains("another model"),
        "{e}"
    );
    assert!(
        e.contains("noise_refiner.0.attention.to_"),
        "names the layer: {e}"
    );
    let e = lora::read(&fixtures().join("text_encoder.safetensors"), &cfg)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("lora_te_text_model_encoder_layers_0_self_attn_q_proj")
            && e.contains("text encoder"),
        "{e}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("style.ckpt");
    std::fs::write(&p, b"PK\x03\x04 not a safetensors file").unwrap();
    let e = lora::read(&p, &cfg).err().unwrap().to_string();
    assert!(e.contains("style.ckpt") && e.contains("safetensors"), "{e}");
    // A file with keys for no layer of this model names the first.
    let unknown = tmp.path().join("sdxl.safetensors");
    let t = Tensor::zeros((4, 8), DType::F32, &Device::Cpu).unwrap();
    candle_core::safetensors::save(
        &HashMap::from([(
            "lora_unet_down_blocks_0_attn.lora_down.weight".to_string(),
            t,
        )]),
        &unknown,
    )
    .unwrap();
    let e = lora::read(&unknown, &cfg).err().unwrap().to_string();
    assert!(
        e.contains("lora_unet_down_blocks_0_attn.lora_down.weight"),
        "{e}"
    );
}

#[test]
fn the_engine_switches_loras_without_reloading() {
    use zedit::core::{EditParams, LoraRef, MaskSource, Mode, Op, Recipe};
    use zedit::engine::{self, EditRequest, EngineOptions, Flow};
    let opts = EngineOptions {
        name: "zimage".into(),
        model: Some(common::recorded_fixtures().join("tiny-zimage")),
        ..Default::default()
    };
    let mut e = engine::open(&opts).unwrap();
    let image = image::open(common::recorded_fixtures().join("fixtures/input.png"))
        .unwrap()
        .to_rgb8();
    let path = fixtures().join("kohya.safetensors");
    let lora = LoraRef {
        digest: lora::digest(&path).unwrap(),
        path,
        weight: 0.8,
    };
    let req = |loras: Vec<LoraRef>| EditRequest {
        op: Op::Edit,
        instruction: "a boat".into(),
        image: image.clone(),
        mask: None,
        overlay: None,
        params: EditParams {
            strength: 0.75,
            steps: 4,
            seed: 5,
            ..Default::default()
        },
        recipe: Some(Recipe {
            mode: Mode::Img2img,
            prompt: "A small wooden boat on a calm lake at sunrise".into(),
            source_prompt: None,
            negative_prompt: None,
            mask_source: MaskSource::None,
            strength: 0.75,
            steps: 4,
            loras,
        }),
    };
    let mut run = |loras: Vec<LoraRef>| e.run(&req(loras), &mut |_| Flow::Continue).unwrap();
    let plain = run(Vec::new());
    let styled = run(vec![lora.clone()]);
    let half = run(vec![LoraRef {
        weight: 0.4,
        ..lora.clone()
    }]);
    let back = run(Vec::new());
    assert_ne!(plain, styled, "the LoRA changes the picture");
    assert_ne!(styled, half, "the weight is applied");
    assert_eq!(
        plain, back,
        "switching back on the same engine is the base model again"
    );
    assert_eq!(
        styled,
        run(vec![lora]),
        "and switching on again repeats exactly"
    );
}

#[test]
fn recorded_from_the_tiny_set_in_the_repository() {
    common::assert_recorded_from_the_tiny_set(&meta(&fixtures()), "tests/fixtures/zimage-lora");
}
