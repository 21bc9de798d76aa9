//! Masks found by models: a point or box prompt turned into a mask by Segment Anything
//! (MobileSAM by default, SAM ViT-B also), as ranked candidates at the image's size, and words
//! turned into a mask (`grounding`). The prompt checks run without a model, so bad input is
//! refused before anything loads.

#[cfg(feature = "sam")]
pub mod cache;
#[cfg(feature = "sam")]
pub mod grounding;
#[cfg(feature = "sam")]
pub mod models;
#[cfg(feature = "sam")]
pub mod sam;
#[cfg(feature = "sam")]
mod segmenter;

#[cfg(feature = "sam")]
pub use segmenter::{Candidate, SegmentModel, Segmentation};

use crate::core::{MaskPoint, MaskShape, MaskSpec, Rect, Segmenter};
use image::{GrayImage, RgbImage};

/// The smallest image side segmentation accepts.
pub const MIN_SIDE: u32 = 16;

#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    /// No usable model: weights missing, unreadable, or of an unknown kind.
    #[error("{0}")]
    Unavailable(String),
    /// A prompt or image the model cannot take.
    #[error("{0}")]
    BadInput(String),
    /// What this build cannot do (words to a mask, or no `sam` feature).
    #[error("{0}")]
    Unsupported(String),
    /// The model failed while running.
    #[error("segmentation failed: {0}")]
    Model(String),
}

impl SegmentError {
    /// The kind a step that failed on this error records.
    pub fn kind(&self) -> crate::core::ErrorKind {
        use crate::core::ErrorKind;
        match self {
            SegmentError::Unavailable(_) => ErrorKind::Unavailable,
            SegmentError::BadInput(_) => ErrorKind::BadInput,
            SegmentError::Unsupported(_) => ErrorKind::Unsupported,
            SegmentError::Model(_) => ErrorKind::Model,
        }
    }
}

/// A prompt in the pixels of the image it is given for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromptSpec {
    pub points: Vec<MaskPoint>,
    pub bbox: Option<Rect>,
}

/// Refuses an image of `size` too small to segment, naming its size.
pub fn check_image_size((w, h): (u32, u32)) -> Result<(), SegmentError> {
    if w < MIN_SIDE || h < MIN_SIDE {
        return Err(SegmentError::BadInput(format!(
            "the image is {w}x{h}; segmentation needs at least {MIN_SIDE} pixels on each side"
        )));
    }
    Ok(())
}

impl PromptSpec {
    /// Checks the prompt against an image of `size`: some point or box, every point inside,
    /// the box not empty and inside; the image large enough.
    pub fn check(&self, size: (u32, u32)) -> Result<(), SegmentError> {
        check_image_size(size)?;
        let (w, h) = size;
        if self.points.is_empty() && self.bbox.is_none() {
            return Err(SegmentError::BadInput(
                "no prompt: give a point (--point X,Y), a box (--box X,Y,W,H) or both".into(),
            ));
        }
        if !self.points.iter().any(|p| p.positive) && self.bbox.is_none() {
            return Err(SegmentError::BadInput(
                "only negative points: add a positive one (--point X,Y) or a box, to say what to \
                 select"
                    .into(),
            ));
        }
        for p in &self.points {
            if p.x >= w || p.y >= h {
                let flag = if p.positive { "--point" } else { "--neg" };
                return Err(SegmentError::BadInput(format!(
                    "{flag} {},{} is outside the {w}x{h} image (x must be below {w}, y below {h})",
                    p.x, p.y
                )));
            }
        }
        if let Some(b) = self.bbox {
            if b.w == 0 || b.h == 0 {
                return Err(SegmentError::BadInput(format!(
                    "--box {},{},{},{} is empty: its width and height must be at least 1",
                    b.x, b.y, b.w, b.h
                )));
            }
            if b.x >= w || b.y >= h || b.x.saturating_add(b.w) > w || b.y.saturating_add(b.h) > h {
                return Err(SegmentError::BadInput(format!(
                    "--box {},{},{},{} reaches outside the {w}x{h} image",
                    b.x, b.y, b.w, b.h
                )));
            }
        }
        Ok(())
    }

    /// The prompt given for an image of `from` pixels, scaled to one of `to` pixels (points
    /// keep their relative place, clamped inside).
    pub fn scaled(&self, from: (u32, u32), to: (u32, u32)) -> PromptSpec {
        if from == to {
            return self.clone();
        }
        let sx = f64::from(to.0) / f64::from(from.0.max(1));
        let sy = f64::from(to.1) / f64::from(from.1.max(1));
        let at = |v: u32, s: f64, max: u32| {
            ((f64::from(v) + 0.5) * s - 0.5)
                .round()
                .clamp(0.0, f64::from(max.saturating_sub(1))) as u32
        };
        let points = self
            .points
            .iter()
            .map(|p| MaskPoint {
                x: at(p.x, sx, to.0),
                y: at(p.y, sy, to.1),
                positive: p.positive,
            })
            .collect();
        let bbox = self.bbox.map(|b| {
            let x0 = (f64::from(b.x) * sx).round().min(f64::from(to.0 - 1)) as u32;
            let y0 = (f64::from(b.y) * sy).round().min(f64::from(to.1 - 1)) as u32;
            let x1 = (f64::from(b.x + b.w) * sx).round().min(f64::from(to.0)) as u32;
            let y1 = (f64::from(b.y + b.h) * sy).round().min(f64::from(to.1)) as u32;
            Rect {
                x: x0,
                y: y0,
                w: x1.saturating_sub(x0).max(1),
                h: y1.saturating_sub(y0).max(1),
            }
        });
        PromptSpec { points, bbox }
    }
}

/// The prompt and segmenter of a points or box mask spec; `None` for other shapes.
pub fn prompt_of(spec: &MaskSpec) -> Option<(PromptSpec, Option<&Segmenter>)> {
    match &spec.shape {
        MaskShape::Points { points, segmenter } => Some((
            PromptSpec {
                points: points.clone(),
                bbox: None,
            },
            segmenter.as_ref(),
        )),
        MaskShape::Box {
            x,
            y,
            w,
            h,
            points,
            segmenter,
        } => Some((
            PromptSpec {
                points: points.clone(),
                bbox: Some(Rect {
                    x: *x,
                    y: *y,
                    w: *w,
                    h: *h,
                }),
            },
            segmenter.as_ref(),
        )),
        _ => None,
    }
}

/// The mask a points or box spec makes on `image`: its prompt scaled from the size it was
/// given for, segmented by the recorded model (whose weights must still have the recorded
/// digest), the recorded candidate taken, then grown and feathered.
pub fn mask_from_spec(spec: &MaskSpec, image: &RgbImage) -> Result<GrayImage, SegmentError> {
    if let MaskShape::Text {
        target,
        region,
        grounder,
    } = &spec.shape
    {
        let mut mask = text_mask(target, *region, grounder.as_ref(), image)?;
        crate::mask::grow(&mut mask, spec.grow);
        crate::mask::feather(&mut mask, spec.feather);
        return Ok(mask);
    }
    let Some((prompt, segmenter)) = prompt_of(spec) else {
        return Err(SegmentError::Unsupported(format!(
            "a '{}' mask is not made by a segmentation model",
            spec.shape.kind(),
        )));
    };
    let size = image.dimensions();
    let prompt = match segmenter {
        Some(s) => prompt.scaled((s.width, s.height), size),
        None => prompt,
    };
    prompt.check(size)?;
    let mut mask = run_model(&prompt, segmenter, image)?;
    crate::mask::grow(&mut mask, spec.grow);
    crate::mask::feather(&mut mask, spec.feather);
    Ok(mask)
}

#[cfg(feature = "sam")]
fn run_model(
    prompt: &PromptSpec,
    segmenter: Option<&Segmenter>,
    image: &RgbImage,
) -> Result<GrayImage, SegmentError> {
    let model = cache::model(segmenter.map(|s| s.model.as_str()))?;
    if let Some(s) = segmenter {
        if s.digest != model.digest {
            return Err(SegmentError::Unavailable(format!(
                "segmentation model '{}' ({}) has weights of digest {} but the mask was made \
                 with {}; restore those weights or segment again",
                s.model,
                model.weights.display(),
                &model.digest[..16.min(model.digest.len())],
                &s.digest[..16.min(s.digest.len())]
            )));
        }
    }
    let (emb, _) = cache::embedding(&model, image)?;
    let found = model.segment(&emb, prompt)?;
    let pick = segmenter.map_or(0, |s| s.candidate as usize);
    let masks: Vec<GrayImage> = found.candidates.into_iter().map(|c| c.mask).collect();
    take_candidate(masks, pick, "the model gives")
}

/// The recorded candidate among `masks`, or an error saying how many there are (`found`
/// introduces the count: "the model gives", "this image has").
#[cfg(feature = "sam")]
pub(crate) fn take_candidate(
    masks: Vec<GrayImage>,
    pick: usize,
    found: &str,
) -> Result<GrayImage, SegmentError> {
    let n = masks.len();
    masks.into_iter().nth(pick).ok_or_else(|| {
        SegmentError::BadInput(format!(
            "candidate {pick} was asked for, but {found} {n} (0 to {})",
            n.saturating_sub(1)
        ))
    })
}

#[cfg(feature = "sam")]
use grounding::replay::text_mask;

#[cfg(not(feature = "sam"))]
fn text_mask(
    _words: &str,
    _region: Option<crate::core::Region>,
    _grounder: Option<&crate::core::Grounder>,
    _image: &RgbImage,
) -> Result<GrayImage, SegmentError> {
    Err(SegmentError::Unsupported(
        "this zedit is built without segmentation: rebuild with `--features sam`".into(),
    ))
}

#[cfg(not(feature = "sam"))]
fn run_model(
    _prompt: &PromptSpec,
    _segmenter: Option<&Segmenter>,
    _image: &RgbImage,
) -> Result<GrayImage, SegmentError> {
    Err(SegmentError::Unsupported(
        "this zedit is built without segmentation: rebuild with `--features sam`".into(),
    ))
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
