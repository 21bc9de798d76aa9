//! A model folder whose transformer and text encoder are both GGUF, through the CLI: an edit
//! runs and `replay --verify` reproduces it; `zedit models` lists the text encoder with its
//! size, types and expected memory; split shards of both give the same picture.
#![cfg(feature = "zimage")]

use crate::common;

use common::{new_session, stderr_of, stdout_of, zedit};
use std::path::Path;

fn edit(root: &Path, model: &Path, session: &str) -> std::process::Output {
    zedit(root)
        .args([
            "edit",
            session,
            "a red boat on a lake",
            "--engine",
            "zimage",
        ])
        .args([
            "--local",
            "--steps",
            "4",
            "--seed",
            "7",
            "--no-plan",
            "--model",
        ])
        .arg(model)
        .output()
        .unwrap()
}

#[test]
fn an_edit_with_a_gguf_transformer_and_text_encoder_replays() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let model = common::gguf::gguf_model_folder_with_text("Q8_0", &["qwen3_tiny-Q8_0.gguf"]);
    assert!(zedit::engine::zimage::models::missing_files(model.path()).is_empty());
    new_session(root, "s");
    let out = edit(root, model.path(), "s");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = zedit(root)
        .args(["replay", "s", "--verify", "--model"])
        .arg(model.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("all outputs identical"),
        "{}",
        stdout_of(&out)
    );

    // The same edit with the safetensors text encoder differs only by the quantization.
    let plain = common::gguf::gguf_model_folder("Q8_0");
    new_session(root, "t");
    let out = edit(root, plain.path(), "t");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let a = common::steps_of(root, "s")[0]["output"]["blake3"].clone();
    let b = common::steps_of(root, "t")[0]["output"]["blake3"].clone();
    assert_ne!(a, b, "the quantized text encoder is the one used");
}

#[test]
fn split_shards_of_both_give_the_same_picture() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let te = common::gguf::gguf_te_fixtures();
    let whole = common::gguf::gguf_model_folder_with_text("Q4_K", &["qwen3_tiny-Q8_0.gguf"]);
    let split = common::gguf::gguf_model_folder_with_text(
        "Q4_K",
        &[
            "qwen3_tiny-Q8_0-00001-of-00003.gguf",
            "qwen3_tiny-Q8_0-00002-of-00003.gguf",
            "qwen3_tiny-Q8_0-00003-of-00003.gguf",
        ],
    );
    let t = split.path().join("transformer");
    std::fs::remove_file(t.join("z_image_tiny-Q4_K.gguf")).unwrap();
    for i in 1..=3 {
        let name = format!("z_image_tiny-Q4_K-{i:05}-of-00003.gguf");
        std::fs::copy(te.join(&name), t.join(&name)).unwrap();
    }
    new_session(root, "a");
    new_session(root, "b");
    let out = edit(root, whole.path(), "a");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = edit(root, split.path(), "b");
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        common::steps_of(root, "a")[0]["output"]["blake3"],
        common::steps_of(root, "b")[0]["output"]["blake3"]
    );
    let out = zedit(root)
        .args(["models", "--json", "--model"])
        .arg(split.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["components"][0]["files"].as_array().unwrap().len(), 3);
    assert_eq!(v["components"][1]["files"].as_array().unwrap().len(), 3);

    // A missing shard is named, and nothing is recorded.
    std::fs::remove_file(t.join("z_image_tiny-Q4_K-00003-of-00003.gguf")).unwrap();
    let out = edit(root, split.path(), "b");
    assert!(!out.status.success());
    let e = stderr_of(&out);
    assert!(
        e.contains("z_image_tiny-Q4_K-00003-of-00003.gguf") && e.contains("missing"),
        "{e}"
    );
    assert_eq!(common::steps_of(root, "b").len(), 1);
}

#[test]
fn models_lists_a_gguf_text_encoder_with_size_and_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let model = common::gguf::gguf_model_folder_with_text("Q8_0", &["qwen3_tiny-mixed.gguf"]);
    let out = zedit(tmp.path())
        .args(["models", "--json", "--model"])
        .arg(model.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let te = &v["components"][1];
    assert_eq!(te["name"], "text_encoder");
    assert_eq!(te["format"], "gguf");
    let size = std::fs::metadata(common::gguf::gguf_te_fixtures().join("qwen3_tiny-mixed.gguf"))
        .unwrap()
        .len();
    assert_eq!(te["bytes"].as_u64().unwrap(), size);
    for t in ["Q8_0", "Q5_0", "Q4_1", "BF16", "F16", "F32"] {
        assert!(te["types"].get(t).is_some(), "{t}: {te}");
    }
    let expected = v["expected"].as_array().unwrap();
    assert_eq!(expected.len(), 8, "4 placements x 2 execution choices");
    // The quantized encoder's layers take less than the safetensors one's in bf16 (its token
    // embedding stays in host memory), so the all-resident peak is lower.
    let plain = common::gguf::gguf_model_folder("Q8_0");
    let out = zedit(tmp.path())
        .args(["models", "--json", "--model"])
        .arg(plain.path())
        .output()
        .unwrap();
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let peak = |v: &serde_json::Value| v["expected"][0]["peak_bytes"].as_u64().unwrap();
    assert_eq!(p["expected"][0]["placement"], v["expected"][0]["placement"]);
    assert!(peak(&v) < peak(&p), "{} vs {}", peak(&v), peak(&p));
    let text = stdout_of(
        &zedit(tmp.path())
            .args(["models", "--model"])
            .arg(model.path())
            .output()
            .unwrap(),
    );
    assert!(
        text.contains("text_encoder") && text.contains("gguf"),
        "{text}"
    );
}
