//! The Hugging Face hub cache on disk: where it is and the snapshots of a model repo in it,
//! shared by every model family zedit loads.

use std::path::PathBuf;

/// The Hugging Face hub cache: `$HF_HUB_CACHE`, `$HF_HOME/hub`, or `~/.cache/huggingface/hub`.
pub fn hf_cache_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HF_HUB_CACHE") {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = std::env::var_os("HF_HOME") {
        return Some(PathBuf::from(p).join("hub"));
    }
    directories::BaseDirs::new().map(|b| b.home_dir().join(".cache/huggingface/hub"))
}

/// Snapshot folders of `repo` in the cache, the one `refs/<revision>` names first, then the
/// most recently modified.
pub fn cached_snapshots(repo: &str, revision: &str) -> Vec<PathBuf> {
    let Some(cache) = hf_cache_dir() else {
        return Vec::new();
    };
    let root = cache.join(format!("models--{}", repo.replace('/', "--")));
    let mut snaps: Vec<(std::time::SystemTime, PathBuf)> =
        std::fs::read_dir(root.join("snapshots"))
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.path().is_dir())
                    .map(|e| {
                        let t = e
                            .metadata()
                            .and_then(|m| m.modified())
                            .unwrap_or(std::time::UNIX_EPOCH);
                        (t, e.path())
                    })
                    .collect()
            })
            .unwrap_or_default();
    snaps.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out: Vec<PathBuf> = snaps.into_iter().map(|(_, p)| p).collect();
    if let Ok(hash) = std::fs::read_to_string(root.join("refs").join(revision)) {
        let preferred = root.join("snapshots").join(hash.trim());
        out.retain(|p| p != &preferred);
        if preferred.is_dir() {
            out.insert(0, preferred);
        }
    }
    out
}
