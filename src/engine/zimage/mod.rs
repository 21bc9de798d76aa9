//! Z-Image Turbo through candle: img2img and inpainting with our own scheduler and sampling loop.

use super::{Engine, EngineError, EngineOptions};

/// Opens the zimage engine: resolves the model folder and loads the weights.
pub fn open(opts: &EngineOptions) -> Result<Box<dyn Engine>, EngineError> {
    let _ = opts;
    Err(EngineError::Unavailable(
        "the zimage engine is not available in this build yet".into(),
    ))
}
