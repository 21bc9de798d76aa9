//! Where sessions live, how a SESSION argument names one, and the listing of all of them.

use super::{Session, SessionError};
use std::path::{Path, PathBuf};

/// `$ZEDIT_HOME/sessions`, else the platform's data folder (`~/.local/share/zedit/sessions`).
pub fn default_root() -> PathBuf {
    if let Some(home) = std::env::var_os("ZEDIT_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home).join("sessions");
    }
    directories::ProjectDirs::from("", "", "zedit")
        .map(|d| d.data_dir().join("sessions"))
        .unwrap_or_else(|| PathBuf::from(".zedit/sessions"))
}

/// A session name is one plain folder name.
pub fn validate_name(name: &str) -> Result<(), SessionError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .chars()
            .all(|c| !c.is_control() && !matches!(c, '/' | '\\' | ':'));
    if ok {
        Ok(())
    } else {
        Err(SessionError::BadName(name.into()))
    }
}

/// Resolves SESSION: a path to a session folder (anything with a `/`, or `.`), else a name
/// under `root`.
pub fn resolve(root: &Path, arg: &str) -> Result<PathBuf, SessionError> {
    let looks_like_path = arg.contains('/') || arg == "." || arg == "..";
    let dir = if looks_like_path {
        PathBuf::from(arg)
    } else {
        validate_name(arg)?;
        root.join(arg)
    };
    if dir.join("session.toml").is_file() {
        Ok(dir)
    } else if looks_like_path {
        Err(SessionError::Invalid(format!(
            "{}: not a session folder (no session.toml)",
            dir.display()
        )))
    } else {
        Err(SessionError::NotFound {
            name: arg.into(),
            root: root.into(),
        })
    }
}

/// One line of `zedit sessions`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionSummary {
    pub name: String,
    pub path: PathBuf,
    pub steps: usize,
    pub updated: String,
    /// Set when the session could not be read; the listing goes on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// All sessions under `root`, newest change first. Unreadable ones are listed with their error.
pub fn list_sessions(root: &Path) -> Result<Vec<SessionSummary>, SessionError> {
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SessionError::io(root, e)),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !path.join("session.toml").is_file() {
            continue;
        }
        out.push(match Session::load(&path) {
            Ok(s) => SessionSummary {
                name,
                path,
                steps: s.doc.steps.len(),
                updated: s.doc.updated.clone(),
                error: None,
            },
            Err(e) => SessionSummary {
                name,
                path,
                steps: 0,
                updated: String::new(),
                error: Some(e.to_string()),
            },
        });
    }
    out.sort_by(|a, b| b.updated.cmp(&a.updated).then(a.name.cmp(&b.name)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["beach", "产品图-1", "a.b_c"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", "a/b", "..", "x..y", ".hidden", "a\\b"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
