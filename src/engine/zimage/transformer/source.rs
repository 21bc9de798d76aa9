//! Where a model's weights come from: a safetensors folder or a GGUF file whose quantized
//! tensors run as the chosen [`QuantMode`] says; for the DiT, diffusers names or the community
//! GGUF layout.

use super::linear::{Linear, QuantMode};
use crate::engine::zimage::gguf::GgufWeights;
use crate::engine::zimage::gguf_files::GgufTensors;
use crate::engine::zimage::weights::Weights;
use crate::engine::EngineError;
use candle_core::quantized::ggml_file::qtensor_from_ggml;
use candle_core::{DType, Device, Tensor};

/// The weights of a model: safetensors, or the GGUF reader `G` of that model.
pub enum WeightSource<'a, G> {
    Safetensors(&'a Weights),
    Gguf {
        file: &'a G,
        mode: QuantMode,
        device: Device,
        dtype: DType,
    },
}

/// The DiT's weights.
pub type Source<'a> = WeightSource<'a, GgufWeights>;

impl<G: GgufTensors> WeightSource<'_, G> {
    pub fn device(&self) -> &Device {
        match self {
            Self::Safetensors(w) => w.device(),
            Self::Gguf { device, .. } => device,
        }
    }

    pub fn dtype(&self) -> DType {
        match self {
            Self::Safetensors(w) => w.dtype(),
            Self::Gguf { dtype, .. } => *dtype,
        }
    }

    /// A dense tensor (norm gains, pad tokens, biases) in the model dtype.
    pub fn tensor(&self, name: &str, shape: &[usize]) -> Result<Tensor, EngineError> {
        match self {
            Self::Safetensors(w) => w.get(name, shape),
            Self::Gguf {
                file,
                device,
                dtype,
                ..
            } => file.dense(name, shape, *dtype, device),
        }
    }
}

impl Source<'_> {
    /// The linear layer `name` ([output, input] weight, optional bias).
    pub fn linear(
        &self,
        name: &str,
        input: usize,
        output: usize,
        bias: bool,
    ) -> Result<Linear, EngineError> {
        let b = if bias {
            Some(self.tensor(&format!("{name}.bias"), &[output])?)
        } else {
            None
        };
        let wname = format!("{name}.weight");
        let fail = |e: candle_core::Error| {
            EngineError::Model(format!("cannot set up linear layer '{wname}': {e}"))
        };
        match self {
            Source::Safetensors(w) => {
                Linear::dense(w.get(&wname, &[output, input])?, b).map_err(fail)
            }
            Source::Gguf {
                file,
                mode,
                device,
                dtype,
            } => {
                let q = file.qtensor(&wname, &[output, input])?;
                let q = if device.is_cpu() {
                    q
                } else {
                    let data = q.data().map_err(fail)?;
                    qtensor_from_ggml(q.dtype(), &data, vec![output, input], device)
                        .map_err(fail)?
                };
                Linear::quantized(q, b, *dtype, *mode).map_err(fail)
            }
        }
    }
}

/// Loads the transformer of the model folder `dir`: `transformer/*.gguf` when there is one
/// (its config from `transformer/config.json` or implied by the file), else the safetensors.
pub fn load_transformer(
    dir: &std::path::Path,
    device: &Device,
    dtype: DType,
    mode: QuantMode,
) -> Result<super::Transformer, EngineError> {
    let cfg = crate::engine::zimage::gguf::transformer_config(dir)?;
    match crate::engine::zimage::gguf::transformer_file(dir) {
        Some(path) => {
            let file = GgufWeights::open(&path)?;
            let src = Source::Gguf {
                file: &file,
                mode,
                device: device.clone(),
                dtype,
            };
            super::Transformer::load(&src, &cfg)
        }
        None => {
            let w = Weights::open(&dir.join("transformer"), device, dtype)?;
            super::Transformer::load(&Source::Safetensors(&w), &cfg)
        }
    }
}
