//! The `Engine` face of the pipeline: requests in, images out, with progress and cancellation.

use super::lora;
use super::modes;
use super::pipeline::Pipeline;
use super::EngineError;
use crate::core::{EngineId, LoraRef};
use crate::engine::{EditRequest, Engine, Flow, Progress, QuantMode};
use image::RgbImage;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Version of our pipeline math; bump when an output for the same inputs can change.
pub const PIPELINE_VERSION: &str = "1";

pub struct ZImageEngine {
    pipeline: Pipeline,
    id: EngineId,
    /// The LoRAs on the transformer now: (file, its digest when applied, weight bits).
    applied: Vec<(PathBuf, String, u32)>,
}

impl ZImageEngine {
    /// The engine over a loaded pipeline; `gguf_exec` is how its GGUF weights run (None when
    /// the model has none), recorded with every step it makes.
    pub fn new(
        pipeline: Pipeline,
        model_dir: &Path,
        gguf_exec: Option<QuantMode>,
    ) -> Result<Self, EngineError> {
        let digest = model_digest(model_dir)?;
        let id = EngineId {
            name: "zimage".into(),
            version: format!("{}+{}", crate::core::ZEDIT_VERSION, PIPELINE_VERSION),
            model_digest: Some(digest),
            gguf_exec,
        };
        Ok(ZImageEngine {
            pipeline,
            id,
            applied: Vec::new(),
        })
    }

    /// Puts exactly `loras` on the transformer (as side paths, so switching never reloads
    /// the model), unless they are on already; files are read again when they changed.
    pub fn use_loras(&mut self, loras: &[LoraRef]) -> Result<(), EngineError> {
        let mut wanted = Vec::with_capacity(loras.len());
        for l in loras {
            wanted.push((l.path.clone(), lora::digest(&l.path)?, l.weight.to_bits()));
        }
        if wanted == self.applied {
            return Ok(());
        }
        let cfg = self.pipeline.transformer().config().clone();
        let files = loras
            .iter()
            .map(|l| lora::read(&l.path, &cfg))
            .collect::<Result<Vec<_>, _>>()?;
        for f in &files {
            if let Some(note) = f.coverage() {
                eprintln!("zimage: {note}");
            }
        }
        let with_weights: Vec<(&lora::LoraFile, f64)> = files
            .iter()
            .zip(loras)
            .map(|(f, l)| (f, l.weight as f64))
            .collect();
        if let Err(e) = lora::apply(self.pipeline.transformer_mut(), &with_weights) {
            // Back to the base model, never a half-applied set.
            lora::apply(self.pipeline.transformer_mut(), &[])?;
            self.applied.clear();
            return Err(e);
        }
        self.applied = wanted;
        Ok(())
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
        let loras = req.recipe.as_ref().map_or(&[][..], |r| r.loras.as_slice());
        self.use_loras(loras)?;
        match &req.recipe {
            Some(recipe) => modes::run(&mut self.pipeline, req, recipe, false, on_step),
            None => {
                let recipe = modes::legacy_recipe(req);
                modes::run(&mut self.pipeline, req, &recipe, true, on_step)
            }
        }
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
