//! Running one recorded step: mark it running, load its inputs, run the engine outside the
//! session lock, then store the output (or the failure) and move head.

use crate::core::{Step, StepId};
use crate::engine::{EditRequest, Engine, EngineError, Flow, Progress};
use crate::session::{Session, SessionError, StepOutcome, StepRequest};
use image::DynamicImage;
use std::path::Path;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// Builds the engine's request from decoded images; the mask must match the image's size.
pub fn build_request(
    req: &StepRequest,
    image: &DynamicImage,
    mask: Option<&DynamicImage>,
    overlay: Option<&DynamicImage>,
) -> Result<EditRequest, EngineError> {
    let image = image.to_rgb8();
    let mask = mask.map(|m| m.to_luma8());
    if let Some(m) = &mask {
        if m.dimensions() != image.dimensions() {
            return Err(EngineError::BadInput(format!(
                "mask is {}x{} but the image is {}x{}; masks must match the image size",
                m.width(),
                m.height(),
                image.width(),
                image.height()
            )));
        }
    }
    Ok(EditRequest {
        op: req.op,
        instruction: req.instruction.clone(),
        image,
        mask,
        overlay: overlay.map(|o| o.to_rgba8()),
        params: req.params.clone(),
    })
}

/// Runs `req` in the session at `dir` on `engine` and records it. The returned step is done,
/// failed or cancelled; `Err` only when the session itself cannot be read or written.
pub fn execute_step(
    dir: &Path,
    req: &StepRequest,
    engine: &mut dyn Engine,
    on_step: &mut dyn FnMut(Progress) -> Flow,
) -> Result<Step, ExecuteError> {
    execute_step_observed(dir, req, engine, &mut |_| {}, on_step)
}

/// As [`execute_step`], telling `on_begin` the step's id as soon as it is recorded as running,
/// so the worker can report it while the engine runs.
pub fn execute_step_observed(
    dir: &Path,
    req: &StepRequest,
    engine: &mut dyn Engine,
    on_begin: &mut dyn FnMut(StepId),
    on_step: &mut dyn FnMut(Progress) -> Flow,
) -> Result<Step, ExecuteError> {
    let id = Session::begin_step(dir, req, &engine.id(), std::process::id())?;
    on_begin(id);
    let outcome = match run_engine(dir, req, id, engine, on_step) {
        Ok(outcome) => outcome,
        Err(e) => StepOutcome::Failed {
            kind: "session".into(),
            message: e.to_string(),
        },
    };
    match Session::finish_step(dir, id, outcome) {
        Ok(step) => Ok(step),
        // The result could not be stored or recorded: record that instead, so the step ends
        // failed with the reason rather than staying `running` behind a live runner.
        Err(e) => {
            let failed = StepOutcome::Failed {
                kind: "session".into(),
                message: format!("the result could not be recorded: {e}"),
            };
            match Session::finish_step(dir, id, failed) {
                Ok(step) => Ok(step),
                Err(_) => Err(e.into()),
            }
        }
    }
}

fn run_engine(
    dir: &Path,
    req: &StepRequest,
    id: StepId,
    engine: &mut dyn Engine,
    on_step: &mut dyn FnMut(Progress) -> Flow,
) -> Result<StepOutcome, SessionError> {
    let session = Session::load(dir)?;
    let step = session
        .doc
        .step(id)
        .ok_or_else(|| SessionError::Invalid(format!("step {id} vanished from the session")))?;
    let image = session.load_image(&step.input)?;
    let (mask, overlay) = session.load_step_extras(step)?;
    let start = Instant::now();
    let result = build_request(req, &image, mask.as_ref(), overlay.as_ref())
        .and_then(|edit| engine.run(&edit, on_step));
    Ok(match result {
        Ok(out) => StepOutcome::Done {
            image: DynamicImage::ImageRgb8(out),
            took_ms: start.elapsed().as_millis() as u64,
        },
        Err(EngineError::Cancelled) => StepOutcome::Cancelled,
        Err(e) => StepOutcome::Failed {
            kind: e.kind().into(),
            message: e.to_string(),
        },
    })
}
