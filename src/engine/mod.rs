//! Engines turn (image, mask, instruction, params) into a new image. `classic` runs on any CPU
//! without weights; `zimage` runs Z-Image Turbo through candle.

pub mod classic;
mod error;
mod quant_mode;
#[cfg(feature = "zimage")]
pub mod zimage;

pub use error::EngineError;
pub use quant_mode::{QuantMode, QUANT_MODE_ENV};

use crate::core::{EditParams, EngineId, Op, Recipe};
use image::{GrayImage, RgbImage, RgbaImage};
use std::path::PathBuf;

/// One edit for an engine to run. Images are decoded already; the mask, when present, has the
/// image's size (checked before it gets here, and again by engines).
#[derive(Debug, Clone)]
pub struct EditRequest {
    pub op: Op,
    pub instruction: String,
    pub image: RgbImage,
    /// White (255) marks what to change; values between are a soft edge.
    pub mask: Option<GrayImage>,
    /// Image to composite for `add`.
    pub overlay: Option<RgbaImage>,
    pub params: EditParams,
    /// What a generative engine is told; `None`: derived from the op and instruction.
    pub recipe: Option<Recipe>,
}

/// Progress of a running edit: denoising step `step` of `total` is finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub step: u32,
    pub total: u32,
}

/// What the progress callback tells the engine to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Cancel,
}

/// An engine holds its model (if any) between runs; it is used from one thread at a time.
pub trait Engine: Send {
    fn id(&self) -> EngineId;
    fn run(
        &mut self,
        req: &EditRequest,
        on_step: &mut dyn FnMut(Progress) -> Flow,
    ) -> Result<RgbImage, EngineError>;
}

/// How to open an engine: which one, and for generative engines where the model lives.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Engine name: `classic` or `zimage`. Empty means the default (`classic`).
    pub name: String,
    /// Model folder, or a model name from `models/*.toml`.
    pub model: Option<PathBuf>,
    /// Device: `cpu`, `cuda`, `cuda:N`, `metal`.
    pub device: Option<String>,
    /// How quantized GGUF weights run; `None`: `ZEDIT_GGUF_EXEC`, else `qmatmul`.
    pub gguf_exec: Option<QuantMode>,
}

/// The engine names this build knows.
pub fn known_engines() -> &'static [&'static str] {
    if cfg!(feature = "zimage") {
        &["classic", "zimage"]
    } else {
        &["classic"]
    }
}

/// Opens (and loads) the engine that `opts` names.
pub fn open(opts: &EngineOptions) -> Result<Box<dyn Engine>, EngineError> {
    match opts.name.as_str() {
        "" | "classic" => Ok(Box::new(classic::ClassicEngine::new())),
        #[cfg(feature = "zimage")]
        "zimage" => zimage::open(opts),
        #[cfg(not(feature = "zimage"))]
        "zimage" => Err(EngineError::Unavailable(
            "engine 'zimage' is not built in: rebuild with `--features zimage`".into(),
        )),
        other => Err(EngineError::BadInput(format!(
            "unknown engine '{other}': expected one of {}",
            known_engines().join(", ")
        ))),
    }
}
