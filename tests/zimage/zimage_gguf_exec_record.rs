//! The GGUF execution choice is recorded with each step (`engine.gguf_exec` in session.toml),
//! so `replay --verify` of a dequantized step reproduces it without the option; a step
//! recorded without the field replays at the current default.
#![cfg(feature = "zimage")]

use crate::common;

use common::gguf::{boat_edit, exec_env};
use common::{new_session, stderr_of, stdout_of, zedit};
use std::path::Path;

fn replay(root: &Path, model: &Path, extra: &[&str], env: Option<&str>) -> std::process::Output {
    let mut c = zedit(root);
    c.args(["replay", "s", "--verify", "--model"])
        .arg(model)
        .args(extra);
    exec_env(&mut c, env);
    c.output().unwrap()
}

/// A new session "s" and one edit of it with `--gguf-exec dequant` (in this process with
/// `local`, else through the worker), checked to record the choice.
fn dequantized_edit(root: &Path, model: &Path, local: bool) {
    new_session(root, "s");
    let out = boat_edit(root, "s", model, local)
        .args(["--gguf-exec", "dequant"])
        .env_remove("ZEDIT_GGUF_EXEC")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let steps = common::steps_of(root, "s");
    assert_eq!(steps[0]["engine"]["gguf_exec"], "dequant", "{}", steps[0]);
}

#[test]
fn a_dequantized_step_replays_without_the_option() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let model = common::gguf::gguf_model_folder_with_text("Q4_K", &["qwen3_tiny-mixed.gguf"]);
    dequantized_edit(root, model.path(), true);

    let out = replay(root, model.path(), &[], None);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("all outputs identical"));
    // The recorded choice wins over the environment; the option wins over both, and with
    // another choice the picture differs, which replay names.
    let out = replay(root, model.path(), &[], Some("qmatmul"));
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = replay(root, model.path(), &["--gguf-exec", "qmatmul"], None);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("another GGUF execution choice"),
        "{}",
        stderr_of(&out)
    );

    // A session from before the field: the current default (qmatmul) runs, so the
    // dequantized output is not reproduced, unless the environment asks for dequant.
    let toml_path = root.join("s").join("session.toml");
    let text = std::fs::read_to_string(&toml_path).unwrap();
    let old: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("gguf_exec"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(old, text);
    std::fs::write(&toml_path, old).unwrap();
    assert!(common::steps_of(root, "s")[0]["engine"]
        .get("gguf_exec")
        .is_none());
    let out = replay(root, model.path(), &[], None);
    assert!(!out.status.success(), "the default is qmatmul");
    let out = replay(root, model.path(), &[], Some("dequant"));
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn a_safetensors_model_records_no_choice() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    new_session(root, "s");
    let model = common::zimage_fixtures().join("tiny-zimage");
    let out = boat_edit(root, "s", &model, true).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let steps = common::steps_of(root, "s");
    assert!(
        steps[0]["engine"].get("gguf_exec").is_none(),
        "{}",
        steps[0]
    );
}

#[test]
fn the_worker_records_the_choice_too() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let _worker = common::WorkerGuard(common::socket_of(root));
    let model = common::gguf::gguf_model_folder_with_text("Q8_0", &["qwen3_tiny-Q8_0.gguf"]);
    dequantized_edit(root, model.path(), false);
    let out = replay(root, model.path(), &[], None);
    assert!(out.status.success(), "{}", stderr_of(&out));
}
