//! Engine failures, with a stable `kind` so they can cross the worker socket as data.

/// Why an edit did not produce an image.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The engine cannot do this op or instruction; the message names the engine that can.
    #[error("{0}")]
    Unsupported(String),
    /// The request is wrong: mask size, empty mask, unknown colour, missing overlay...
    #[error("{0}")]
    BadInput(String),
    /// The engine or its model cannot be opened here (missing weights, device not built in).
    #[error("{0}")]
    Unavailable(String),
    /// Model weights are malformed (wrong shape, truncated file).
    #[error("{0}")]
    Model(String),
    #[error("out of memory: {0}")]
    OutOfMemory(String),
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Internal(String),
}

impl EngineError {
    /// A short machine-readable kind, used on the worker protocol and in session files.
    pub fn kind(&self) -> &'static str {
        match self {
            EngineError::Unsupported(_) => "unsupported",
            EngineError::BadInput(_) => "bad_input",
            EngineError::Unavailable(_) => "unavailable",
            EngineError::Model(_) => "model",
            EngineError::OutOfMemory(_) => "out_of_memory",
            EngineError::Cancelled => "cancelled",
            EngineError::Internal(_) => "internal",
        }
    }
}
