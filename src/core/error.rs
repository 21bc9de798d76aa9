//! Why a step failed, as data: a stable kind and the message for the user. Stored in
//! `session.toml` as two fields and sent on the worker socket the same way.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// What went wrong, in words a program can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The engine cannot do this op or instruction.
    Unsupported,
    /// The request is wrong: mask size, empty mask, unknown colour.
    BadInput,
    /// The engine or its model cannot be opened here.
    Unavailable,
    /// Model weights are malformed.
    Model,
    OutOfMemory,
    Cancelled,
    /// The session folder could not be read or written.
    Session,
    /// The worker could not be reached, or went away.
    Worker,
    Internal,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::Unsupported,
        ErrorKind::BadInput,
        ErrorKind::Unavailable,
        ErrorKind::Model,
        ErrorKind::OutOfMemory,
        ErrorKind::Cancelled,
        ErrorKind::Session,
        ErrorKind::Worker,
        ErrorKind::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::BadInput => "bad_input",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Model => "model",
            ErrorKind::OutOfMemory => "out_of_memory",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Session => "session",
            ErrorKind::Worker => "worker",
            ErrorKind::Internal => "internal",
        }
    }

    /// The kind named `s`; `None` for a name this build does not know.
    pub fn parse(s: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed step's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepError {
    pub kind: ErrorKind,
    pub message: String,
}

impl StepError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> StepError {
        StepError {
            kind,
            message: message.into(),
        }
    }

    /// Reads the joined `"kind: message"` text that format-1 sessions stored. Text without a
    /// known kind in front is kept whole as an internal error.
    pub fn from_joined(text: &str) -> StepError {
        match text.split_once(": ") {
            Some((k, m)) => match ErrorKind::parse(k) {
                Some(kind) => StepError::new(kind, m),
                None => StepError::new(ErrorKind::Internal, text),
            },
            None => StepError::new(ErrorKind::Internal, text),
        }
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

/// Either shape a session file may hold.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Fields { kind: String, message: String },
    Joined(String),
}

impl<'de> Deserialize<'de> for StepError {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Stored::deserialize(d)? {
            // A kind from a newer zedit is kept as internal, with its name in the message.
            Stored::Fields { kind, message } => match ErrorKind::parse(&kind) {
                Some(k) => StepError::new(k, message),
                None => StepError::new(ErrorKind::Internal, format!("{kind}: {message}")),
            },
            Stored::Joined(text) => StepError::from_joined(&text),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Holder {
        error: StepError,
    }

    #[test]
    fn stores_two_fields_and_reads_the_joined_form() {
        let h = Holder {
            error: StepError::new(ErrorKind::OutOfMemory, "CUDA: out of memory"),
        };
        let text = toml::to_string(&h).unwrap();
        assert!(text.contains("kind = \"out_of_memory\""), "{text}");
        assert!(text.contains("message = \"CUDA: out of memory\""), "{text}");
        assert_eq!(toml::from_str::<Holder>(&text).unwrap(), h);
        let old: Holder = toml::from_str("error = \"bad_input: mask is 5x5\"").unwrap();
        assert_eq!(
            old.error,
            StepError::new(ErrorKind::BadInput, "mask is 5x5")
        );
        let odd: Holder = toml::from_str("error = \"the engine said: no\"").unwrap();
        assert_eq!(odd.error.kind, ErrorKind::Internal);
        assert_eq!(odd.error.message, "the engine said: no");
    }

    #[test]
    fn kinds_round_trip_by_name() {
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
    }
}
