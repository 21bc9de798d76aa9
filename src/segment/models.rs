//! Finding segmentation weights: a path (a `.safetensors` file, or a folder with
//! `model.safetensors` and an optional `config.json`), a manifest name from `models/*.toml`
//! (`mobile-sam`, `sam-vit-b`) looked up in the Hugging Face cache, and downloading them.

use super::sam::SamConfig;
use super::SegmentError;
use crate::hub::hf_cache_dir;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Manifests shipped with zedit.
const BUILTIN: &[(&str, &str)] = &[
    (
        "models/mobile-sam.toml",
        include_str!("../../models/mobile-sam.toml"),
    ),
    (
        "models/sam-vit-b.toml",
        include_str!("../../models/sam-vit-b.toml"),
    ),
];

/// The segmentation model used when none is named.
pub const DEFAULT_MODEL: &str = "mobile-sam";

/// One `models/*.toml` entry of a segmentation model.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SamManifest {
    pub name: String,
    pub engine: String,
    /// Hugging Face repo id.
    pub repo: String,
    pub revision: String,
    /// The weights file inside the repo.
    pub file: String,
    #[serde(default)]
    pub description: String,
    /// The manifest's file name in the source tree, for messages.
    #[serde(skip)]
    pub manifest: String,
}

/// The shipped manifests (checked by a unit test, so a parse failure cannot ship).
pub fn manifests() -> Vec<SamManifest> {
    parse_builtin(BUILTIN, |m: &mut SamManifest, path| {
        m.manifest = path.into()
    })
}

/// The shipped `(path, text)` manifests that parse as `T`, each told its path by `named`.
pub(crate) fn parse_builtin<T: serde::de::DeserializeOwned>(
    builtin: &[(&str, &str)],
    named: impl Fn(&mut T, &str),
) -> Vec<T> {
    builtin
        .iter()
        .filter_map(|(path, text)| {
            let mut m: T = toml::from_str(text).ok()?;
            named(&mut m, path);
            Some(m)
        })
        .collect()
}

pub fn manifest(name: &str) -> Option<SamManifest> {
    manifests().into_iter().find(|m| m.name == name)
}

/// Weights found, with the model's shape.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// How the model is named in recorded steps: the manifest name, or the path given.
    pub id: String,
    pub weights: PathBuf,
    pub config: SamConfig,
}

/// The cached copy of a manifest's file: the snapshot `refs/<revision>` names first, then the
/// newest.
pub fn find_installed(m: &SamManifest) -> Option<PathBuf> {
    crate::hub::cached_snapshots(&m.repo, &m.revision)
        .into_iter()
        .map(|s| s.join(&m.file))
        .find(|f| f.is_file())
}

/// Resolves `--model`: a path, a manifest name, or (None) the default model.
pub fn resolve(model: Option<&str>) -> Result<Resolved, SegmentError> {
    let spec = model.unwrap_or(DEFAULT_MODEL);
    let path = Path::new(spec);
    if path.exists() {
        return from_path(path, spec);
    }
    let Some(m) = manifest(spec) else {
        let known: Vec<String> = manifests().into_iter().map(|m| m.name).collect();
        return Err(SegmentError::Unavailable(format!(
            "segmentation model '{spec}' is neither a file or folder nor a known model name \
             (known: {}); pass --model FILE or see `zedit models`",
            known.join(", ")
        )));
    };
    let weights = find_installed(&m).ok_or_else(|| {
        SegmentError::Unavailable(format!(
            "segmentation model '{}' ({} from {}, manifest {}) is not in the Hugging Face cache \
             {}; run `zedit models fetch {}` or pass --model FILE",
            m.name,
            m.file,
            m.repo,
            m.manifest,
            hf_cache_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(none)".into()),
            m.name
        ))
    })?;
    let config = infer_config(&weights)?;
    Ok(Resolved {
        id: m.name,
        weights,
        config,
    })
}

fn from_path(path: &Path, id: &str) -> Result<Resolved, SegmentError> {
    let absolute = std::fs::canonicalize(path)
        .map_err(|e| SegmentError::Unavailable(format!("{}: {e}", path.display())))?;
    let id = if path.is_absolute() {
        id.to_string()
    } else {
        absolute.display().to_string()
    };
    if absolute.is_file() {
        let config = infer_config(&absolute)?;
        return Ok(Resolved {
            id,
            weights: absolute,
            config,
        });
    }
    let weights = absolute.join("model.safetensors");
    if !weights.is_file() {
        return Err(SegmentError::Unavailable(format!(
            "{}: no model.safetensors in this folder; pass the weights file itself or a folder \
             holding model.safetensors (and config.json for sizes other than the published ones)",
            absolute.display()
        )));
    }
    let config_path = absolute.join("config.json");
    let config = if config_path.is_file() {
        let text = std::fs::read_to_string(&config_path)
            .map_err(|e| SegmentError::Unavailable(format!("{}: {e}", config_path.display())))?;
        SamConfig::from_json(&text, &config_path.display().to_string())?
    } else {
        infer_config(&weights)?
    };
    Ok(Resolved {
        id,
        weights,
        config,
    })
}

/// The published model a weights file holds, from its tensor names and shapes (read from
/// the safetensors header alone).
fn infer_config(weights: &Path) -> Result<SamConfig, SegmentError> {
    use std::io::Read;
    let origin = weights.display().to_string();
    let bad = |why: String| SegmentError::Unavailable(format!("{origin}: {why}"));
    let mut f = std::fs::File::open(weights).map_err(|e| bad(e.to_string()))?;
    let mut len = [0u8; 8];
    f.read_exact(&mut len)
        .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
    let len = u64::from_le_bytes(len);
    if len > 100_000_000 {
        return Err(bad(format!("not a safetensors file (a {len}-byte header)")));
    }
    let mut header = vec![0u8; len as usize];
    f.read_exact(&mut header)
        .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
    #[derive(Deserialize)]
    struct Info {
        shape: Vec<usize>,
    }
    let map: std::collections::HashMap<String, serde_json::Value> = serde_json::from_slice(&header)
        .map_err(|e| bad(format!("not a safetensors header ({e})")))?;
    let names: Vec<(String, Vec<usize>)> = map
        .into_iter()
        .filter(|(n, _)| n != "__metadata__")
        .filter_map(|(n, v)| serde_json::from_value::<Info>(v).ok().map(|i| (n, i.shape)))
        .collect();
    SamConfig::infer(&names, &origin)
}

/// The blake3 of a weights file, as recorded with each mask it makes.
pub fn digest(weights: &Path) -> Result<String, SegmentError> {
    digest_files(&[weights])
}

/// One blake3 over several files in turn (a model whose files all change its results).
pub fn digest_files(files: &[&Path]) -> Result<String, SegmentError> {
    let mut h = blake3::Hasher::new();
    for p in files {
        let f = std::fs::File::open(p)
            .map_err(|e| SegmentError::Unavailable(format!("{}: {e}", p.display())))?;
        h.update_reader(f)
            .map_err(|e| SegmentError::Unavailable(format!("{}: {e}", p.display())))?;
    }
    Ok(h.finalize().to_hex().to_string())
}

/// A repository at a revision on the Hugging Face hub, downloading into the local cache.
pub fn hub_repo(
    repo: &str,
    revision: &str,
    progress: bool,
) -> Result<hf_hub::api::sync::ApiRepo, SegmentError> {
    let cache = hf_cache_dir().ok_or_else(|| {
        SegmentError::Unavailable("no home folder for the Hugging Face cache; set HF_HOME".into())
    })?;
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_cache_dir(cache)
        .with_progress(progress)
        .build()
        .map_err(|e| {
            SegmentError::Unavailable(format!("cannot set up the download client: {e}"))
        })?;
    Ok(api.repo(hf_hub::Repo::with_revision(
        repo.to_string(),
        hf_hub::RepoType::Model,
        revision.to_string(),
    )))
}

/// Downloads a manifest's weights into the Hugging Face cache; returns the file.
pub fn fetch(m: &SamManifest, progress: bool) -> Result<PathBuf, SegmentError> {
    let repo = hub_repo(&m.repo, &m.revision, progress)?;
    repo.get(&m.file).map_err(|e| {
        SegmentError::Unavailable(format!(
            "cannot download {} from {} on the Hugging Face hub ({e}); check the network \
             connection (or HF_ENDPOINT), or download it elsewhere and pass --model FILE",
            m.file, m.repo
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_manifests_parse() {
        assert_eq!(manifests().len(), BUILTIN.len());
        for m in manifests() {
            assert_eq!(m.engine, "sam");
            assert_eq!(m.repo, "lmz/candle-sam");
        }
        assert!(manifest(DEFAULT_MODEL).is_some());
    }

    #[test]
    fn unknown_names_are_explained() {
        let e = resolve(Some("no-such-sam")).unwrap_err().to_string();
        assert!(e.contains("mobile-sam") && e.contains("no-such-sam"), "{e}");
    }
}
