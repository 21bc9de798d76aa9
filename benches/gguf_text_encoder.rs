//! GGUF Qwen3 text encoders on the CPU: load time and one prompt encoding (64 tokens) for F32,
//! Q8_0 and Q4_K files in llama.cpp's layout, with both execution choices (quantized matmul,
//! dequantize before use), on the tiny fixture's config and on a mid-size random one.
//!
//! The files are written to a temp folder at start (random weights; the figures are timings).
//! Medians on the 2-core machine (shared, so noisy), `cargo bench --profile dev --bench
//! gguf_text_encoder` (dependencies at opt-level 2): tiny encode F32 2.8 ms, Q8_0 5.7 / 2.5 ms
//! (qmatmul / dequant); mid encode F32 132 ms, Q8_0 219 / 165 ms, Q4_K 195 / 165 ms; mid load
//! F32 169 ms, Q8_0 11.5 / 9.2 ms, Q4_K 5.0 / 5.2 ms.

mod common;

use candle_core::quantized::{gguf_file, GgmlDType};
use candle_core::{DType, Device};
use common::{short_group, write_random_gguf, CHOICES};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use zedit::engine::zimage::config::TextEncoderConfig;
use zedit::engine::zimage::text_encoder::TextEncoder;

fn config(
    hidden: usize,
    inter: usize,
    layers: usize,
    heads: (usize, usize),
    hd: usize,
    vocab: usize,
) -> TextEncoderConfig {
    let mut c = TextEncoderConfig::qwen3_4b();
    c.hidden_size = hidden;
    c.intermediate_size = inter;
    c.num_hidden_layers = layers;
    (c.num_attention_heads, c.num_key_value_heads) = heads;
    c.head_dim = Some(hd);
    c.vocab_size = vocab;
    c
}

/// (llama.cpp name, shape) of every tensor of a config.
fn tensors(c: &TextEncoderConfig) -> Vec<(String, Vec<usize>)> {
    let (h, hd, f) = (c.hidden_size, c.head_dim(), c.intermediate_size);
    let (q, kv) = (c.num_attention_heads * hd, c.num_key_value_heads * hd);
    let mut v = vec![
        ("token_embd.weight".to_string(), vec![c.vocab_size, h]),
        ("output_norm.weight".into(), vec![h]),
    ];
    for i in 0..c.num_hidden_layers {
        for (n, s) in [
            ("attn_norm", vec![h]),
            ("ffn_norm", vec![h]),
            ("attn_q_norm", vec![hd]),
            ("attn_k_norm", vec![hd]),
            ("attn_q", vec![q, h]),
            ("attn_k", vec![kv, h]),
            ("attn_v", vec![kv, h]),
            ("attn_output", vec![h, q]),
            ("ffn_gate", vec![f, h]),
            ("ffn_up", vec![f, h]),
            ("ffn_down", vec![h, f]),
        ] {
            v.push((format!("blk.{i}.{n}.weight"), s));
        }
    }
    v
}

/// A model folder whose `text_encoder/` holds a random GGUF: 2-D tensors whose rows fit `ty`'s
/// block get it, the rest stay F32.
fn write_folder(root: &Path, c: &TextEncoderConfig, ty: GgmlDType) -> PathBuf {
    let dir = root.join(format!("{}-{ty:?}", c.hidden_size));
    std::fs::create_dir_all(dir.join("text_encoder")).unwrap_or_else(|e| panic!("{e}"));
    let u = |n: usize| gguf_file::Value::U32(n as u32);
    let meta = [
        (
            "general.architecture",
            gguf_file::Value::String("qwen3".into()),
        ),
        ("qwen3.embedding_length", u(c.hidden_size)),
        ("qwen3.block_count", u(c.num_hidden_layers)),
        ("qwen3.feed_forward_length", u(c.intermediate_size)),
        ("qwen3.attention.head_count", u(c.num_attention_heads)),
        ("qwen3.attention.head_count_kv", u(c.num_key_value_heads)),
        ("qwen3.attention.key_length", u(c.head_dim())),
        (
            "qwen3.attention.layer_norm_rms_epsilon",
            gguf_file::Value::F32(1e-6),
        ),
        ("qwen3.rope.freq_base", gguf_file::Value::F32(1e6)),
    ];
    write_random_gguf(&dir.join("text_encoder/model.gguf"), &meta, tensors(c), ty);
    dir
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // tiny = the shared fixture's encoder (no K-quant fits its rows: Q4_K stays F32 there);
    // mid = hidden 768, 4 layers of 6 heads of 128 (2 kv), FFN 2048, vocab 8192.
    let tiny = config(32, 64, 3, (4, 2), 16, 512);
    let mid = config(768, 2048, 4, (6, 2), 128, 8192);
    let ids: Vec<u32> = (0..64u32).map(|i| (i * 37) % 512).collect();
    for (label, cfg) in [("tiny", tiny), ("mid", mid)] {
        let mut g = short_group(c, format!("gguf text encoder {label}"));
        let mut dirs = HashMap::new();
        for (ty, mode) in CHOICES {
            if label == "tiny" && ty == GgmlDType::Q4K {
                continue;
            }
            let dir = dirs
                .entry(ty)
                .or_insert_with(|| write_folder(tmp.path(), &cfg, ty))
                .clone();
            let id = format!("{ty:?} {}", mode.name());
            let open = |dir: &Path| TextEncoder::open(dir, &cfg, &Device::Cpu, DType::F32, mode);
            g.bench_with_input(BenchmarkId::new("load", &id), &dir, |b, dir| {
                b.iter(|| open(dir).unwrap_or_else(|e| panic!("{e}")))
            });
            let te = open(&dir).unwrap_or_else(|e| panic!("{e}"));
            g.bench_with_input(BenchmarkId::new("encode 64", &id), &te, |b, te| {
                b.iter(|| te.encode(&ids).unwrap_or_else(|e| panic!("{e}")))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
