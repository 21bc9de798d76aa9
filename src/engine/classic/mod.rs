//! The built-in CPU engine: real edits with no model weights. Every op is deterministic: the
//! same input and params give the same bytes on every machine.

mod add;
mod colors;
mod delete;
mod inpaint;
mod light_words;
mod mask;
mod num;
mod recolor;
mod relight;
mod text;

pub use mask::resolve as resolve_mask;
pub use relight::RELIGHT_HELP;

use super::{EditRequest, Engine, EngineError, Flow, Progress};
use crate::core::{EngineId, Op};
use image::RgbImage;

/// Bumped whenever an op's output bytes change, so replay can tell old results from new.
pub const CLASSIC_VERSION: &str = "2";

#[derive(Debug, Default)]
pub struct ClassicEngine;

impl ClassicEngine {
    pub fn new() -> Self {
        ClassicEngine
    }
}

impl Engine for ClassicEngine {
    fn id(&self) -> EngineId {
        EngineId {
            name: "classic".into(),
            version: CLASSIC_VERSION.into(),
            model_digest: None,
            gguf_exec: None,
        }
    }

    fn run(
        &mut self,
        req: &EditRequest,
        on_step: &mut dyn FnMut(Progress) -> Flow,
    ) -> Result<RgbImage, EngineError> {
        let mask = mask::resolve(req)?;
        if on_step(Progress { step: 0, total: 1 }) == Flow::Cancel {
            return Err(EngineError::Cancelled);
        }
        let out = match req.op {
            Op::Relight => relight::run(req, mask.as_ref())?,
            // Delete reports its own stages, up to its last.
            Op::Delete => return delete::run(req, mask.as_ref(), on_step),
            Op::Recolor => recolor::run(req, mask.as_ref())?,
            Op::Add => add::run(req, mask.as_ref())?,
            op => return Err(unsupported(op, &req.instruction)),
        };
        on_step(Progress { step: 1, total: 1 });
        Ok(out)
    }
}

fn unsupported(op: Op, instruction: &str) -> EngineError {
    EngineError::Unsupported(format!(
        "the classic engine cannot {op} \"{instruction}\": that needs a generative model; \
         run it with `--engine zimage`"
    ))
}
