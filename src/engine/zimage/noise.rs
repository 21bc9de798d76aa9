//! Where a run's random numbers come from: our own seeded generator (same seed and device, same
//! output), or tensors given by the caller (the reference's recorded draws, in tests).

use super::EngineError;
use candle_core::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_distr::{Distribution, StandardNormal};

/// The noise of one run.
#[derive(Debug, Clone)]
pub enum Noise {
    /// Standard normal draws from ChaCha20 seeded with this value, drawn on the CPU in a fixed
    /// order (posterior eps first, then the latent noise) so results do not depend on the device.
    Seeded(u64),
    /// Explicit tensors: `posterior_eps[k]` for the k-th VAE encode (the input image is the only
    /// one this pipeline encodes), `noise` for the latent noise (text-to-image: the initial latents).
    Given {
        posterior_eps: Vec<Tensor>,
        noise: Tensor,
    },
    /// Explicit latent noise draws, used in order (FlowEdit draws a fresh one per step and
    /// average; its image encode takes the posterior mode and draws no eps).
    Draws(Vec<Tensor>),
}

/// Hands out the draws of one run in order.
pub struct NoiseSource {
    kind: Kind,
}

enum Kind {
    Rng(Box<ChaCha20Rng>),
    Given {
        eps: std::vec::IntoIter<Tensor>,
        noise: Option<Tensor>,
    },
    Draws(std::vec::IntoIter<Tensor>),
}

impl NoiseSource {
    pub fn new(noise: &Noise) -> Self {
        let kind = match noise {
            Noise::Seeded(seed) => Kind::Rng(Box::new(ChaCha20Rng::seed_from_u64(*seed))),
            Noise::Given {
                posterior_eps,
                noise,
            } => Kind::Given {
                eps: posterior_eps.clone().into_iter(),
                noise: Some(noise.clone()),
            },
            Noise::Draws(draws) => Kind::Draws(draws.clone().into_iter()),
        };
        NoiseSource { kind }
    }

    /// The eps of the next VAE posterior sample, shaped like `like`.
    pub fn posterior_eps(&mut self, like: &Tensor) -> Result<Tensor, EngineError> {
        match &mut self.kind {
            Kind::Rng(rng) => normal(rng, like),
            Kind::Given { eps, .. } => {
                let t = eps.next().ok_or_else(|| {
                    EngineError::BadInput("no posterior eps tensor left for a VAE encode".into())
                })?;
                fit(t, like, "posterior eps")
            }
            Kind::Draws(_) => Err(EngineError::BadInput(
                "noise given as latent draws has no posterior eps for a VAE encode".into(),
            )),
        }
    }

    /// The latent noise, shaped like `like`.
    pub fn latent_noise(&mut self, like: &Tensor) -> Result<Tensor, EngineError> {
        match &mut self.kind {
            Kind::Rng(rng) => normal(rng, like),
            Kind::Given { noise, .. } => {
                let t = noise.take().ok_or_else(|| {
                    EngineError::BadInput("the latent noise tensor was already used".into())
                })?;
                fit(t, like, "latent noise")
            }
            Kind::Draws(draws) => {
                let t = draws.next().ok_or_else(|| {
                    EngineError::BadInput("no latent noise draw left for this step".into())
                })?;
                fit(t, like, "latent noise draw")
            }
        }
    }
}

fn normal(rng: &mut ChaCha20Rng, like: &Tensor) -> Result<Tensor, EngineError> {
    let n = like.elem_count();
    let v: Vec<f32> = (0..n).map(|_| StandardNormal.sample(&mut *rng)).collect();
    Tensor::from_vec(v, like.shape(), &Device::Cpu)
        .and_then(|t| t.to_device(like.device()))
        .and_then(|t| t.to_dtype(like.dtype()))
        .map_err(|e| EngineError::Internal(format!("noise: {e}")))
}

fn fit(t: Tensor, like: &Tensor, what: &str) -> Result<Tensor, EngineError> {
    if t.elem_count() != like.elem_count() {
        return Err(EngineError::BadInput(format!(
            "{what} has shape {:?}, expected {:?}",
            t.dims(),
            like.dims()
        )));
    }
    t.reshape(like.shape())
        .and_then(|t| t.to_device(like.device()))
        .and_then(|t| t.to_dtype(like.dtype()))
        .map_err(|e| EngineError::Internal(format!("{what}: {e}")))
}
