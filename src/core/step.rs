//! One recorded edit in a session's tree of steps.

use super::{EditParams, MaskSpec, Op, Recipe, StepError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A step's id: a small number, unique within its session, shown to users as `#N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StepId(pub u32);

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for StepId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .trim_start_matches('#')
            .parse::<u32>()
            .map(StepId)
            .map_err(|_| format!("'{s}' is not a step id (a number such as 3 or #3)"))
    }
}

/// A content-addressed image inside a session folder: `images/<blake3>.png`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageRef {
    /// Path relative to the session folder.
    pub path: String,
    /// blake3 of the file's bytes, hex.
    pub blake3: String,
}

/// Which engine produced a step, and with what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineId {
    pub name: String,
    pub version: String,
    /// Digest of the model weights, for generative engines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_digest: Option<String>,
    /// How the engine ran quantized GGUF weights (absent: the model had none, or the step was
    /// recorded before the choice was; replay then uses the current default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gguf_exec: Option<crate::engine::QuantMode>,
}

impl fmt::Display for EngineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.version)?;
        if let Some(d) = &self.model_digest {
            write!(f, " (model {})", &d[..d.len().min(12)])?;
        }
        if let Some(q) = self.gguf_exec {
            write!(f, " gguf {q}")?;
        }
        Ok(())
    }
}

/// Where a step is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Running,
    Done,
    Failed,
    Cancelled,
    /// Was running when its process died; never counts as done.
    Interrupted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One edit: what was asked, how it was run, and what it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub id: StepId,
    /// The step this one edited the output of; `None` means the session's source image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<StepId>,
    pub op: Op,
    pub instruction: String,
    pub engine: EngineId,
    pub params: EditParams,
    /// What a generative engine was told (mode, prompts, mask source); absent in steps
    /// recorded before recipes existed and in classic steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<Recipe>,
    pub input: ImageRef,
    /// What the step changes, as asked (format 2); its rasterised image is `mask`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_spec: Option<MaskSpec>,
    /// The mask image the engine got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<ImageRef>,
    /// An image composited by `add`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlay: Option<ImageRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<ImageRef>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
    /// Process that runs the step while it is `running` (whether it lives is told by the lock
    /// it holds on the step, see `session::running`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_pid: Option<u32>,
    /// RFC 3339 time the step was created.
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took_ms: Option<u64>,
    pub zedit_version: String,
}
