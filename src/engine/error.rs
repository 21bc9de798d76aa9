//! Engine failures, with a stable `kind` so they can cross the worker socket as data.

use crate::core::{ErrorKind, StepError};

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
    /// The kind used on the worker protocol and in session files.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::Unsupported(_) => ErrorKind::Unsupported,
            EngineError::BadInput(_) => ErrorKind::BadInput,
            EngineError::Unavailable(_) => ErrorKind::Unavailable,
            EngineError::Model(_) => ErrorKind::Model,
            EngineError::OutOfMemory(_) => ErrorKind::OutOfMemory,
            EngineError::Cancelled => ErrorKind::Cancelled,
            EngineError::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The error as a step records it.
    pub fn to_step_error(&self) -> StepError {
        StepError::new(self.kind(), self.to_string())
    }

    /// A failure reported by a tensor library (`what` names the part that failed). Running out
    /// of device or host memory is told apart by the library's own words, so the runner can
    /// drop the engine and free its memory; everything else is internal.
    pub fn from_tensor_failure(what: &str, text: &str) -> EngineError {
        let lower = text.to_ascii_lowercase();
        let oom = [
            "out of memory",
            "out_of_memory",
            "outofmemory",
            "cannot allocate memory",
            "failed to allocate",
            "allocation failed",
            "insufficient memory",
        ];
        if oom.iter().any(|w| lower.contains(w)) {
            EngineError::OutOfMemory(format!("{what}: {text}"))
        } else {
            EngineError::Internal(format!("{what}: {text}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_failures_that_say_out_of_memory_are_out_of_memory() {
        let cases = [
            (
                "DriverError(CUDA_ERROR_OUT_OF_MEMORY, \"out of memory\")",
                true,
            ),
            (
                "Metal error: failed to allocate buffer of 4294967296 bytes",
                true,
            ),
            ("Cuda(Cuda(DriverError(CUDA_ERROR_OUT_OF_MEMORY", true),
            ("shape mismatch in matmul, lhs: [2, 3], rhs: [4, 5]", false),
        ];
        for (text, oom) in cases {
            let e = EngineError::from_tensor_failure("transformer", text);
            let want = if oom {
                ErrorKind::OutOfMemory
            } else {
                ErrorKind::Internal
            };
            assert_eq!(e.kind(), want, "{text}");
            assert!(e.to_string().contains("transformer"), "{e}");
        }
    }
}
