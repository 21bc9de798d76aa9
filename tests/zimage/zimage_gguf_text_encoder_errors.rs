//! Bad GGUF text encoders are refused with the file and the tensor at fault: truncated, a type
//! zedit cannot read, another architecture, shapes of another config; and through the CLI,
//! before anything is recorded.
#![cfg(feature = "zimage")]

use crate::common;

use common::gguf::{hand_gguf, write_file};
use std::path::{Path, PathBuf};
use zedit::engine::zimage::text_encoder::TextEncoder;
use zedit::engine::zimage::text_encoder_gguf::GgufTextEncoder;
use zedit::engine::zimage::transformer::QuantMode;

fn fixture(name: &str) -> PathBuf {
    common::gguf::gguf_te_fixtures().join(name)
}

fn open_err(path: &Path) -> String {
    match GgufTextEncoder::open(path) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e.to_string(),
    }
}

/// A qwen3 GGUF with only `token_embd` (F32) and layer 0's `attn_q` of type id `q_type`.
fn embedding_and_q(q_type: u32) -> Vec<u8> {
    hand_gguf(
        Some("qwen3"),
        &[
            ("token_embd.weight", &[512, 32], 0),
            ("blk.0.attn_q.weight", &[64, 32], q_type),
        ],
    )
}

#[test]
fn a_truncated_file_names_the_tensor_cut_off() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("qwen3_wide-Q4_K.gguf")).unwrap();
    let e = open_err(&write_file(
        tmp.path(),
        "cut.gguf",
        &bytes[..bytes.len() / 2],
    ));
    assert!(e.contains("cut.gguf") && e.contains("truncated"), "{e}");
    assert!(e.contains("tensor '"), "names a tensor: {e}");
}

#[test]
fn an_unknown_quant_type_names_the_tensor_and_the_type() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = embedding_and_q(41);
    let e = open_err(&write_file(tmp.path(), "odd.gguf", &bytes));
    assert!(e.contains("odd.gguf"), "{e}");
    assert!(
        e.contains("'blk.0.attn_q.weight'") && e.contains("type 41"),
        "{e}"
    );
}

#[test]
fn another_architecture_is_refused_by_name() {
    let e = open_err(&common::gguf::gguf_fixtures().join("z_image_tiny-Q8_0.gguf"));
    assert!(
        e.contains("z_image_tiny-Q8_0.gguf") && e.contains("architecture 'lumina2'"),
        "{e}"
    );
    // A qwen2 file (no q/k norms) is not taken for Qwen3.
    let tmp = tempfile::tempdir().unwrap();
    let bytes = embedding_and_q(0);
    let e = open_err(&write_file(tmp.path(), "qwen2.gguf", &bytes));
    assert!(e.contains("'blk.0.attn_q_norm.weight'"), "{e}");
}

#[test]
fn shapes_of_another_config_name_the_tensor() {
    let f = GgufTextEncoder::open(&fixture("qwen3_tiny-Q8_0.gguf")).unwrap();
    let mut cfg = f.config().unwrap();
    cfg.intermediate_size += 32;
    let wrong = format!("[{}, {}]", cfg.intermediate_size, cfg.hidden_size);
    let e = match TextEncoder::load_gguf(
        &f,
        &cfg,
        &candle_core::Device::Cpu,
        candle_core::DType::F32,
        QuantMode::MatMul,
    ) {
        Ok(_) => panic!("loaded with the wrong config"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("qwen3_tiny-Q8_0.gguf"), "{e}");
    assert!(
        e.contains("'blk.0.ffn_gate.weight'") && e.contains(&wrong),
        "{e}"
    );
}

#[test]
fn the_cli_names_a_bad_text_encoder_and_records_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let model = common::gguf::gguf_model_folder_with_text("Q8_0", &["qwen3_wide-Q8_0.gguf"]);
    common::new_session(root, "s");
    let out = common::zedit(root)
        .args(["edit", "s", "a red boat", "--engine", "zimage", "--local"])
        .args(["--steps", "2", "--seed", "1", "--no-plan", "--model"])
        .arg(model.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    // The wide encoder's width (256) is not the transformer's caption width (32).
    let e = common::stderr_of(&out);
    assert!(
        e.contains("hidden_size 256") && e.contains("cap_feat_dim 32"),
        "{e}"
    );
    assert!(common::steps_of(root, "s").is_empty());
}
