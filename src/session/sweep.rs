//! Sweeping what killed processes left behind: temp files (`.<name>.tmp.<pid>.<n>`) in a
//! session and its `images/`, and half-made sessions (`.<name>.new.<pid>`) under the root, once
//! the process named by `<pid>` is gone. Links are removed themselves, never followed.

use super::atomic::temp_owner;
use super::doc::process_alive;
use super::SessionError;
use std::fs;
use std::path::{Path, PathBuf};

/// One removed leftover and the bytes it held.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Swept {
    pub path: PathBuf,
    pub bytes: u64,
}

fn dead(pid: u32) -> bool {
    pid != std::process::id() && !process_alive(pid)
}

/// Removes dead processes' temp files from the session in `dir` (best effort: a file that
/// cannot be removed now is left for the next sweep).
pub(crate) fn sweep_session(dir: &Path) -> Vec<Swept> {
    let mut swept = Vec::new();
    sweep_temps(dir, &mut swept);
    let images = dir.join("images");
    // A linked images/ is refused elsewhere; never sweep through it.
    if fs::symlink_metadata(&images).is_ok_and(|m| m.is_dir()) {
        sweep_temps(&images, &mut swept);
    }
    swept
}

fn sweep_temps(dir: &Path, swept: &mut Vec<Swept>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if meta.is_dir() || !dead(pid) {
            continue;
        }
        if fs::remove_file(entry.path()).is_ok() {
            swept.push(Swept {
                path: entry.path(),
                bytes: meta.len(),
            });
        }
    }
}

/// The pid of a half-made session folder `.<name>.new.<pid>`.
fn staging_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (_, pid) = rest.rsplit_once(".new.")?;
    pid.parse().ok()
}

/// Sweeps every session under `root`, and the half-made sessions of dead processes.
pub fn sweep_root(root: &Path) -> Result<Vec<Swept>, SessionError> {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SessionError::io(root, e)),
    };
    let mut swept = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if staging_owner(&name).is_some_and(dead) {
            let bytes = folder_bytes(&path);
            let removed = if meta.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            if removed.is_ok() {
                swept.push(Swept { path, bytes });
            }
            continue;
        }
        if meta.is_dir() && path.join("session.toml").is_file() {
            swept.extend(sweep_session(&path));
        }
    }
    Ok(swept)
}

fn folder_bytes(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    fs::read_dir(path)
        .map(|es| es.flatten().map(|e| folder_bytes(&e.path())).sum())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names_carry_their_owner() {
        assert_eq!(staging_owner(".shoot.new.42"), Some(42));
        assert_eq!(staging_owner("shoot"), None);
        assert_eq!(staging_owner(".a.new.b"), None);
    }
}
