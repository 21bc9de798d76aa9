//! Errors at the session boundary; every message names the file or value at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a valid session file: {message}")]
    Malformed { path: PathBuf, message: String },
    #[error(
        "{path}: session format {found} is newer than this zedit understands (format {FORMAT}); \
         upgrade zedit"
    )]
    FutureFormat { path: PathBuf, found: u32 },
    #[error("{path}: image path '{image}' leads outside the session folder; refusing to read it")]
    UnsafePath { path: PathBuf, image: String },
    #[error("session '{name}' is open in process {pid}; close it there or wait")]
    Locked { name: String, pid: String },
    #[error("{path}: {message}")]
    BadImage { path: PathBuf, message: String },
    #[error(
        "invalid session name '{0}': use letters, digits, '-', '_' or '.', without '/' or '..'"
    )]
    BadName(String),
    #[error("session '{name}' not found under {root}")]
    NotFound { name: String, root: PathBuf },
    #[error("session '{0}' already exists")]
    Exists(String),
    #[error(
        "{path}: {message}; a session folder holds session.toml, .lock and images/ as plain \
         files and folders inside it: fix or remove the offending entry"
    )]
    UnsafeLayout { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

use super::FORMAT;

impl SessionError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SessionError::Io {
            path: path.into(),
            source,
        }
    }
}
