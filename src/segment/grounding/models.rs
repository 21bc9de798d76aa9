//! Finding the words-scoring (Chinese-CLIP) weights: a folder (`config.json`, `vocab.txt` or
//! `tokenizer.json`, and `model.safetensors` or `pytorch_model.bin`), or a manifest name from
//! `models/*.toml` (`chinese-clip-vit-b-16`) looked up in the Hugging Face cache; and
//! downloading a manifest's files.

use crate::hub::hf_cache_dir;
use crate::segment::SegmentError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

const BUILTIN: &[(&str, &str)] = &[(
    "models/chinese-clip-vit-b-16.toml",
    include_str!("../../../models/chinese-clip-vit-b-16.toml"),
)];

/// The scoring model used when none is named.
pub const DEFAULT_CLIP: &str = "chinese-clip-vit-b-16";

/// The similarity a candidate needs when neither the manifest nor the user says.
pub const DEFAULT_MIN_SCORE: f32 = 0.2;

/// One `models/*.toml` entry of a words-scoring model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipManifest {
    pub name: String,
    pub engine: String,
    pub repo: String,
    pub revision: String,
    /// The weights file inside the repo (safetensors or a PyTorch pickle).
    pub weights: String,
    pub config: String,
    /// The BERT vocabulary (`vocab.txt`) or a `tokenizer.json`.
    pub tokenizer: String,
    /// The cosine similarity a candidate needs to count as a match.
    pub min_score: f32,
    #[serde(default)]
    pub description: String,
    #[serde(skip)]
    pub manifest: String,
}

pub fn manifests() -> Vec<ClipManifest> {
    crate::segment::models::parse_builtin(BUILTIN, |m: &mut ClipManifest, path| {
        m.manifest = path.into()
    })
}

pub fn manifest(name: &str) -> Option<ClipManifest> {
    manifests().into_iter().find(|m| m.name == name)
}

/// The files of a scoring model.
#[derive(Debug, Clone)]
pub struct ResolvedClip {
    /// The manifest name, or the folder given.
    pub id: String,
    pub weights: PathBuf,
    pub config: PathBuf,
    pub tokenizer: PathBuf,
    pub min_score: f32,
}

/// A manifest's three files in one cached snapshot, if all are there.
pub fn find_installed(m: &ClipManifest) -> Option<ResolvedClip> {
    crate::hub::cached_snapshots(&m.repo, &m.revision)
        .into_iter()
        .find_map(|s| {
            let r = ResolvedClip {
                id: m.name.clone(),
                weights: s.join(&m.weights),
                config: s.join(&m.config),
                tokenizer: s.join(&m.tokenizer),
                min_score: m.min_score,
            };
            (r.weights.is_file() && r.config.is_file() && r.tokenizer.is_file()).then_some(r)
        })
}

/// Resolves `--clip-model`: a folder, a manifest name, or (None) the default.
pub fn resolve(model: Option<&str>) -> Result<ResolvedClip, SegmentError> {
    let spec = model.unwrap_or(DEFAULT_CLIP);
    let path = Path::new(spec);
    if path.exists() {
        return from_dir(path, spec);
    }
    let Some(m) = manifest(spec) else {
        let known: Vec<String> = manifests().into_iter().map(|m| m.name).collect();
        return Err(SegmentError::Unavailable(format!(
            "words-scoring model '{spec}' is neither a folder nor a known model name (known: \
             {}); pass --clip-model DIR",
            known.join(", ")
        )));
    };
    find_installed(&m).ok_or_else(|| {
        SegmentError::Unavailable(format!(
            "words-scoring model '{}' ({}, {} and {} from {}, manifest {}) is not in the Hugging \
             Face cache {}; run `zedit models fetch {}` or pass --clip-model DIR",
            m.name,
            m.weights,
            m.config,
            m.tokenizer,
            m.repo,
            m.manifest,
            hf_cache_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(none)".into()),
            m.name
        ))
    })
}

fn from_dir(path: &Path, spec: &str) -> Result<ResolvedClip, SegmentError> {
    let dir = std::fs::canonicalize(path)
        .map_err(|e| SegmentError::Unavailable(format!("{}: {e}", path.display())))?;
    let id = if path.is_absolute() {
        spec.to_string()
    } else {
        dir.display().to_string()
    };
    let first = |names: &[&str]| names.iter().map(|n| dir.join(n)).find(|p| p.is_file());
    let missing = |what: &str| {
        SegmentError::Unavailable(format!(
            "{}: no {what} in this folder; a Chinese-CLIP folder holds config.json, vocab.txt \
             (or tokenizer.json) and model.safetensors (or pytorch_model.bin)",
            dir.display()
        ))
    };
    Ok(ResolvedClip {
        weights: first(&["model.safetensors", "pytorch_model.bin"])
            .ok_or_else(|| missing("model.safetensors or pytorch_model.bin"))?,
        config: first(&["config.json"]).ok_or_else(|| missing("config.json"))?,
        tokenizer: first(&["tokenizer.json", "vocab.txt"])
            .ok_or_else(|| missing("vocab.txt or tokenizer.json"))?,
        id,
        min_score: DEFAULT_MIN_SCORE,
    })
}

/// The blake3 of the weights, the config and the vocabulary together (each changes scores).
pub fn digest(r: &ResolvedClip) -> Result<String, SegmentError> {
    crate::segment::models::digest_files(&[&r.weights, &r.config, &r.tokenizer])
}

/// Downloads a manifest's files into the Hugging Face cache; returns the resolved model.
pub fn fetch(m: &ClipManifest, progress: bool) -> Result<ResolvedClip, SegmentError> {
    let repo = crate::segment::models::hub_repo(&m.repo, &m.revision, progress)?;
    let get = |file: &str| {
        repo.get(file).map_err(|e| {
            SegmentError::Unavailable(format!(
                "cannot download {file} from {} on the Hugging Face hub ({e}); check the \
                 network connection (or HF_ENDPOINT), or download the folder elsewhere and pass \
                 --clip-model DIR",
                m.repo
            ))
        })
    };
    Ok(ResolvedClip {
        id: m.name.clone(),
        config: get(&m.config)?,
        tokenizer: get(&m.tokenizer)?,
        weights: get(&m.weights)?,
        min_score: m.min_score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_manifest_parses() {
        assert_eq!(manifests().len(), BUILTIN.len());
        let m = manifest(DEFAULT_CLIP).unwrap();
        assert_eq!(m.engine, "clip");
        assert_eq!(m.repo, "OFA-Sys/chinese-clip-vit-base-patch16");
    }

    #[test]
    fn unknown_names_and_empty_folders_are_explained() {
        let e = resolve(Some("no-such-clip")).unwrap_err().to_string();
        assert!(
            e.contains(DEFAULT_CLIP) && e.contains("no-such-clip"),
            "{e}"
        );
        let tmp = std::env::temp_dir();
        let e = resolve(Some(tmp.to_str().unwrap()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("model.safetensors or pytorch_model.bin"), "{e}");
    }
}
