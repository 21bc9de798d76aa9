//! Finding models: an explicit folder, a manifest name from `models/*.toml`, or the Hugging Face
//! cache; and what a usable Z-Image folder must contain.

use super::EngineError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Manifests shipped with zedit.
const BUILTIN: &[&str] = &[include_str!("../../../models/z-image-turbo.toml")];

/// The model used when none is named.
pub const DEFAULT_MODEL: &str = "z-image-turbo";

/// One `models/*.toml` entry.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub engine: String,
    /// Hugging Face repo id.
    pub repo: String,
    #[serde(default = "main_rev")]
    pub revision: String,
    #[serde(default)]
    pub description: String,
    pub defaults: Defaults,
}

#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub steps: u32,
    pub guidance: f32,
}

fn main_rev() -> String {
    "main".into()
}

/// The shipped manifests.
pub fn manifests() -> Vec<Manifest> {
    // The embedded files are checked by a unit test, so a parse failure cannot ship.
    BUILTIN
        .iter()
        .filter_map(|t| toml::from_str(t).ok())
        .collect()
}

pub fn manifest(name: &str) -> Option<Manifest> {
    manifests().into_iter().find(|m| m.name == name)
}

/// Files (relative to the model folder) that a Z-Image folder needs besides weights, and the
/// component folders that need `*.safetensors` weights (the transformer and the text encoder
/// may instead be a `.gguf` file or a set of split shards).
const REQUIRED_FILES: &[&str] = &["vae/config.json", "tokenizer/tokenizer.json"];
const WEIGHT_DIRS: &[&str] = &["transformer", "vae", "text_encoder"];

/// What is missing from a model folder (empty when it is complete).
pub fn missing_files(dir: &Path) -> Vec<String> {
    let mut missing: Vec<String> = REQUIRED_FILES
        .iter()
        .filter(|f| !dir.join(f).is_file())
        .map(|f| f.to_string())
        .collect();
    // A GGUF transformer or text encoder needs no config.json (the file implies it) nor
    // safetensors.
    let gguf = super::gguf::transformer_file(dir).is_some();
    let gguf_text = super::text_encoder_gguf::text_encoder_file(dir).is_some();
    // Inserted in front, last first: the transformer's is listed first.
    for (comp, is_gguf) in [("text_encoder", gguf_text), ("transformer", gguf)] {
        if !is_gguf && !dir.join(comp).join("config.json").is_file() {
            missing.insert(0, format!("{comp}/config.json"));
        }
    }
    for d in WEIGHT_DIRS
        .iter()
        .filter(|d| !(gguf && **d == "transformer" || gguf_text && **d == "text_encoder"))
    {
        match super::weights::weight_files(&dir.join(d)) {
            Ok(_) => {}
            // A sharded checkpoint names the exact shard that is absent.
            Err(EngineError::Unavailable(m)) if m.starts_with("weight shard") => {
                missing.push(m.split(" named by").next().unwrap_or(&m).to_string())
            }
            Err(_) => missing.push(format!("{d}/*.safetensors")),
        }
    }
    missing
}

pub use crate::hub::{cached_snapshots, hf_cache_dir};

/// Where a named model is installed, if a complete copy is in the cache.
pub fn find_installed(m: &Manifest) -> Option<PathBuf> {
    cached_snapshots(&m.repo, &m.revision)
        .into_iter()
        .find(|p| missing_files(p).is_empty())
}

/// Resolves `EngineOptions.model`: a folder, a manifest name, or (None) the default model.
pub fn resolve(model: Option<&Path>) -> Result<PathBuf, EngineError> {
    let spec = model
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_MODEL));
    if spec.is_dir() {
        let missing = missing_files(&spec);
        if !missing.is_empty() {
            return Err(EngineError::Unavailable(format!(
                "model folder {} is incomplete: missing {}; fetch the model again",
                spec.display(),
                missing.join(", ")
            )));
        }
        return Ok(spec);
    }
    let name = spec.to_string_lossy();
    let Some(m) = manifest(&name) else {
        let known: Vec<String> = manifests().into_iter().map(|m| m.name).collect();
        return Err(EngineError::Unavailable(format!(
            "model '{name}' is neither a folder nor a known model name (known: {}); \
             pass --model DIR or see `zedit models`",
            known.join(", ")
        )));
    };
    find_installed(&m).ok_or_else(|| {
        EngineError::Unavailable(format!(
            "model '{}' ({}) is not in the Hugging Face cache {}; run `zedit models fetch {}` \
             or pass --model DIR",
            m.name,
            m.repo,
            hf_cache_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(none)".into()),
            m.name
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_manifests_parse() {
        for text in BUILTIN {
            let m: Manifest = toml::from_str(text).unwrap();
            assert_eq!(m.engine, "zimage");
            assert_eq!(m.defaults.steps, 8);
        }
        assert!(manifest(DEFAULT_MODEL).is_some());
    }

    #[test]
    fn unknown_names_are_explained() {
        let e = resolve(Some(Path::new("no-such-model"))).unwrap_err();
        assert!(e.to_string().contains("z-image-turbo"), "{e}");
    }
}
