//! GGUF Qwen3 text encoders in llama.cpp's layout (tests/fixtures/zimage-gguf-te, made by
//! scripts/make_gguf_text_encoder_fixtures.py): every file, both execution choices, held to
//! transformers' f32 hidden_states[-2] and to transformers run on the file's own dequantized
//! weights; split shards of the text encoder and of the transformer load as one file.
#![cfg(feature = "zimage")]

use crate::common;

use candle_core::{DType, Device, Tensor};
use common::golden::max_diff;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use zedit::engine::zimage::gguf::GgufWeights;
use zedit::engine::zimage::gguf_files::GgufTensors;
use zedit::engine::zimage::text_encoder::TextEncoder;
use zedit::engine::zimage::text_encoder_gguf::GgufTextEncoder;
use zedit::engine::zimage::transformer::{QuantMode, Source, Transformer};

fn fixtures() -> PathBuf {
    common::gguf::gguf_te_fixtures()
}

fn meta() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("meta.json")).unwrap()).unwrap()
}

fn reference() -> HashMap<String, Tensor> {
    candle_core::safetensors::load(fixtures().join("reference.safetensors"), &Device::Cpu).unwrap()
}

fn ids(r: &HashMap<String, Tensor>, enc: &str, i: usize) -> Vec<u32> {
    let v: Vec<i64> = r[&format!("{enc}.ids.{i}")].to_vec1().unwrap();
    v.into_iter().map(|x| x as u32).collect()
}

fn encoder(file: &str, mode: QuantMode) -> TextEncoder {
    let f = GgufTextEncoder::open(&fixtures().join(file)).unwrap();
    let cfg = f.config().unwrap();
    TextEncoder::load_gguf(&f, &cfg, &Device::Cpu, DType::F32, mode).unwrap()
}

/// Every labelled file of the fixture: (encoder, label, its first file).
fn files() -> Vec<(String, String, String)> {
    let m = meta();
    let mut v: Vec<(String, String, String)> = m["files"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.contains("shards"))
        .map(|(k, f)| {
            let (enc, label) = k.split_once('-').unwrap();
            let file = f["files"][0].as_str().unwrap().to_string();
            (enc.to_string(), label.to_string(), file)
        })
        .collect();
    v.sort();
    assert_eq!(
        v.len(),
        5,
        "tiny Q8_0 and mixed, wide Q8_0, Q4_K and mixed: {v:?}"
    );
    v
}

/// Worst |encoder(ids) − `<enc>.<what>.i`| over the encoder's cases.
fn worst(e: &TextEncoder, r: &HashMap<String, Tensor>, enc: &str, what: &str) -> f32 {
    let cases = meta()["cases"][enc].as_array().unwrap().len();
    (0..cases)
        .map(|i| {
            let out = e.encode(&ids(r, enc, i)).unwrap();
            max_diff(&out, &r[&format!("{enc}.{what}.{i}")])
        })
        .fold(0.0, f32::max)
}

/// Tolerances against the f32 encoder, per file and execution choice (measured, then rounded
/// up by about a third). The tiny encoder's hidden states reach |0.08|, the wide one's |0.49|.
fn tolerance(enc: &str, label: &str, mode: QuantMode) -> f32 {
    match (enc, label, mode) {
        ("tiny", "Q8_0", QuantMode::Dequantize) => 1e-3,
        ("tiny", "Q8_0", QuantMode::MatMul) => 1.2e-3,
        ("tiny", "mixed", QuantMode::Dequantize) => 7e-3,
        ("tiny", "mixed", QuantMode::MatMul) => 7e-3,
        ("wide", "Q8_0", QuantMode::Dequantize) => 8e-3,
        ("wide", "Q8_0", QuantMode::MatMul) => 1.2e-2,
        ("wide", "Q4_K", QuantMode::Dequantize) => 1.2e-1,
        ("wide", "Q4_K", QuantMode::MatMul) => 1.2e-1,
        ("wide", "mixed", QuantMode::Dequantize) => 9e-2,
        ("wide", "mixed", QuantMode::MatMul) => 9e-2,
        _ => panic!("no tolerance for {enc} {label}"),
    }
}

#[test]
fn dequantized_weights_match_transformers_on_the_same_weights() {
    let r = reference();
    for (enc, label, file) in files() {
        let e = encoder(&file, QuantMode::Dequantize);
        let d = worst(&e, &r, &enc, &format!("dequant.{label}"));
        println!("{enc} {label} dequant vs transformers on the dequantized weights: {d:.2e}");
        assert!(d <= 1e-5, "{enc} {label}: {d}");
    }
}

#[test]
fn every_file_and_choice_is_near_the_f32_encoder() {
    let r = reference();
    for (enc, label, file) in files() {
        let mut outs = Vec::new();
        for mode in [QuantMode::Dequantize, QuantMode::MatMul] {
            let e = encoder(&file, mode);
            let d = worst(&e, &r, &enc, "f32");
            let tol = tolerance(&enc, &label, mode);
            println!(
                "{enc} {label} {}: max|out - f32| {d:.3e} (tolerance {tol:.1e})",
                mode.name()
            );
            assert!(d <= tol, "{enc} {label} {}: {d} > {tol}", mode.name());
            outs.push(e.encode(&ids(&r, &enc, 0)).unwrap());
        }
        let between = max_diff(&outs[0], &outs[1]);
        println!("{enc} {label}: qmatmul vs dequant {between:.3e}");
        assert!(
            between > 0.0,
            "{enc} {label}: the matmul quantizes activations"
        );
    }
}

#[test]
fn the_tiny_references_are_the_tiny_sets_prompt_embeddings() {
    let r = reference();
    let set = common::recorded_fixtures().join("fixtures");
    for (i, case) in ["t2i", "img2img"].iter().enumerate() {
        let t = candle_core::safetensors::load(
            set.join(case).join("tensors.safetensors"),
            &Device::Cpu,
        )
        .unwrap();
        let n = ids(&r, "tiny", i).len();
        let want = t["text_encoder.0.hidden_states_m2"]
            .squeeze(0)
            .unwrap()
            .narrow(0, 0, n)
            .unwrap();
        let all: Vec<i64> = t["text_encoder.0.input_ids"]
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let got: Vec<u32> = all[..n].iter().map(|&x| x as u32).collect();
        assert_eq!(got, ids(&r, "tiny", i), "{case}: the same prompt ids");
        assert!(max_diff(&r[&format!("tiny.f32.{i}")], &want) <= 1e-6);
        let e = encoder("qwen3_tiny-Q8_0.gguf", QuantMode::Dequantize);
        let d = max_diff(&e.encode(&got).unwrap(), &want);
        assert!(
            d <= tolerance("tiny", "Q8_0", QuantMode::Dequantize),
            "{case}: {d}"
        );
    }
}

#[test]
fn the_config_comes_from_the_metadata() {
    let f = GgufTextEncoder::open(&fixtures().join("qwen3_tiny-Q8_0.gguf")).unwrap();
    let c = f.config().unwrap();
    let te: Value = serde_json::from_str(
        &std::fs::read_to_string(
            common::recorded_fixtures().join("tiny-zimage/text_encoder/config.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let n = |k: &str| te[k].as_u64().unwrap() as usize;
    assert_eq!(c.vocab_size, n("vocab_size"));
    assert_eq!(c.hidden_size, n("hidden_size"));
    assert_eq!(c.intermediate_size, n("intermediate_size"));
    assert_eq!(c.num_hidden_layers, n("num_hidden_layers"));
    assert_eq!(c.num_attention_heads, n("num_attention_heads"));
    assert_eq!(c.num_key_value_heads, n("num_key_value_heads"));
    assert_eq!(c.head_dim(), n("head_dim"));
    assert_eq!(c.theta(), 1e6);
    assert!((c.rms_norm_eps - 1e-6).abs() < 1e-12);
    let types = f.files().type_counts();
    let listed = meta()["files"]["tiny-Q8_0"]["types"].clone();
    let listed = |ty: &str| {
        listed
            .as_object()
            .unwrap()
            .values()
            .filter(|t| *t == ty)
            .count()
    };
    assert!(
        listed("Q8_0") >= 8,
        "the fixture lists too few Q8_0 tensors"
    );
    assert_eq!(types.get("Q8_0"), Some(&listed("Q8_0")), "{types:?}");
    assert_eq!(types.get("F16"), Some(&listed("F16")), "{types:?}");
}

fn shard_files(meta_key: &str) -> Vec<String> {
    meta()["files"][meta_key]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn split_text_encoder_shards_load_as_one_file() {
    let shards = shard_files("tiny-Q8_0-shards");
    assert_eq!(shards.len(), 3);
    let r = reference();
    let whole = encoder("qwen3_tiny-Q8_0.gguf", QuantMode::MatMul);
    let split = encoder(&shards[0], QuantMode::MatMul);
    for i in 0..3 {
        let a = whole.encode(&ids(&r, "tiny", i)).unwrap();
        let b = split.encode(&ids(&r, "tiny", i)).unwrap();
        assert_eq!(max_diff(&a, &b), 0.0, "case {i}");
    }
    let f = GgufTextEncoder::open(&fixtures().join(&shards[0])).unwrap();
    assert_eq!(f.files().paths().len(), 3);
}

#[test]
fn split_transformer_shards_load_as_one_file() {
    let shards = shard_files("transformer-Q4_K-shards");
    let load = |p: PathBuf| {
        let file = GgufWeights::open(&p).unwrap();
        let cfg = file.infer_config().unwrap();
        let src = Source::Gguf {
            file: &file,
            mode: QuantMode::Dequantize,
            device: Device::Cpu,
            dtype: DType::F32,
        };
        Transformer::load(&src, &cfg).unwrap()
    };
    let whole = load(common::gguf::gguf_fixtures().join("z_image_tiny-Q4_K.gguf"));
    let split = load(fixtures().join(&shards[0]));
    let r = candle_core::safetensors::load(
        common::gguf::gguf_fixtures().join("reference.safetensors"),
        &Device::Cpu,
    )
    .unwrap();
    let a = common::gguf::outputs(&whole, &r, 2);
    let b = common::gguf::outputs(&split, &r, 2);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(max_diff(x, y), 0.0);
    }
}

#[test]
fn a_missing_shard_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    for key in ["tiny-Q8_0-shards", "transformer-Q4_K-shards"] {
        let shards = shard_files(key);
        for s in &shards {
            std::fs::copy(fixtures().join(s), tmp.path().join(s)).unwrap();
        }
        std::fs::remove_file(tmp.path().join(&shards[1])).unwrap();
        let first = tmp.path().join(&shards[0]);
        let e = if key.starts_with("tiny") {
            GgufTextEncoder::open(&first).err().unwrap().to_string()
        } else {
            GgufWeights::open(&first).unwrap_err().to_string()
        };
        assert!(e.contains(&shards[1]) && e.contains("missing"), "{e}");
        assert!(e.contains("2 of 3"), "{e}");
        // A truncated later shard is named with the tensor it cuts off.
        let bytes = std::fs::read(fixtures().join(&shards[2])).unwrap();
        std::fs::copy(fixtures().join(&shards[1]), tmp.path().join(&shards[1])).unwrap();
        std::fs::write(tmp.path().join(&shards[2]), &bytes[..bytes.len() - 64]).unwrap();
        // (The shards are read and checked before anything else, whichever model they hold.)
        let e = match GgufTextEncoder::open(&first) {
            Ok(_) => panic!("a truncated shard opened"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(&shards[2]) && e.contains("truncated"), "{e}");
        assert!(e.contains("tensor '"), "{e}");
        std::fs::remove_file(tmp.path().join(&shards[1])).unwrap();
        // The second shard alone is not taken for the model.
        std::fs::copy(fixtures().join(&shards[1]), tmp.path().join(&shards[1])).unwrap();
        let e = match GgufTextEncoder::open(&tmp.path().join(&shards[1])) {
            Ok(_) => panic!("a later shard opened alone"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(&shards[1]), "{e}");
    }
}

#[test]
fn recorded_from_the_tiny_set_in_the_repository() {
    common::assert_recorded_from_the_tiny_set(&meta(), "tests/fixtures/zimage-gguf-te");
}
