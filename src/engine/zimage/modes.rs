//! A request's recipe as pipeline runs: img2img, inpaint, FlowEdit, and the classic engine's
//! fill followed by an inpaint.

use super::flowedit::FlowEditJob;
use super::imageio;
use super::noise::Noise;
use super::pipeline::{Init, Job, Output, Pipeline, StepInfo};
use super::EngineError;
use crate::core::{FlowEditParams, Mode, Recipe, RecipeError};
use crate::engine::classic::{self, ClassicEngine};
use crate::engine::{EditRequest, Engine, Flow, Progress};
use image::RgbImage;

/// The recipe of a request recorded before recipes existed: the instruction as the prompt,
/// inpainting when a mask file is given, else img2img.
pub fn legacy_recipe(req: &EditRequest) -> Recipe {
    Recipe {
        mode: if req.mask.is_some() {
            Mode::Inpaint
        } else {
            Mode::Img2img
        },
        prompt: req.instruction.clone(),
        source_prompt: None,
        negative_prompt: None,
        mask_source: if req.mask.is_some() {
            crate::core::MaskSource::File
        } else {
            crate::core::MaskSource::None
        },
        strength: req.params.strength,
        steps: req.params.steps,
        loras: Vec::new(),
    }
}

/// Runs `recipe` for `req` on `pipeline`; the image is resized to whole patches and back.
pub fn run(
    pipeline: &mut Pipeline,
    req: &EditRequest,
    recipe: &Recipe,
    legacy: bool,
    on_step: &mut dyn FnMut(Progress) -> Flow,
) -> Result<RgbImage, EngineError> {
    let orig = req.image.dimensions();
    let size = imageio::model_size(orig.0, orig.1)?;
    let device = pipeline.device().clone();
    // A recipe's mask follows the params (region, grow, feather) as the classic engine's does;
    // steps recorded before recipes used the mask file alone.
    let mask = if legacy {
        req.mask.clone()
    } else {
        classic::resolve_mask(req)?
    };
    // The recipe's own mask source may predate a mask added since; the mask at hand decides.
    match recipe.check(&req.instruction) {
        Err(RecipeError::MaskMissing { .. }) if mask.is_some() => {}
        Err(e) => return Err(EngineError::BadInput(e.to_string())),
        Ok(()) => {}
    }
    if recipe.mode.needs_mask() && mask.is_none() {
        let e = RecipeError::MaskMissing {
            mode: recipe.mode,
            what: req.instruction.clone(),
        };
        return Err(EngineError::BadInput(e.to_string()));
    }
    let image = match recipe.mode {
        Mode::ClassicPrefillInpaint => prefill(req, on_step)?,
        _ => req.image.clone(),
    };
    let image_t = imageio::image_tensor(&image, size, &device)?;
    let mask_t = match (&mask, recipe.mode) {
        (_, Mode::Img2img) | (None, _) => None,
        (Some(m), _) => {
            imageio::check_mask(&req.image, m)?;
            Some(imageio::mask_tensor(m, size, &device)?)
        }
    };
    let mut cb = |s: StepInfo| {
        on_step(Progress {
            step: s.index as u32 + 1,
            total: s.total as u32,
        })
    };
    let out: Output = match recipe.mode {
        Mode::Flowedit => {
            let params = req.params.flowedit.unwrap_or_else(|| {
                FlowEditParams::for_strength(req.params.steps, req.params.strength)
            });
            let job = FlowEditJob {
                source_prompt: recipe.source_prompt.clone().unwrap_or_default(),
                target_prompt: recipe.prompt.clone(),
                negative_prompt: recipe.negative_prompt.clone(),
                params,
                steps: req.params.steps as usize,
                image: image_t,
                mask: mask_t,
                noise: Noise::Seeded(req.params.seed),
            };
            pipeline.run_flowedit(&job, &mut cb)?
        }
        _ => {
            let job = Job {
                prompt: recipe.prompt.clone(),
                negative_prompt: recipe.negative_prompt.clone(),
                guidance: req.params.cfg,
                cfg_truncation: 1.0,
                cfg_normalization: 0.0,
                steps: req.params.steps as usize,
                // The decimal the user gave, as the reference's Python float: widening the f32
                // (0.6 → 0.6000000238) would start one step early at common settings.
                strength: super::scheduler::decimal(req.params.strength),
                init: Init::Image {
                    image: image_t,
                    mask: mask_t,
                },
                noise: Noise::Seeded(req.params.seed),
            };
            pipeline.run(&job, &mut cb)?
        }
    };
    Ok(imageio::restore_size(out.to_rgb()?, orig))
}

/// The classic engine's fill of the mask: what the inpaint of a delete starts from.
pub fn prefill(
    req: &EditRequest,
    on_step: &mut dyn FnMut(Progress) -> Flow,
) -> Result<RgbImage, EngineError> {
    let fill = EditRequest {
        op: crate::core::Op::Delete,
        recipe: None,
        overlay: None,
        ..req.clone()
    };
    ClassicEngine::new().run(&fill, on_step)
}
