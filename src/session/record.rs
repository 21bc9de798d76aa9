//! Recording a step's life: `begin` adds it as running (so a crash shows it interrupted),
//! `finish` stores its output and moves head. The engine runs between the two, without the lock.

use super::running::RunGuard;
use super::store::now_rfc3339;
use super::{Session, SessionError};
use crate::core::{
    EditParams, EngineId, ErrorKind, ImageRef, MaskShape, MaskSpec, Op, Status, Step, StepError,
    StepId, ZEDIT_VERSION,
};
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
    /// What to change, rasterised by the runner into the step's mask image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_spec: Option<MaskSpec>,
    /// A mask image already stored in the session (replay of a recorded step).
    #[serde(default)]
    pub mask: Option<ImageRef>,
    #[serde(default)]
    pub overlay: Option<ImageRef>,
}

/// How a step ended.
#[derive(Debug)]
pub enum StepOutcome {
    Done { image: DynamicImage, took_ms: u64 },
    Failed(StepError),
    Cancelled,
}

/// A step recorded as running, and the lock that says its runner lives.
#[derive(Debug)]
pub struct Begun {
    pub id: StepId,
    pub guard: RunGuard,
}

impl Session {
    /// Adds `req` as a running step of `engine`, run by process `runner_pid`.
    pub fn begin_step(
        dir: &Path,
        req: &StepRequest,
        engine: &EngineId,
        runner_pid: u32,
    ) -> Result<Begun, SessionError> {
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
            let spec_file = match req.mask_spec.as_ref().map(|m| &m.shape) {
                Some(MaskShape::File { image }) => Some(image),
                _ => None,
            };
            for r in [req.mask.as_ref(), req.overlay.as_ref(), spec_file]
                .into_iter()
                .flatten()
            {
                s.image_path(r)?;
            }
            let id = s.doc.next_id();
            let guard = RunGuard::take(s.dir(), id)?;
            s.doc.steps.push(Step {
                id,
                parent: req.parent,
                op: req.op,
                instruction: req.instruction.clone(),
                engine: engine.clone(),
                params: req.params.clone(),
                input,
                mask_spec: req.mask_spec.clone(),
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
            Ok(Begun { id, guard })
        })
    }

    /// Records how step `begun` ended, with the mask image its engine got when the runner
    /// rasterised one. A done step becomes head when head is still on the step it was made
    /// from; when head moved meanwhile (an undo or checkout during the edit), that choice is
    /// kept. Returns the step as saved. The run lock is let go only once the outcome is saved.
    pub fn finish_step(
        dir: &Path,
        begun: Begun,
        outcome: StepOutcome,
        mask: Option<ImageRef>,
    ) -> Result<Step, SessionError> {
        let Begun { id, guard } = begun;
        let saved = match Session::finish_in(dir, id, outcome, mask) {
            Ok(step) => Ok(step),
            // The result could not be stored or recorded: record that instead, so the step ends
            // failed with the reason rather than staying `running` behind a live runner.
            Err(e) => {
                let failed = StepOutcome::Failed(StepError::new(
                    ErrorKind::Session,
                    format!("the result could not be recorded: {e}"),
                ));
                Session::finish_in(dir, id, failed, None).map_err(|_| e)
            }
        };
        drop(guard);
        saved
    }

    fn finish_in(
        dir: &Path,
        id: StepId,
        outcome: StepOutcome,
        mask: Option<ImageRef>,
    ) -> Result<Step, SessionError> {
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
            if mask.is_some() {
                step.mask = mask;
            }
            match outcome {
                StepOutcome::Done { took_ms, .. } => {
                    step.status = Status::Done;
                    step.output = output;
                    step.took_ms = Some(took_ms);
                    step.error = None;
                }
                StepOutcome::Failed(error) => {
                    step.status = Status::Failed;
                    step.error = Some(error);
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
