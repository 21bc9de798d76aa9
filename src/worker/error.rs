//! Errors at the worker boundary. On the socket they travel as data (`Event::Error`); here they
//! name the socket, file or version at fault and what to do.

use crate::engine::EngineError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("a worker (pid {pid}) already serves {socket}; stop it with `zedit worker stop`")]
    AlreadyRunning { socket: PathBuf, pid: String },
    #[error("no worker answers on {socket}: {source}")]
    Unreachable {
        socket: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the worker on {socket} speaks protocol {theirs} (zedit {their_version}) but this zedit \
         speaks protocol {PROTOCOL} (zedit {ours}); restart it with `zedit worker stop` and retry"
    )]
    VersionMismatch {
        socket: PathBuf,
        theirs: u32,
        their_version: String,
        ours: String,
    },
    #[error("the worker could not start: {message} (log: {log})")]
    StartFailed { log: PathBuf, message: String },
    #[error("cannot load engine '{name}': {source}")]
    EngineLoad { name: String, source: EngineError },
    #[error("the worker refused the request ({kind}): {message}")]
    Refused { kind: String, message: String },
    #[error("the worker on {0} closed the connection")]
    Closed(PathBuf),
    #[error("the worker on {socket} did not answer within {secs} s")]
    Timeout { socket: PathBuf, secs: u64 },
    #[error("the worker sent a message this zedit cannot read: {0}")]
    BadMessage(String),
    /// The job ended before its step was recorded.
    #[error("the job failed ({}): {}", .0.kind, .0.message)]
    JobFailed(crate::core::StepError),
    #[error("the job was cancelled before its step started")]
    JobCancelled,
    /// The session that holds the job's step cannot be read.
    #[error("{0}")]
    Session(String),
}

use super::proto::PROTOCOL;

impl WorkerError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        WorkerError::Io {
            path: path.into(),
            source,
        }
    }
}
