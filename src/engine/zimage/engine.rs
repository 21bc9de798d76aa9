//! The `Engine` face of the pipeline: requests in, images out, with progress and cancellation.

use super::imageio;
use super::noise::Noise;
use super::pipeline::{Init, Job, Pipeline};
use super::scheduler;
use super::EngineError;
use crate::core::EngineId;
use crate::engine::{EditRequest, Engine, Flow, Progress};
use image::RgbImage;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Version of our pipeline math; bump when an output for the same inputs can change.
pub const PIPELINE_VERSION: &str = "1";

pub struct ZImageEngine {
    pipeline: Pipeline,
    id: EngineId,
}

impl ZImageEngine {
    pub fn new(pipeline: Pipeline, model_dir: &Path) -> Result<Self, EngineError> {
        let digest = model_digest(model_dir)?;
        let id = EngineId {
            name: "zimage".into(),
            version: format!("{}+{}", crate::core::ZEDIT_VERSION, PIPELINE_VERSION),
            model_digest: Some(digest),
        };
        Ok(ZImageEngine { pipeline, id })
    }

    pub fn pipeline_mut(&mut self) -> &mut Pipeline {
        &mut self.pipeline
    }
}

impl Engine for ZImageEngine {
    fn id(&self) -> EngineId {
        self.id.clone()
    }

    fn run(
        &mut self,
        req: &EditRequest,
        on_step: &mut dyn FnMut(Progress) -> Flow,
    ) -> Result<RgbImage, EngineError> {
        req.params.validate().map_err(EngineError::BadInput)?;
        if req.overlay.is_some() {
            return Err(EngineError::Unsupported(
                "zimage edits from the instruction alone and does not composite overlay images; \
                 use the classic engine for that"
                    .into(),
            ));
        }
        if req.instruction.trim().is_empty() {
            return Err(EngineError::BadInput(
                "zimage needs an instruction: it is the prompt of the edit".into(),
            ));
        }
        let orig = req.image.dimensions();
        let size = imageio::model_size(orig.0, orig.1)?;
        let device = self.pipeline.device().clone();
        let image = imageio::image_tensor(&req.image, size, &device)?;
        let mask = match &req.mask {
            Some(m) => {
                imageio::check_mask(&req.image, m)?;
                Some(imageio::mask_tensor(m, size, &device)?)
            }
            None => None,
        };
        let job = Job {
            prompt: req.instruction.clone(),
            negative_prompt: None,
            guidance: req.params.cfg,
            cfg_truncation: 1.0,
            cfg_normalization: 0.0,
            steps: req.params.steps as usize,
            // The decimal the user gave, as the reference's Python float: widening the f32
            // (0.6 → 0.6000000238) would start one step early at common settings.
            strength: scheduler::decimal(req.params.strength),
            init: Init::Image { image, mask },
            noise: Noise::Seeded(req.params.seed),
        };
        let mut cb = |s: super::pipeline::StepInfo| {
            on_step(Progress {
                step: s.index as u32 + 1,
                total: s.total as u32,
            })
        };
        let out = self.pipeline.run(&job, &mut cb)?;
        Ok(imageio::restore_size(out.to_rgb()?, orig))
    }
}

/// Bytes hashed from each end of every weight file.
const EDGE: u64 = 1 << 20;

/// A blake3 digest identifying the model's weights without reading 30 GB: over every file of
/// the model folder's components (relative path, size, first and last MiB), configs and
/// tokenizer included. Any re-download, re-quantization or truncation changes it; two folders
/// with the same digest hold the same files in practice.
pub fn model_digest(dir: &Path) -> Result<String, EngineError> {
    let mut files: Vec<PathBuf> = Vec::new();
    for comp in [
        "transformer",
        "vae",
        "text_encoder",
        "tokenizer",
        "scheduler",
    ] {
        if let Ok(rd) = std::fs::read_dir(dir.join(comp)) {
            files.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    files.sort();
    let mut h = blake3::Hasher::new();
    for f in &files {
        let rel = f.strip_prefix(dir).unwrap_or(f);
        let io = |e: std::io::Error| {
            EngineError::Unavailable(format!(
                "cannot read {} for the model digest: {e}",
                f.display()
            ))
        };
        let mut file = std::fs::File::open(f).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        h.update(rel.to_string_lossy().as_bytes());
        h.update(&len.to_le_bytes());
        let mut buf = vec![0u8; len.min(EDGE) as usize];
        file.read_exact(&mut buf).map_err(io)?;
        h.update(&buf);
        if len > EDGE {
            let tail = len.min(EDGE);
            file.seek(SeekFrom::Start(len - tail)).map_err(io)?;
            let mut buf = vec![0u8; tail as usize];
            file.read_exact(&mut buf).map_err(io)?;
            h.update(&buf);
        }
    }
    Ok(h.finalize().to_hex().to_string())
}
