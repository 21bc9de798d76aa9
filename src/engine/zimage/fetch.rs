//! Downloading a model named by a manifest into the Hugging Face cache with hf-hub.

use super::models::{self, Manifest};
use super::EngineError;
use std::path::PathBuf;

/// Top-level folders (and files) of a diffusers Z-Image repo that the engine reads.
const WANTED: &[&str] = &[
    "model_index.json",
    "transformer/",
    "vae/",
    "text_encoder/",
    "tokenizer/",
    "scheduler/",
];

fn wanted(file: &str) -> bool {
    WANTED.iter().any(|w| {
        if w.ends_with('/') {
            file.starts_with(w)
        } else {
            file == *w
        }
    })
}

/// Downloads what the engine needs of `m` (already cached files are kept) and returns the
/// snapshot folder. `progress` shows hf-hub's per-file progress bars.
pub fn fetch(m: &Manifest, progress: bool) -> Result<PathBuf, EngineError> {
    let cache = models::hf_cache_dir().ok_or_else(|| {
        EngineError::Unavailable("no home folder for the Hugging Face cache; set HF_HOME".into())
    })?;
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_cache_dir(cache.clone())
        .with_progress(progress)
        .build()
        .map_err(|e| EngineError::Unavailable(format!("cannot set up the download client: {e}")))?;
    let repo = api.repo(hf_hub::Repo::with_revision(
        m.repo.clone(),
        hf_hub::RepoType::Model,
        m.revision.clone(),
    ));
    let offline = |e: hf_hub::api::sync::ApiError| {
        EngineError::Unavailable(format!(
            "cannot download {} from the Hugging Face hub ({e}); check the network connection \
             (or HF_ENDPOINT), or copy a downloaded model folder here and pass --model DIR",
            m.repo
        ))
    };
    let info = repo.info().map_err(offline)?;
    let files: Vec<String> = info
        .siblings
        .into_iter()
        .map(|s| s.rfilename)
        .filter(|f| wanted(f))
        .collect();
    if files.is_empty() {
        return Err(EngineError::Unavailable(format!(
            "{} lists no diffusers Z-Image files; is the repo id in the manifest right?",
            m.repo
        )));
    }
    let mut snapshot = None;
    for f in &files {
        let path = repo.get(f).map_err(offline)?;
        if f == "model_index.json" {
            snapshot = path.parent().map(PathBuf::from);
        }
    }
    snapshot
        .or_else(|| models::find_installed(m))
        .ok_or_else(|| EngineError::Unavailable(format!("{} has no model_index.json", m.repo)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_engine_files_are_fetched() {
        assert!(super::wanted(
            "transformer/diffusion_pytorch_model-00001-of-00003.safetensors"
        ));
        assert!(super::wanted("model_index.json"));
        assert!(!super::wanted("assets/showcase.jpg"));
        assert!(!super::wanted("README.md"));
    }
}
