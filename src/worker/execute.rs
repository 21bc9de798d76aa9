//! Running one recorded step: mark it running (under its run lock), load its inputs and
//! rasterise its mask, run the engine outside the session lock, then store the output (or the
//! failure) and move head.

use crate::core::{ErrorKind, ImageRef, MaskShape, Step, StepError, StepId};
use crate::engine::{EditRequest, Engine, EngineError, Flow, Progress};
use crate::mask::{rasterise, MaskError};
use crate::session::{Session, SessionError, StepOutcome, StepRequest};
use image::{DynamicImage, GrayImage};
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
        recipe: req.recipe.clone(),
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
/// so the runner can report it while the engine runs.
pub fn execute_step_observed(
    dir: &Path,
    req: &StepRequest,
    engine: &mut dyn Engine,
    on_begin: &mut dyn FnMut(StepId),
    on_step: &mut dyn FnMut(Progress) -> Flow,
) -> Result<Step, ExecuteError> {
    let begun = Session::begin_step(dir, req, &engine.id(), std::process::id())?;
    on_begin(begun.id);
    let (outcome, mask) = match run_engine(dir, req, begun.id, engine, on_step) {
        Ok(done) => done,
        Err(e) => (
            StepOutcome::Failed(StepError::new(ErrorKind::Session, e.to_string())),
            None,
        ),
    };
    Ok(Session::finish_step(dir, begun, outcome, mask)?)
}

/// A step's mask image and, when the runner rasterised it, its stored copy.
type StepMask = (Option<GrayImage>, Option<ImageRef>);

/// Why a step's mask could not be made: a spec that does not rasterise, or a prompt the
/// segmentation model could not resolve.
enum StepMaskError {
    Mask(MaskError),
    Segment(crate::segment::SegmentError),
}

/// The step's mask: its spec rasterised at the input's size, or segmented from its points or
/// box (and stored, so replay reads the same pixels), else the mask image it was given.
fn step_mask(
    session: &Session,
    step: &Step,
    image: &DynamicImage,
) -> Result<Result<StepMask, StepMaskError>, SessionError> {
    let size = (image.width(), image.height());
    let Some(spec) = &step.mask_spec else {
        let mask = step
            .mask
            .as_ref()
            .map(|m| session.load_image(m).map(|i| i.to_luma8()))
            .transpose()?;
        return Ok(Ok((mask, None)));
    };
    let file = match &spec.shape {
        MaskShape::File { image } => Some(session.load_image(image)?.to_luma8()),
        _ => None,
    };
    let made = if spec.shape.needs_model() {
        crate::segment::mask_from_spec(spec, &image.to_rgb8()).map_err(StepMaskError::Segment)
    } else {
        rasterise(spec, size, file.as_ref()).map_err(StepMaskError::Mask)
    };
    let mask = match made {
        Ok(m) => m,
        Err(e) => return Ok(Err(e)),
    };
    let stored = session.put_image(&DynamicImage::ImageLuma8(mask.clone()))?;
    Ok(Ok((Some(mask), Some(stored))))
}

fn mask_failure(e: StepMaskError) -> StepOutcome {
    let (kind, message) = match e {
        StepMaskError::Mask(e @ MaskError::NeedsModel(_)) => {
            (ErrorKind::Unsupported, e.to_string())
        }
        StepMaskError::Mask(e @ MaskError::BadInput(_)) => (ErrorKind::BadInput, e.to_string()),
        StepMaskError::Segment(e) => (e.kind(), e.to_string()),
    };
    StepOutcome::Failed(StepError::new(kind, message))
}

fn run_engine(
    dir: &Path,
    req: &StepRequest,
    id: StepId,
    engine: &mut dyn Engine,
    on_step: &mut dyn FnMut(Progress) -> Flow,
) -> Result<(StepOutcome, Option<ImageRef>), SessionError> {
    let session = Session::load(dir)?;
    let step = session
        .doc
        .step(id)
        .ok_or_else(|| SessionError::Invalid(format!("step {id} vanished from the session")))?;
    let image = session.load_image(&step.input)?;
    let (mask, stored) = match step_mask(&session, step, &image)? {
        Ok(m) => m,
        Err(e) => return Ok((mask_failure(e), None)),
    };
    let overlay = step
        .overlay
        .as_ref()
        .map(|o| session.load_image(o))
        .transpose()?;
    let mask = mask.map(DynamicImage::ImageLuma8);
    let start = Instant::now();
    let result = build_request(req, &image, mask.as_ref(), overlay.as_ref())
        .and_then(|edit| engine.run(&edit, on_step));
    let outcome = match result {
        Ok(out) => StepOutcome::Done {
            image: DynamicImage::ImageRgb8(out),
            took_ms: start.elapsed().as_millis() as u64,
        },
        Err(EngineError::Cancelled) => StepOutcome::Cancelled,
        Err(e) => StepOutcome::Failed(e.to_step_error()),
    };
    Ok((outcome, stored))
}
