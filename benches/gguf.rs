//! GGUF transformers on the CPU: load time and one transformer call for F32, Q8_0 and Q4_K
//! files in the community layout, with both execution choices (quantized matmul, dequantize
//! before use), on the tiny GGUF fixture's config and on a mid-size random one; and switching
//! LoRAs on a loaded model against loading it again.
//!
//! The files are written to a temp folder at start (random weights; the figures are timings).
//! Medians on the 2-core machine (shared), `cargo bench --bench gguf`: tiny step F32 14.5 ms,
//! Q8_0 126.7 / 14.7 ms (qmatmul / dequant), Q4_K 143.4 / 17.5 ms; mid step F32 160.8 ms, Q8_0
//! 305.7 / 322.0 ms, Q4_K 164.0 / 303.7 ms; mid load F32 368 ms, Q8_0 43 ms, Q4_K 11 ms; LoRA
//! switch 5.9 ms against a 63.8 ms reload of the Q8_0 transformer.

mod common;

use candle_core::quantized::{gguf_file, GgmlDType};
use candle_core::{DType, Device, Tensor};
use common::{short_group, write_random_gguf, CHOICES};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use zedit::engine::zimage::config::TransformerConfig;
use zedit::engine::zimage::lora;
use zedit::engine::zimage::transformer::source::load_transformer;
use zedit::engine::zimage::transformer::{QuantMode, Transformer};

fn config(dim: usize, n_layers: usize) -> TransformerConfig {
    let mut c = TransformerConfig::turbo();
    (
        c.dim,
        c.n_heads,
        c.n_layers,
        c.n_refiner_layers,
        c.cap_feat_dim,
    ) = (dim, dim / 128, n_layers, 1, 32);
    c
}

/// (community name, shape) of every tensor of a config.
fn tensors(c: &TransformerConfig) -> Vec<(String, Vec<usize>)> {
    let (d, f, a, hd) = (c.dim, c.ffn_dim(), c.adaln_dim(), c.head_dim());
    let mut v: Vec<(String, Vec<usize>)> = vec![
        ("t_embedder.mlp.0.weight".into(), vec![1024, 256]),
        ("t_embedder.mlp.0.bias".into(), vec![1024]),
        ("t_embedder.mlp.2.weight".into(), vec![a, 1024]),
        ("t_embedder.mlp.2.bias".into(), vec![a]),
        ("cap_embedder.0.weight".into(), vec![c.cap_feat_dim]),
        ("cap_embedder.1.weight".into(), vec![d, c.cap_feat_dim]),
        ("cap_embedder.1.bias".into(), vec![d]),
        ("x_embedder.weight".into(), vec![d, 64]),
        ("x_embedder.bias".into(), vec![d]),
        ("cap_pad_token".into(), vec![1, d]),
        ("x_pad_token".into(), vec![1, d]),
        ("final_layer.linear.weight".into(), vec![64, d]),
        ("final_layer.linear.bias".into(), vec![64]),
        ("final_layer.adaLN_modulation.1.weight".into(), vec![d, a]),
        ("final_layer.adaLN_modulation.1.bias".into(), vec![d]),
    ];
    let mut blocks = vec![
        ("noise_refiner.0".to_string(), true),
        ("context_refiner.0".into(), false),
    ];
    blocks.extend((0..c.n_layers).map(|i| (format!("layers.{i}"), true)));
    for (b, modulated) in blocks {
        let mut add = |n: &str, s: Vec<usize>| v.push((format!("{b}.{n}"), s));
        add("attention.qkv.weight", vec![3 * d, d]);
        add("attention.out.weight", vec![d, d]);
        add("attention.q_norm.weight", vec![hd]);
        add("attention.k_norm.weight", vec![hd]);
        for n in [
            "attention_norm1",
            "attention_norm2",
            "ffn_norm1",
            "ffn_norm2",
        ] {
            add(&format!("{n}.weight"), vec![d]);
        }
        add("feed_forward.w1.weight", vec![f, d]);
        add("feed_forward.w2.weight", vec![d, f]);
        add("feed_forward.w3.weight", vec![f, d]);
        if modulated {
            add("adaLN_modulation.0.weight", vec![4 * d, a]);
            add("adaLN_modulation.0.bias", vec![4 * d]);
        }
    }
    v
}

/// A model folder with a random GGUF transformer: 2-D tensors whose rows fit `ty`'s block get
/// it, the rest stay F32.
fn write_folder(root: &Path, c: &TransformerConfig, ty: GgmlDType) -> PathBuf {
    let dir = root.join(format!("{}-{ty:?}", c.dim));
    std::fs::create_dir_all(dir.join("transformer")).unwrap_or_else(|e| panic!("{e}"));
    let arch = gguf_file::Value::String("lumina2".into());
    write_random_gguf(
        &dir.join("transformer/model.gguf"),
        &[("general.architecture", arch)],
        tensors(c),
        ty,
    );
    dir
}

fn step(t: &Transformer, lat: usize) -> Tensor {
    let x =
        Tensor::randn(0f32, 1.0, (16, lat, lat), &Device::Cpu).unwrap_or_else(|e| panic!("{e}"));
    let cap = Tensor::randn(0f32, 1.0, (20, 32), &Device::Cpu).unwrap_or_else(|e| panic!("{e}"));
    let cap = t.caption(&cap).unwrap_or_else(|e| panic!("{e}"));
    t.forward(&x, 0.5, &cap).unwrap_or_else(|e| panic!("{e}"))
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // (label, config, latent side): tiny = the GGUF fixture's config at 64x64 pixels; mid =
    // dim 768, 4 layers at 128x128.
    for (label, cfg, lat) in [("tiny", config(256, 2), 8), ("mid", config(768, 4), 16)] {
        let mut g = short_group(c, format!("gguf {label}"));
        let mut dirs = HashMap::new();
        for (ty, mode) in CHOICES {
            let dir = dirs
                .entry(ty)
                .or_insert_with(|| write_folder(tmp.path(), &cfg, ty))
                .clone();
            let id = format!("{ty:?} {}", mode.name());
            g.bench_with_input(BenchmarkId::new("load", &id), &dir, |b, dir| {
                b.iter(|| load_transformer(dir, &Device::Cpu, DType::F32, mode))
            });
            let t = load_transformer(&dir, &Device::Cpu, DType::F32, mode)
                .unwrap_or_else(|e| panic!("{e}"));
            g.bench_with_input(BenchmarkId::new("step", &id), &t, |b, t| {
                b.iter(|| step(t, lat))
            });
        }
        g.finish();
        if label == "mid" {
            lora_switch(c, &cfg, &dirs[&GgmlDType::Q8_0], tmp.path());
        }
    }
}

/// A rank-16 kohya LoRA on every attention and FFN linear of `cfg`.
fn write_lora(cfg: &TransformerConfig, path: &Path, seed: f64) {
    let (d, f) = (cfg.dim, cfg.ffn_dim());
    let mut m = HashMap::new();
    let mut blocks = vec!["noise_refiner_0".to_string(), "context_refiner_0".into()];
    blocks.extend((0..cfg.n_layers).map(|i| format!("layers_{i}")));
    for b in blocks {
        for (n, o, i) in [
            ("attention_to_q", d, d),
            ("attention_to_k", d, d),
            ("attention_to_v", d, d),
            ("attention_to_out_0", d, d),
            ("feed_forward_w1", f, d),
            ("feed_forward_w2", d, f),
            ("feed_forward_w3", f, d),
        ] {
            let k = format!("lora_unet_{b}_{n}");
            let r = |s: (usize, usize)| {
                (Tensor::randn(0f32, 0.01, s, &Device::Cpu).unwrap_or_else(|e| panic!("{e}"))
                    + seed)
                    .unwrap_or_else(|e| panic!("{e}"))
            };
            m.insert(format!("{k}.lora_down.weight"), r((16, i)));
            m.insert(format!("{k}.lora_up.weight"), r((o, 16)));
        }
    }
    candle_core::safetensors::save(&m, path).unwrap_or_else(|e| panic!("{e}"));
}

fn lora_switch(c: &mut Criterion, cfg: &TransformerConfig, dir: &Path, tmp: &Path) {
    let (a, b) = (tmp.join("a.safetensors"), tmp.join("b.safetensors"));
    write_lora(cfg, &a, 0.0);
    write_lora(cfg, &b, 0.001);
    let mut t = load_transformer(dir, &Device::Cpu, DType::F32, QuantMode::MatMul)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut g = short_group(c, "lora mid Q8_0".into());
    let mut flip = false;
    g.bench_function("switch (read + apply)", |bench| {
        bench.iter(|| {
            flip = !flip;
            let f = lora::read(if flip { &a } else { &b }, cfg).unwrap_or_else(|e| panic!("{e}"));
            lora::apply(&mut t, &[(&f, 0.8)]).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    g.bench_function("full reload", |bench| {
        bench.iter(|| load_transformer(dir, &Device::Cpu, DType::F32, QuantMode::MatMul))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
