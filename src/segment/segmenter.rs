//! A loaded segmentation model: embeds an image once, then turns prompts into candidate masks
//! at the image's size, best first by the model's predicted IoU.

use super::models::{self, Resolved};
use super::sam::{Embedding, Prompt, Sam};
use super::{PromptSpec, SegmentError};
use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use image::{GrayImage, RgbImage};
use std::path::PathBuf;

/// SAM weights loaded, with the name and digest recorded in the steps it serves.
#[derive(Debug)]
pub struct SegmentModel {
    pub id: String,
    pub digest: String,
    pub weights: PathBuf,
    sam: Sam,
}

/// One candidate mask.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The decoder's mask token (1..=3 for the multimask outputs).
    pub token: usize,
    /// The model's own estimate of the mask's IoU with the object.
    pub iou: f32,
    /// 255 inside (logit above 0), 0 outside; the image's size.
    pub mask: GrayImage,
    /// Pixels inside.
    pub area: u64,
}

/// Candidates for one prompt, best first.
#[derive(Debug, Clone)]
pub struct Segmentation {
    pub candidates: Vec<Candidate>,
}

fn model_error(e: candle_core::Error) -> SegmentError {
    SegmentError::Model(e.to_string())
}

impl SegmentModel {
    /// Resolves `model` (a path, a manifest name, or the default) and loads it on the CPU.
    pub fn open(model: Option<&str>) -> Result<SegmentModel, SegmentError> {
        SegmentModel::load(models::resolve(model)?, &Device::Cpu)
    }

    /// Loads resolved weights on `device`.
    pub fn load(r: Resolved, device: &Device) -> Result<SegmentModel, SegmentError> {
        let digest = models::digest(&r.weights)?;
        let origin = r.weights.display().to_string();
        let bytes = std::fs::read(&r.weights)
            .map_err(|e| SegmentError::Unavailable(format!("{origin}: {e}")))?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, device).map_err(|e| {
            SegmentError::Unavailable(format!("{origin}: not readable safetensors ({e})"))
        })?;
        let sam = Sam::new(r.config, vb).map_err(|e| {
            SegmentError::Unavailable(format!(
                "{origin} does not fit its SAM configuration: {e}; fetch the model again or fix \
                 its config.json"
            ))
        })?;
        Ok(SegmentModel {
            id: r.id,
            digest,
            weights: r.weights,
            sam,
        })
    }

    /// A model already built (benchmarks build one from random weights).
    pub fn from_sam(id: String, digest: String, weights: PathBuf, sam: Sam) -> SegmentModel {
        SegmentModel {
            id,
            digest,
            weights,
            sam,
        }
    }

    pub fn sam(&self) -> &Sam {
        &self.sam
    }

    /// The image embedding (the slow part; reuse it for every prompt on the same image).
    pub fn embed(&self, image: &RgbImage) -> Result<Embedding, SegmentError> {
        self.sam.embed(image).map_err(model_error)
    }

    /// Candidate masks for `prompt` (pixels of the embedded image), best first.
    pub fn segment(
        &self,
        emb: &Embedding,
        prompt: &PromptSpec,
    ) -> Result<Segmentation, SegmentError> {
        let (h, w) = emb.original;
        prompt.check((w as u32, h as u32))?;
        let p = Prompt {
            points: prompt
                .points
                .iter()
                .map(|p| (f64::from(p.x), f64::from(p.y), p.positive))
                .collect(),
            // Box corners are pixel indices, both inclusive, as SAM's boxes are.
            bbox: prompt.bbox.map(|b| {
                [
                    f64::from(b.x),
                    f64::from(b.y),
                    f64::from(b.x + b.w - 1),
                    f64::from(b.y + b.h - 1),
                ]
            }),
        };
        let pred = self.sam.predict(emb, &p).map_err(model_error)?;
        let mut candidates: Vec<Candidate> = (1..pred.iou.len())
            .map(|token| {
                let logits = self.sam.upscale(emb, &pred, token);
                let raw: Vec<u8> = logits
                    .iter()
                    .map(|&v| if v > 0.0 { 255 } else { 0 })
                    .collect();
                let area = raw.iter().filter(|&&v| v > 0).count() as u64;
                let mask = GrayImage::from_raw(w as u32, h as u32, raw)
                    .unwrap_or_else(|| GrayImage::new(w as u32, h as u32));
                Candidate {
                    token,
                    iou: pred.iou[token],
                    mask,
                    area,
                }
            })
            .collect();
        candidates.sort_by(|a, b| b.iou.total_cmp(&a.iou));
        Ok(Segmentation { candidates })
    }

    /// Embeds `image` and segments `prompt` on it (the prompt is checked first).
    pub fn segment_image(
        &self,
        image: &RgbImage,
        prompt: &PromptSpec,
    ) -> Result<Segmentation, SegmentError> {
        prompt.check(image.dimensions())?;
        let emb = self.embed(image)?;
        self.segment(&emb, prompt)
    }
}
