//! `--lora FILE[:WEIGHT]` on `zedit edit`: each file made absolute, its digest taken for the
//! step's recipe, and (where the build has the zimage engine) checked against the model's
//! transformer before any job runs.

use crate::core::LoraRef;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// One `--lora` value: `FILE` (weight 1) or `FILE:WEIGHT`.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraArg {
    pub path: PathBuf,
    pub weight: f32,
}

/// Parses `FILE[:WEIGHT]`; a trailing `:x` that is not a number is part of the file name.
pub fn parse(s: &str) -> Result<LoraArg, String> {
    if s.trim().is_empty() {
        return Err("--lora needs a file: FILE or FILE:WEIGHT".into());
    }
    if let Some((file, w)) = s.rsplit_once(':') {
        if let Ok(weight) = w.trim().parse::<f32>() {
            if !weight.is_finite() || file.is_empty() {
                return Err(format!(
                    "'{s}': use FILE:WEIGHT with a finite weight, e.g. style.safetensors:0.8"
                ));
            }
            return Ok(LoraArg {
                path: PathBuf::from(file),
                weight,
            });
        }
    }
    Ok(LoraArg {
        path: PathBuf::from(s),
        weight: 1.0,
    })
}

/// The recipe's LoRA list for `args`, checked against the transformer of `model` when it can
/// be found here (the worker checks again when it applies them).
pub fn resolve(args: &[LoraArg], model: Option<&Path>) -> anyhow::Result<Vec<LoraRef>> {
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        let path = super::absolute(&a.path);
        let bytes = std::fs::read(&path)
            .with_context(|| format!("cannot read LoRA file {}", path.display()))?;
        out.push(LoraRef {
            path,
            weight: a.weight,
            digest: blake3::hash(&bytes).to_hex().to_string(),
        });
    }
    check(&out, model)?;
    Ok(out)
}

#[cfg(feature = "zimage")]
fn check(loras: &[LoraRef], model: Option<&Path>) -> anyhow::Result<()> {
    use crate::engine::zimage::{gguf, lora, models};
    if loras.is_empty() {
        return Ok(());
    }
    // Without a model at hand (not installed here) the worker's own check is the one.
    let Ok(dir) = models::resolve(model) else {
        return Ok(());
    };
    let cfg = gguf::transformer_config(&dir)?;
    for l in loras {
        let f = lora::read(&l.path, &cfg)?;
        if let Some(note) = f.coverage() {
            eprintln!("warning: {note}");
        }
    }
    Ok(())
}

#[cfg(not(feature = "zimage"))]
fn check(_loras: &[LoraRef], _model: Option<&Path>) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_the_last_colon() {
        let a = parse("style.safetensors:0.8").unwrap();
        assert_eq!(
            (a.path, a.weight),
            (PathBuf::from("style.safetensors"), 0.8)
        );
        let a = parse("/x/y.safetensors").unwrap();
        assert_eq!(a.weight, 1.0);
        let a = parse("C:/loras/a.safetensors:-0.5").unwrap();
        assert_eq!(
            (a.path, a.weight),
            (PathBuf::from("C:/loras/a.safetensors"), -0.5)
        );
        let a = parse("odd:name.safetensors").unwrap();
        assert_eq!(a.path, PathBuf::from("odd:name.safetensors"));
        assert!(parse(":0.5").is_err());
        assert!(parse("a.safetensors:inf").is_err());
        assert!(parse("").is_err());
    }
}
