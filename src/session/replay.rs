//! Replay: re-run a chain with its recorded parameters and seeds, on the source (optionally
//! verifying every output hash) or on another image. The engine is supplied by the caller.

use super::{Session, SessionError};
use crate::core::{EngineId, Step, StepId};
use image::DynamicImage;

/// What a caller's runner needs to re-run one step.
pub struct ReplayInput<'a> {
    pub step: &'a Step,
    pub image: DynamicImage,
    pub mask: Option<DynamicImage>,
    pub overlay: Option<DynamicImage>,
}

/// Runs one step for replay: the new image and the engine that made it, or why it failed.
pub type StepRunner<'a> = dyn FnMut(ReplayInput) -> Result<(DynamicImage, EngineId), String> + 'a;

/// One re-run step.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReplayedStep {
    pub id: StepId,
    pub blake3: String,
    /// With verification: whether the new output has the recorded hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("step {id} ({op} \"{instruction}\"): {message}")]
    Step {
        id: StepId,
        op: String,
        instruction: String,
        message: String,
    },
    #[error(
        "step {id}: output differs from the recorded one ({expected} recorded, {found} now){note}"
    )]
    Mismatch {
        id: StepId,
        expected: String,
        found: String,
        /// Why it may differ (a LoRA file that changed), with its leading "; ", or empty.
        note: String,
    },
    #[error("step {id}: the stored output {path} was changed after it was recorded")]
    Tampered { id: StepId, path: String },
}

/// The PNG bytes zedit stores for an image; hashes are taken of these.
pub fn png_bytes(image: &DynamicImage) -> Result<Vec<u8>, SessionError> {
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .map_err(|e| SessionError::Invalid(format!("cannot encode PNG: {e}")))?;
    Ok(bytes)
}

/// Re-runs the chain from the source to `head` (or the session's head). `start` replaces the
/// source image for batch replay; verification only makes sense without it.
pub fn replay_chain(
    session: &Session,
    head: Option<StepId>,
    start: Option<DynamicImage>,
    verify: bool,
    run: &mut StepRunner,
) -> Result<(DynamicImage, Vec<ReplayedStep>), ReplayError> {
    let head = head.or(session.doc.head);
    let chain = session.doc.chain_to(head);
    let mut image = match start {
        Some(img) => img,
        None => session.load_image(&session.doc.source)?,
    };
    let mut report = Vec::new();
    for step in chain {
        let fail = |message: String| ReplayError::Step {
            id: step.id,
            op: step.op.to_string(),
            instruction: step.instruction.clone(),
            message,
        };
        let Some(recorded) = step.output.as_ref() else {
            return Err(fail(format!(
                "it is {} and has no recorded output to replay",
                step.status
            )));
        };
        if verify && !session.image_intact(recorded)? {
            return Err(ReplayError::Tampered {
                id: step.id,
                path: recorded.path.clone(),
            });
        }
        let lora_warnings = lora_changes(step);
        let (mask, overlay) = session.load_step_extras(step)?;
        let (out, engine) = run(ReplayInput {
            step,
            image,
            mask,
            overlay,
        })
        .map_err(fail)?;
        let hash = blake3::hash(&png_bytes(&out)?).to_hex().to_string();
        let mut warnings = lora_warnings;
        if engine.name != step.engine.name || engine.version != step.engine.version {
            warnings.push(format!(
                "recorded with {}, replayed with {}",
                step.engine, engine
            ));
        } else if engine.model_digest != step.engine.model_digest {
            warnings.push(format!(
                "recorded with {}, replayed with another model: {}",
                step.engine, engine
            ));
        } else if step.engine.gguf_exec.is_some() && engine.gguf_exec != step.engine.gguf_exec {
            warnings.push(format!(
                "recorded with {}, replayed with another GGUF execution choice: {}",
                step.engine, engine
            ));
        }
        let matches = verify.then(|| hash == recorded.blake3);
        if matches == Some(false) {
            let note = warnings.iter().map(|w| format!("; {w}")).collect();
            return Err(ReplayError::Mismatch {
                id: step.id,
                expected: recorded.blake3.clone(),
                found: hash,
                note,
            });
        }
        report.push(ReplayedStep {
            id: step.id,
            blake3: hash,
            matches,
            warnings,
        });
        image = out;
    }
    Ok((image, report))
}

/// A warning for each LoRA of the step's recipe whose file is gone or no longer has the
/// recorded digest: replay applies the file as it is now.
pub fn lora_changes(step: &Step) -> Vec<String> {
    let Some(recipe) = &step.recipe else {
        return Vec::new();
    };
    recipe
        .loras
        .iter()
        .filter_map(|l| match std::fs::read(&l.path) {
            Ok(bytes) => {
                let now = blake3::hash(&bytes).to_hex().to_string();
                (now != l.digest).then(|| {
                    format!(
                        "LoRA {} changed since the step was made (digest {} recorded, {} now)",
                        l.path.display(),
                        short(&l.digest),
                        short(&now)
                    )
                })
            }
            Err(e) => Some(format!(
                "LoRA {} recorded with the step cannot be read: {e}",
                l.path.display()
            )),
        })
        .collect()
}

fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}
