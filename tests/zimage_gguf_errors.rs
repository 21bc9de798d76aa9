//! Bad GGUF transformers are refused with the file and the tensor at fault: truncated, a type
//! zedit cannot read, another architecture, another layout, shapes of another config.
#![cfg(feature = "zimage")]

mod common;

use common::gguf::{hand_gguf, write_file};
use std::path::{Path, PathBuf};
use zedit::engine::zimage::gguf::GgufWeights;
use zedit::engine::zimage::transformer::{QuantMode, Source, Transformer};

fn fixture(label: &str) -> PathBuf {
    common::gguf::gguf_fixtures().join(format!("z_image_tiny-{label}.gguf"))
}

fn open_err(path: &Path) -> String {
    GgufWeights::open(path).unwrap_err().to_string()
}

#[test]
fn a_truncated_file_names_the_first_tensor_cut_off() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("Q8_0")).unwrap();
    let p = write_file(tmp.path(), "cut.gguf", &bytes[..bytes.len() / 2]);
    let e = open_err(&p);
    assert!(e.contains("cut.gguf") && e.contains("truncated"), "{e}");
    assert!(e.contains("tensor '"), "names a tensor: {e}");
    // Cut inside the header: still the file's name and what happened.
    let p = write_file(tmp.path(), "stub.gguf", &bytes[..100]);
    let e = open_err(&p);
    assert!(e.contains("stub.gguf") && e.contains("truncated"), "{e}");
}

#[test]
fn an_unknown_quant_type_names_the_tensor_and_the_type() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = hand_gguf(
        Some("lumina2"),
        &[
            ("cap_embedder.1.weight", &[64, 32], 0),
            ("layers.0.attention.qkv.weight", &[192, 64], 99),
        ],
    );
    let e = open_err(&write_file(tmp.path(), "odd.gguf", &bytes));
    assert!(e.contains("odd.gguf"), "{e}");
    assert!(
        e.contains("'layers.0.attention.qkv.weight'") && e.contains("type 99"),
        "{e}"
    );
}

#[test]
fn another_architecture_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = hand_gguf(
        Some("flux"),
        &[("double_blocks.0.img_attn.proj.weight", &[64, 64], 0)],
    );
    let e = open_err(&write_file(tmp.path(), "flux.gguf", &bytes));
    assert!(
        e.contains("flux.gguf") && e.contains("architecture 'flux'"),
        "{e}"
    );
    // No architecture at all, and names of another model: the missing tensor is named.
    let bytes = hand_gguf(None, &[("blk.0.attn_q.weight", &[64, 64], 0)]);
    let e = open_err(&write_file(tmp.path(), "llm.gguf", &bytes));
    assert!(
        e.contains("llm.gguf") && e.contains("'cap_embedder.1.weight'"),
        "{e}"
    );
    assert!(
        e.contains("blk.0.attn_q.weight"),
        "shows what the file holds: {e}"
    );
}

#[test]
fn shapes_of_another_config_name_the_tensor() {
    let file = GgufWeights::open(&fixture("Q4_K")).unwrap();
    let mut cfg = file.infer_config().unwrap();
    cfg.cap_feat_dim = 24;
    let src = Source::Gguf {
        file: &file,
        mode: QuantMode::MatMul,
        device: candle_core::Device::Cpu,
        dtype: candle_core::DType::F32,
    };
    let e = Transformer::load(&src, &cfg).err().unwrap().to_string();
    assert!(e.contains("z_image_tiny-Q4_K.gguf"), "{e}");
    assert!(
        e.contains("'cap_embedder.0.weight'") && e.contains("[24]"),
        "{e}"
    );
}

#[test]
fn a_bad_execution_choice_is_named() {
    std::env::set_var("ZEDIT_GGUF_EXEC", "fast");
    let e = QuantMode::from_env().unwrap_err();
    std::env::remove_var("ZEDIT_GGUF_EXEC");
    assert!(
        e.contains("ZEDIT_GGUF_EXEC=fast") && e.contains("dequant"),
        "{e}"
    );
    assert_eq!(QuantMode::parse("dequant"), Some(QuantMode::Dequantize));
    assert_eq!(QuantMode::parse("qmatmul"), Some(QuantMode::MatMul));
}
