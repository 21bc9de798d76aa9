//! Z-Image Turbo through candle: img2img, inpainting and FlowEdit with our own scheduler and
//! sampling loops, run as each step's recipe says.

pub mod config;
pub mod device;
mod engine;
pub mod fetch;
pub mod flowedit;
pub mod gguf;
pub mod gguf_files;
mod gguf_scan;
pub mod imageio;
pub mod inventory;
pub mod lora;
pub mod memory;
pub mod models;
mod modes;
pub mod noise;
pub mod pipeline;
mod placement;
pub mod prompt;
pub mod scheduler;
pub mod text_encoder;
pub mod text_encoder_gguf;
pub mod transformer;
pub mod vae;
pub mod weights;

pub use engine::{model_digest, ZImageEngine, PIPELINE_VERSION};
pub use flowedit::FlowEditJob;
pub use noise::Noise;
pub use pipeline::{Init, Job, Output, Pipeline, StepInfo};

use super::{Engine, EngineError, EngineOptions};

/// Converts a candle failure at the engine boundary: candle's CUDA and Metal out-of-memory
/// errors become `OutOfMemory` (so the runner frees the engine), the rest `Internal`.
pub(crate) fn candle_error(what: &str, e: candle_core::Error) -> EngineError {
    EngineError::from_tensor_failure(what, &e.to_string())
}

/// Test knob: when set, the denoising loop's first step fails with this text as a candle
/// error, through the same conversion as a real device failure. Not for production.
pub const TENSOR_FAULT_ENV: &str = "ZEDIT_TEST_TENSOR_FAULT";

pub(crate) fn injected_fault() -> candle_core::Result<()> {
    match std::env::var(TENSOR_FAULT_ENV) {
        Ok(text) if !text.is_empty() => Err(candle_core::Error::Msg(text)),
        _ => Ok(()),
    }
}

/// Opens the zimage engine: resolves the model folder, makes the memory plan on a GPU (see
/// [`memory`]) and loads the weights as it says.
///
/// GGUF weights (`transformer/*.gguf`, `text_encoder/*.gguf`) run quantized as
/// `opts.gguf_exec` says, else `ZEDIT_GGUF_EXEC` (`qmatmul`, the default, or `dequant`; see
/// [`transformer::QuantMode`]); the engine's id carries the choice into every step.
///
/// `ZEDIT_CUDA_TF32=1` runs the attention's f32 products on TF32 tensor cores (see
/// [`device::set_tf32`]); `ZEDIT_CUDA_FUSED=1` runs it through zedit's own kernels (see
/// [`transformer::fused`]).
///
/// `ZEDIT_ZIMAGE_RELEASE_TEXT_ENCODER=1` drops the text encoder after each prompt encoding
/// (saves its memory; a new prompt loads it again); the plan does so too when the card needs it.
pub fn open(opts: &EngineOptions) -> Result<Box<dyn Engine>, EngineError> {
    let (device, dtype) = device::select(opts.device.as_deref())?;
    let dir = models::resolve(opts.model.as_deref())?;
    let quant = transformer::QuantMode::chosen(opts.gguf_exec).map_err(EngineError::BadInput)?;
    if device.is_cuda() && device::tf32_requested() {
        device::set_tf32(true);
    }
    let plan = memory::for_device(&dir, &device, dtype, quant)?;
    let placement = plan.as_ref().map(|p| p.placement);
    let on_cpu = placement.is_some_and(|p| p.text_encoder_on_cpu());
    let cpu = candle_core::Device::Cpu;
    let text = if on_cpu {
        (&cpu, candle_core::DType::F32)
    } else {
        (&device, dtype)
    };
    let mut pipeline = Pipeline::load_with(&dir, &device, dtype, text, quant)?;
    pipeline.release_text_encoder = placement.is_some_and(|p| p.releases_text_encoder())
        || std::env::var("ZEDIT_ZIMAGE_RELEASE_TEXT_ENCODER").is_ok_and(|v| v == "1");
    if let Some(plan) = &plan {
        pipeline.transformer_mut().max_batch = plan.batch;
    }
    if placement.is_some_and(|p| p.tiled_decode()) {
        pipeline.vae_mut().tile_above_pixels = memory::TILE_PIXELS * memory::TILE_PIXELS;
    }
    let has_gguf = gguf::transformer_file(&dir).is_some()
        || text_encoder_gguf::text_encoder_file(&dir).is_some();
    let exec = has_gguf.then_some(quant);
    Ok(Box::new(ZImageEngine::new(pipeline, &dir, exec)?))
}
