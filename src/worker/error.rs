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
    #[error(
        "{dir}: refusing to use this socket folder: {why}; remove it (or `chmod 700` it if it \
         is yours) or choose a private one with --socket or XDG_RUNTIME_DIR"
    )]
    UnsafeSocketDir { dir: PathBuf, why: String },
    #[error("{socket}: refusing to use this socket: {why}; remove it or choose another --socket")]
    UnsafeSocket { socket: PathBuf, why: String },
    #[error(
        "{0}: exists and is not a socket; refusing to replace it: choose another --socket path"
    )]
    NotASocket(PathBuf),
    #[error(
        "{socket}: the process serving this socket runs as uid {uid}, not as you; refusing to \
         send it anything: stop it or choose another --socket"
    )]
    PeerNotUs { socket: PathBuf, uid: u32 },
}

use super::proto::PROTOCOL;

impl WorkerError {
    /// True for answers that starting another worker cannot fix: another protocol, or a socket
    /// that is not safely ours. Such a socket is reported, never replaced.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            WorkerError::VersionMismatch { .. }
                | WorkerError::Refused { .. }
                | WorkerError::UnsafeSocketDir { .. }
                | WorkerError::UnsafeSocket { .. }
                | WorkerError::NotASocket(_)
                | WorkerError::PeerNotUs { .. }
        )
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        WorkerError::Io {
            path: path.into(),
            source,
        }
    }
}
