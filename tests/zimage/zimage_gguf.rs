//! GGUF transformers in the community layout (tests/fixtures/zimage-gguf, made by
//! scripts/make_gguf_fixtures.py): every file, both execution choices, held to diffusers' f32
//! output and to diffusers run on the file's own dequantized weights; and a model folder with
//! a `.gguf` transformer end to end.
#![cfg(feature = "zimage")]

use crate::common;

use common::gguf::worst;
use common::golden::max_diff;

/// The transformer's output for every recorded call.
fn outputs(t: &Transformer, r: &HashMap<String, Tensor>) -> Vec<Tensor> {
    common::gguf::outputs(t, r, meta()["calls"].as_array().unwrap().len())
}

use candle_core::{DType, Device, Tensor};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use zedit::engine::zimage::gguf::GgufWeights;
use zedit::engine::zimage::gguf_files::GgufTensors;
use zedit::engine::zimage::transformer::{QuantMode, Source, Transformer};

fn fixtures() -> PathBuf {
    common::gguf::gguf_fixtures()
}

fn meta() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("meta.json")).unwrap()).unwrap()
}

fn reference() -> HashMap<String, Tensor> {
    candle_core::safetensors::load(fixtures().join("reference.safetensors"), &Device::Cpu).unwrap()
}

/// The files the fixture lists, by label (Q8_0, Q4_K, mixed).
fn files() -> Vec<(String, PathBuf)> {
    let m = meta();
    let mut v: Vec<(String, PathBuf)> = m["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, f)| (k.clone(), fixtures().join(f["file"].as_str().unwrap())))
        .collect();
    v.sort();
    assert_eq!(v.len(), 3, "the fixture lists Q8_0, Q4_K and mixed");
    v
}

fn load(path: &Path, mode: QuantMode) -> Transformer {
    let file = GgufWeights::open(path).unwrap();
    let cfg = file.infer_config().unwrap();
    let src = Source::Gguf {
        file: &file,
        mode,
        device: Device::Cpu,
        dtype: DType::F32,
    };
    Transformer::load(&src, &cfg).unwrap()
}

/// Tolerances against the f32 model, per file and execution choice (measured, then rounded up
/// by about a third; the outputs reach |1.9|). The dequantize choice reaches what the file's
/// weights allow; quantized matmul adds its 8-bit activations (Q8_K blocks for K-quant weights).
fn tolerance(label: &str, mode: QuantMode) -> f32 {
    match (label, mode) {
        ("Q8_0", QuantMode::Dequantize) => 5e-3,
        ("Q8_0", QuantMode::MatMul) => 1e-2,
        ("Q4_K", QuantMode::Dequantize) => 8e-2,
        ("Q4_K", QuantMode::MatMul) => 8e-2,
        ("mixed", QuantMode::Dequantize) => 2e-1,
        ("mixed", QuantMode::MatMul) => 2e-1,
        _ => panic!("no tolerance for {label}"),
    }
}

#[test]
fn dequantized_weights_match_diffusers_on_the_same_weights() {
    let r = reference();
    for (label, path) in files() {
        let t = load(&path, QuantMode::Dequantize);
        let d = worst(&outputs(&t, &r), &r, &format!("out_dequant.{label}"));
        println!("{label} dequant vs diffusers on the dequantized weights: {d:.2e}");
        assert!(d <= 1e-4, "{label}: {d}");
    }
}

#[test]
fn every_file_and_choice_is_near_the_f32_model() {
    let r = reference();
    for (label, path) in files() {
        let mut outs = Vec::new();
        for mode in [QuantMode::Dequantize, QuantMode::MatMul] {
            let o = outputs(&load(&path, mode), &r);
            let d = worst(&o, &r, "out_f32");
            let tol = tolerance(&label, mode);
            println!(
                "{label} {}: max|out - f32| {d:.3e} (tolerance {tol:.1e})",
                mode.name()
            );
            assert!(d <= tol, "{label} {}: {d} > {tol}", mode.name());
            outs.push(o);
        }
        // The two choices differ (the matmul quantizes activations), but not by more than the
        // quantization itself does.
        let between = outs[0]
            .iter()
            .zip(&outs[1])
            .map(|(a, b)| max_diff(a, b))
            .fold(0.0, f32::max);
        println!("{label}: qmatmul vs dequant {between:.3e}");
        assert!(between > 0.0 && between <= tolerance(&label, QuantMode::MatMul));
    }
}

#[test]
fn the_mixed_file_holds_every_type_and_the_prefix() {
    let (_, path) = files().into_iter().find(|(l, _)| l == "mixed").unwrap();
    let counts = GgufWeights::open(&path).unwrap().files().type_counts();
    for t in ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4K", "Q5K"] {
        assert!(counts.contains_key(t), "{t} missing from {counts:?}");
    }
    let m = meta();
    let prefix = m["prefix_of_mixed"].as_str().unwrap();
    assert!(m["files"]["mixed"]["types"]
        .as_object()
        .unwrap()
        .keys()
        .all(|k| k.starts_with(prefix)));
}

#[test]
fn the_inferred_config_is_the_generators() {
    let m = meta();
    let c = &m["config"];
    for (_, path) in files() {
        let cfg = GgufWeights::open(&path).unwrap().infer_config().unwrap();
        assert_eq!(cfg.dim as u64, c["dim"].as_u64().unwrap());
        assert_eq!(cfg.n_layers as u64, c["n_layers"].as_u64().unwrap());
        assert_eq!(
            cfg.n_refiner_layers as u64,
            c["n_refiner_layers"].as_u64().unwrap()
        );
        assert_eq!(cfg.n_heads as u64, c["n_heads"].as_u64().unwrap());
        assert_eq!(cfg.cap_feat_dim as u64, c["cap_feat_dim"].as_u64().unwrap());
    }
}

#[test]
fn a_gguf_model_folder_edits_end_to_end() {
    use zedit::core::{EditParams, Op};
    use zedit::engine::{self, EditRequest, EngineOptions, Flow};
    let dir = common::gguf::gguf_model_folder("Q8_0");
    assert!(zedit::engine::zimage::models::missing_files(dir.path()).is_empty());
    let opts = EngineOptions {
        name: "zimage".into(),
        model: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let mut e = engine::open(&opts).unwrap();
    let image = image::open(common::recorded_fixtures().join("fixtures/input.png"))
        .unwrap()
        .to_rgb8();
    let req = EditRequest {
        op: Op::Replace,
        instruction: "A small wooden boat on a calm lake at sunrise".into(),
        image: image.clone(),
        mask: None,
        overlay: None,
        params: EditParams {
            strength: 0.75,
            steps: 4,
            seed: 3,
            ..Default::default()
        },
        recipe: None,
    };
    let mut steps = 0;
    let a = e
        .run(&req, &mut |_| {
            steps += 1;
            Flow::Continue
        })
        .unwrap();
    let b = e.run(&req, &mut |_| Flow::Continue).unwrap();
    assert_eq!(steps, 3);
    assert_eq!(a.dimensions(), image.dimensions());
    assert_eq!(a, b, "seeded runs of a GGUF model repeat exactly");
    assert_ne!(a, image);
}
