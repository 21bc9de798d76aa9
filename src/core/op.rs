//! The kinds of edit a step performs.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What one step does to the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Delete,
    Add,
    Replace,
    Recolor,
    Relight,
    Restyle,
    /// A free-form change that fits none of the other ops.
    Edit,
}

impl Op {
    pub const ALL: [Op; 7] = [
        Op::Delete,
        Op::Add,
        Op::Replace,
        Op::Recolor,
        Op::Relight,
        Op::Restyle,
        Op::Edit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Delete => "delete",
            Op::Add => "add",
            Op::Replace => "replace",
            Op::Recolor => "recolor",
            Op::Relight => "relight",
            Op::Restyle => "restyle",
            Op::Edit => "edit",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown op '{0}': expected one of delete, add, replace, recolor, relight, restyle, edit")]
pub struct ParseOpError(pub String);

impl FromStr for Op {
    type Err = ParseOpError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Op::ALL
            .into_iter()
            .find(|op| op.as_str() == lower)
            .ok_or_else(|| ParseOpError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_op_and_rejects_others() {
        for op in Op::ALL {
            assert_eq!(op.as_str().parse::<Op>(), Ok(op));
        }
        assert_eq!("Relight".parse::<Op>(), Ok(Op::Relight));
        let err = "paint".parse::<Op>().unwrap_err();
        assert!(err.to_string().contains("'paint'"));
    }
}
