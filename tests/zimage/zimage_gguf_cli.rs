//! A GGUF model folder and a LoRA through the CLI: `zedit edit --engine zimage --model <gguf
//! folder> --lora a.safetensors:0.8` runs and records the LoRA (file, weight, digest),
//! `replay --verify` reproduces it, a changed LoRA file makes replay warn, and `zedit models
//! --model` lists the folder with sizes and expected memory.
#![cfg(feature = "zimage")]

use crate::common;

use candle_core::{DType, Device, Tensor};
use common::gguf::{boat_edit, exec_env};
use common::{new_session, stderr_of, stdout_of, zedit};
use std::collections::HashMap;
use std::path::Path;

/// A kohya LoRA for the GGUF fixture's config (dim 256): layers.0's q and w1.
fn write_lora(path: &Path, seed: f64) {
    let r =
        |s: (usize, usize)| (Tensor::randn(0f32, 0.05, s, &Device::Cpu).unwrap() + seed).unwrap();
    let mut m = HashMap::new();
    for (k, o, i) in [
        ("lora_unet_layers_0_attention_to_q", 256, 256),
        ("lora_unet_layers_0_feed_forward_w1", 682, 256),
    ] {
        m.insert(format!("{k}.lora_down.weight"), r((4, i)));
        m.insert(format!("{k}.lora_up.weight"), r((o, 4)));
        m.insert(
            format!("{k}.alpha"),
            Tensor::new(4f32, &Device::Cpu)
                .unwrap()
                .to_dtype(DType::F32)
                .unwrap(),
        );
    }
    candle_core::safetensors::save(&m, path).unwrap();
}

fn edit(root: &Path, model: &Path, extra: &[&str]) -> std::process::Output {
    zedit(root)
        .args([
            "edit",
            "s",
            "a red boat on a lake",
            "--engine",
            "zimage",
            "--local",
        ])
        .args(["--steps", "4", "--seed", "7", "--no-plan", "--model"])
        .arg(model)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn an_edit_with_a_gguf_model_and_a_lora_records_both_and_replays() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let model = common::gguf::gguf_model_folder("Q4_K");
    new_session(root, "s");
    let lora = root.join("a.safetensors");
    write_lora(&lora, 0.0);
    let with = format!("{}:0.8", lora.display());
    let out = edit(root, model.path(), &["--lora", &with]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = edit(root, model.path(), &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let steps = common::steps_of(root, "s");
    let loras = steps[0]["recipe"]["loras"].as_array().unwrap();
    assert_eq!(loras.len(), 1, "{}", steps[0]);
    assert_eq!(loras[0]["weight"], 0.8);
    assert_eq!(loras[0]["path"].as_str().unwrap(), lora.to_str().unwrap());
    let digest = blake3::hash(&std::fs::read(&lora).unwrap())
        .to_hex()
        .to_string();
    assert_eq!(loras[0]["digest"].as_str().unwrap(), digest);
    assert!(steps[1]["recipe"].get("loras").is_none(), "{}", steps[1]);
    assert_ne!(
        steps[0]["output"]["blake3"], steps[1]["output"]["blake3"],
        "the LoRA changes the picture"
    );

    let log = stdout_of(&zedit(root).args(["log", "s"]).output().unwrap());
    assert!(log.contains("lora a.safetensors:0.8"), "{log}");

    let replay = |verify: bool| {
        let mut c = zedit(root);
        c.args(["replay", "s"]);
        if verify {
            c.arg("--verify");
        }
        c.arg("--model").arg(model.path()).output().unwrap()
    };
    let out = replay(true);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("all outputs identical"),
        "{}",
        stdout_of(&out)
    );

    write_lora(&lora, 0.01);
    let out = replay(false);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let said = stderr_of(&out);
    assert!(said.contains("changed since the step was made"), "{said}");
    assert!(said.contains("a.safetensors"), "{said}");
    let out = replay(true);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("changed since the step was made"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn bad_loras_are_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let model = common::gguf::gguf_model_folder("Q8_0");
    new_session(root, "s");
    let other = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/zimage-lora/other_model.safetensors");
    let out = edit(root, model.path(), &["--lora", other.to_str().unwrap()]);
    assert!(!out.status.success());
    let e = stderr_of(&out);
    assert!(
        e.contains("other_model.safetensors") && e.contains("another model"),
        "{e}"
    );
    let out = zedit(root)
        .args(["edit", "s", "warm light", "--lora", other.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("--engine zimage"),
        "{}",
        stderr_of(&out)
    );
    let out = edit(root, model.path(), &["--lora", "missing.safetensors:0.5"]);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("missing.safetensors"),
        "{}",
        stderr_of(&out)
    );
    assert!(
        common::steps_of(root, "s").is_empty(),
        "nothing was recorded"
    );
}

#[test]
fn models_lists_a_gguf_folder_with_sizes_and_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let model = common::gguf::gguf_model_folder("mixed");
    let out = zedit(tmp.path())
        .args(["models", "--model"])
        .arg(model.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let said = stdout_of(&out);
    assert!(
        said.contains("transformer") && said.contains("gguf"),
        "{said}"
    );
    assert!(said.contains("Q5K") && said.contains("BF16"), "{said}");
    assert!(
        said.contains("[qmatmul]") && said.contains("[dequant]"),
        "{said}"
    );
    let out = zedit(tmp.path())
        .args(["models", "--json", "--model"])
        .arg(model.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &v["components"][0];
    assert_eq!(t["format"], "gguf");
    let size = std::fs::metadata(common::gguf::gguf_fixtures().join("z_image_tiny-mixed.gguf"))
        .unwrap()
        .len();
    assert_eq!(t["bytes"].as_u64().unwrap(), size);
    let peaks: Vec<(u64, u64)> = v["expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = |k: &str| e[k].as_u64().unwrap();
            (n("peak_bytes"), n("denoise_peak_bytes"))
        })
        .collect();
    assert_eq!(peaks.len(), 8, "4 placements x 2 execution choices");
    assert!(peaks.iter().all(|(p, d)| p >= d && *d > size), "{peaks:?}");
    // The dequantize choice holds one weight dequantized on top while denoising.
    assert!(peaks[4].1 > peaks[0].1, "{peaks:?}");
}

/// One edit in its own session `name`, with `flag` as `--gguf-exec` and `env` as
/// `ZEDIT_GGUF_EXEC`; the output's digest, or the error text.
fn edit_exec(
    root: &Path,
    model: &Path,
    name: &str,
    flag: Option<&str>,
    env: Option<&str>,
) -> Result<String, String> {
    new_session(root, name);
    let mut c = boat_edit(root, name, model, true);
    if let Some(f) = flag {
        c.args(["--gguf-exec", f]);
    }
    exec_env(&mut c, env);
    let out = c.output().unwrap();
    if !out.status.success() {
        assert!(common::steps_of(root, name).is_empty(), "nothing recorded");
        return Err(stderr_of(&out));
    }
    let steps = common::steps_of(root, name);
    Ok(steps[0]["output"]["blake3"].as_str().unwrap().to_string())
}

#[test]
fn gguf_exec_picks_the_execution_choice_over_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let model = common::gguf::gguf_model_folder("Q4_K");
    let m = model.path();
    let qmatmul = edit_exec(root, m, "a", Some("qmatmul"), None).unwrap();
    let dequant = edit_exec(root, m, "b", Some("dequant"), None).unwrap();
    assert_ne!(qmatmul, dequant, "the two choices differ in their numerics");
    let by_default = edit_exec(root, m, "c", None, None).unwrap();
    assert_eq!(by_default, qmatmul, "qmatmul is the default");
    let by_env = edit_exec(root, m, "d", None, Some("dequant")).unwrap();
    assert_eq!(by_env, dequant, "the environment is the fallback");
    let flag_wins = edit_exec(root, m, "e", Some("qmatmul"), Some("dequant")).unwrap();
    assert_eq!(flag_wins, qmatmul, "the option wins over the environment");

    let e = edit_exec(root, m, "f", Some("fast"), None).unwrap_err();
    assert!(
        e.contains("'fast'") && e.contains("qmatmul") && e.contains("dequant"),
        "{e}"
    );
    let e = edit_exec(root, m, "g", None, Some("fast")).unwrap_err();
    assert!(e.contains("ZEDIT_GGUF_EXEC=fast"), "{e}");
    // A bad environment value does not matter when the option says.
    let told = edit_exec(root, m, "h", Some("dequant"), Some("fast")).unwrap();
    assert_eq!(told, dequant);
}
