//! Recording a step's life: `begin` adds it as running (so a crash shows it interrupted),
//! `finish` stores its output and moves head. The engine runs between the two, without the lock.

use super::store::now_rfc3339;
use super::{Session, SessionError};
use crate::core::{EditParams, EngineId, ImageRef, Op, Status, Step, StepId, ZEDIT_VERSION};
use image::DynamicImage;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A step to run: what a client submits. Images are references inside the session folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRequest {
    /// The step whose output is edited; `None` edits the source image.
    pub parent: Option<StepId>,
    pub op: Op,
    pub instruction: String,
    pub params: EditParams,
    #[serde(default)]
    pub mask: Option<ImageRef>,
    #[serde(default)]
    pub overlay: Option<ImageRef>,
}

/// How a step ended.
#[derive(Debug)]
pub enum StepOutcome {
    Done { image: DynamicImage, took_ms: u64 },
    Failed { kind: String, message: String },
    Cancelled,
}

impl Session {
    /// Adds `req` as a running step of `engine`, run by process `runner_pid`.
    pub fn begin_step(
        dir: &Path,
        req: &StepRequest,
        engine: &EngineId,
        runner_pid: u32,
    ) -> Result<StepId, SessionError> {
        if req.instruction.trim().is_empty() {
            return Err(SessionError::Invalid(
                "the instruction is empty: say what to change".into(),
            ));
        }
        req.params.validate().map_err(SessionError::Invalid)?;
        Session::transact(dir, |s| {
            let input = match req.parent {
                None => s.doc.source.clone(),
                Some(p) => {
                    let parent = s.doc.step(p).ok_or_else(|| {
                        SessionError::Invalid(format!("step {p} does not exist in '{}'", s.name()))
                    })?;
                    parent.output.clone().ok_or_else(|| {
                        SessionError::Invalid(format!(
                            "step {p} has no output ({}): run it again or check out a done step",
                            parent.status
                        ))
                    })?
                }
            };
            for r in [req.mask.as_ref(), req.overlay.as_ref()]
                .into_iter()
                .flatten()
            {
                s.image_path(r)?;
            }
            let id = s.doc.next_id();
            s.doc.steps.push(Step {
                id,
                parent: req.parent,
                op: req.op,
                instruction: req.instruction.clone(),
                engine: engine.clone(),
                params: req.params.clone(),
                input,
                mask: req.mask.clone(),
                overlay: req.overlay.clone(),
                output: None,
                status: Status::Running,
                error: None,
                runner_pid: Some(runner_pid),
                created: now_rfc3339(),
                took_ms: None,
                zedit_version: ZEDIT_VERSION.into(),
            });
            Ok(id)
        })
    }

    /// Records how step `id` ended. A done step becomes head when head is still on the step it
    /// was made from; when head moved meanwhile (an undo or checkout during the edit), that
    /// choice is kept. Returns the step as saved.
    pub fn finish_step(dir: &Path, id: StepId, outcome: StepOutcome) -> Result<Step, SessionError> {
        // Encoding a large image takes seconds: do it before taking the lock, so the lock is
        // held only to rename and record.
        let output = match &outcome {
            StepOutcome::Done { image, .. } => Some(Session::store_image(dir, image)?),
            _ => None,
        };
        Session::transact(dir, |s| {
            let step = s.doc.step_mut(id).ok_or_else(|| {
                SessionError::Invalid(format!("step {id} vanished from the session"))
            })?;
            step.runner_pid = None;
            match outcome {
                StepOutcome::Done { took_ms, .. } => {
                    step.status = Status::Done;
                    step.output = output;
                    step.took_ms = Some(took_ms);
                    step.error = None;
                }
                StepOutcome::Failed { kind, message } => {
                    step.status = Status::Failed;
                    step.error = Some(format!("{kind}: {message}"));
                }
                StepOutcome::Cancelled => step.status = Status::Cancelled,
            }
            let saved = step.clone();
            if saved.status == Status::Done && s.doc.head == saved.parent {
                s.doc.head = Some(id);
            }
            Ok(saved)
        })
    }

    /// Moves head to `id` (or the source with `None`); nothing is deleted.
    pub fn checkout(dir: &Path, id: Option<StepId>) -> Result<Option<StepId>, SessionError> {
        Session::transact(dir, |s| {
            if let Some(id) = id {
                let step = s.doc.step(id).ok_or_else(|| {
                    SessionError::Invalid(format!("step {id} does not exist in '{}'", s.name()))
                })?;
                if step.output.is_none() {
                    return Err(SessionError::Invalid(format!(
                        "step {id} is {} and has no image to check out",
                        step.status
                    )));
                }
            }
            s.doc.head = id;
            Ok(id)
        })
    }

    /// Moves head to the parent of the current head (the nearest done ancestor).
    pub fn undo(dir: &Path) -> Result<Option<StepId>, SessionError> {
        Session::transact(dir, |s| {
            let head = s.doc.head.ok_or_else(|| {
                SessionError::Invalid("nothing to undo: head is the source".into())
            })?;
            let mut target = s.doc.step(head).and_then(|st| st.parent);
            while let Some(t) = target {
                match s.doc.step(t) {
                    Some(st) if st.output.is_some() => break,
                    Some(st) => target = st.parent,
                    None => target = None,
                }
            }
            s.doc.head = target;
            Ok(target)
        })
    }
}
