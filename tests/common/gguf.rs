//! A model folder with a GGUF transformer, for the tests of GGUF models.

use candle_core::Tensor;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use zedit::engine::zimage::transformer::Transformer;

/// tests/fixtures/zimage-gguf (scripts/make_gguf_fixtures.py).
pub fn gguf_fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/zimage-gguf"
    ))
}

/// A model folder: tests/fixtures/zimage-tiny-b's text encoder, VAE, tokenizer and scheduler, and
/// the fixture's `z_image_tiny-<label>.gguf` transformer with no config.json.
pub fn gguf_model_folder(label: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = super::recorded_fixtures().join("tiny-zimage");
    for comp in ["text_encoder", "vae", "tokenizer", "scheduler"] {
        let to = tmp.path().join(comp);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(src.join(comp)).unwrap().flatten() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    std::fs::copy(
        src.join("model_index.json"),
        tmp.path().join("model_index.json"),
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("transformer")).unwrap();
    let name = format!("z_image_tiny-{label}.gguf");
    std::fs::copy(
        gguf_fixtures().join(&name),
        tmp.path().join("transformer").join(&name),
    )
    .unwrap();
    tmp
}

/// tests/fixtures/zimage-gguf-te (scripts/make_gguf_text_encoder_fixtures.py).
pub fn gguf_te_fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/zimage-gguf-te"
    ))
}

/// As [`gguf_model_folder`], with the text encoder replaced by the fixture's GGUF `files`
/// (one file or a set of shards; no config.json, no safetensors).
pub fn gguf_model_folder_with_text(label: &str, files: &[&str]) -> tempfile::TempDir {
    let tmp = gguf_model_folder(label);
    let te = tmp.path().join("text_encoder");
    std::fs::remove_dir_all(&te).unwrap();
    std::fs::create_dir_all(&te).unwrap();
    for f in files {
        std::fs::copy(gguf_te_fixtures().join(f), te.join(f)).unwrap();
    }
    tmp
}

/// The transformer's output for each of `calls` calls recorded in `r` as `x.i`, `t.i`, `cap.i`.
pub fn outputs(t: &Transformer, r: &HashMap<String, Tensor>, calls: usize) -> Vec<Tensor> {
    (0..calls)
        .map(|i| {
            let x = r[&format!("x.{i}")].squeeze(1).unwrap();
            let tv: Vec<f32> = r[&format!("t.{i}")].to_vec1().unwrap();
            let cap = t.caption(&r[&format!("cap.{i}")]).unwrap();
            t.forward(&x, tv[0], &cap).unwrap()
        })
        .collect()
}

/// Worst |ours − reference| over the calls, against `<prefix>.i`.
pub fn worst(outs: &[Tensor], r: &HashMap<String, Tensor>, prefix: &str) -> f32 {
    outs.iter()
        .enumerate()
        .map(|(i, o)| super::golden::max_diff(o, &r[&format!("{prefix}.{i}")]))
        .fold(0.0, f32::max)
}

/// A GGUF v3 file by hand: `general.architecture` (when given) and F32-sized tensors of any
/// type id, data zero.
pub fn hand_gguf(arch: Option<&str>, tensors: &[(&str, &[usize], u32)]) -> Vec<u8> {
    let mut b = Vec::new();
    let s = |b: &mut Vec<u8>, x: &str| {
        b.extend((x.len() as u64).to_le_bytes());
        b.extend(x.as_bytes());
    };
    b.extend(b"GGUF");
    b.extend(3u32.to_le_bytes());
    b.extend((tensors.len() as u64).to_le_bytes());
    b.extend((arch.is_some() as u64).to_le_bytes());
    if let Some(a) = arch {
        s(&mut b, "general.architecture");
        b.extend(8u32.to_le_bytes());
        s(&mut b, a);
    }
    let mut offset = 0u64;
    for (name, shape, ty) in tensors {
        s(&mut b, name);
        b.extend((shape.len() as u32).to_le_bytes());
        for d in shape.iter().rev() {
            b.extend((*d as u64).to_le_bytes());
        }
        b.extend(ty.to_le_bytes());
        b.extend(offset.to_le_bytes());
        offset += shape.iter().product::<usize>() as u64 * 4;
    }
    while b.len() % 32 != 0 {
        b.push(0);
    }
    b.resize(b.len() + offset as usize, 0);
    b
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `zedit edit <name> "a red boat on a lake"` on the Z-Image engine with `model`, 2 steps,
/// seed 7, no plan: in this process with `local`, else through the worker.
pub fn boat_edit(root: &Path, name: &str, model: &Path, local: bool) -> assert_cmd::Command {
    let mut c = super::zedit(root);
    c.args(["edit", name, "a red boat on a lake", "--engine", "zimage"]);
    if local {
        c.arg("--local");
    }
    c.args(["--steps", "2", "--seed", "7", "--no-plan", "--model"])
        .arg(model);
    c
}

/// Sets `ZEDIT_GGUF_EXEC` to `value`, or removes it with `None`.
pub fn exec_env(c: &mut assert_cmd::Command, value: Option<&str>) {
    match value {
        Some(v) => c.env("ZEDIT_GGUF_EXEC", v),
        None => c.env_remove("ZEDIT_GGUF_EXEC"),
    };
}
