//! The sampling loop around the three networks: prompt encoding, img2img noising, Euler steps
//! with the reference's CFG, inpaint blending, and decoding.

use super::config::{self, SchedulerConfig};
use super::noise::{Noise, NoiseSource};
use super::prompt::{PromptTokenizer, MAX_SEQUENCE_LENGTH};
use super::scheduler::Schedule;
use super::text_encoder::TextEncoder;
use super::transformer::source::load_transformer;
use super::transformer::{Caption, QuantMode, Transformer};
use super::vae::Vae;
use super::weights::Weights;
use super::EngineError;
use crate::engine::Flow;
use candle_core::{DType, Device, Tensor};
use std::path::{Path, PathBuf};

pub use super::imageio::unit_image;

pub(super) fn err(e: candle_core::Error) -> EngineError {
    crate::engine::zimage::candle_error("pipeline", e)
}

/// How a run starts.
#[derive(Debug, Clone)]
pub enum Init {
    /// Text to image: the noise is the initial latents.
    Text { height: usize, width: usize },
    /// img2img (no mask) or inpainting (mask [1, 1, H, W], 1 = repaint, already binarized).
    /// `image` is [1, 3, H, W] in [−1, 1]; H and W are multiples of 16.
    Image { image: Tensor, mask: Option<Tensor> },
}

/// Everything one run needs besides the models.
#[derive(Debug, Clone)]
pub struct Job {
    pub prompt: String,
    /// Used when guidance > 0; the reference's default is the empty prompt.
    pub negative_prompt: Option<String>,
    pub guidance: f32,
    /// CFG is skipped on steps whose model t exceeds this (1.0 keeps it everywhere); compared
    /// in f64 as the reference compares Python floats.
    pub cfg_truncation: f64,
    /// When > 0, the CFG prediction's norm is capped at ‖pos‖ times this.
    pub cfg_normalization: f32,
    pub steps: usize,
    /// Denoise strength for image inputs (1 = start from pure noise).
    pub strength: f64,
    pub init: Init,
    pub noise: Noise,
}

/// What a step callback sees.
pub struct StepInfo<'a> {
    /// 0-based index of the step that just finished, and the number that run.
    pub index: usize,
    pub total: usize,
    /// Latents after the step (after the inpaint blend).
    pub latents: &'a Tensor,
}

/// A finished run.
pub struct Output {
    pub schedule: Schedule,
    pub final_latents: Tensor,
    /// Decoder output [1, 3, H, W], about [−1, 1].
    pub decoded: Tensor,
}

impl Output {
    /// clamp(decoded/2 + 0.5, 0, 1) as an RGB image of u8 = round(255·x).
    pub fn to_rgb(&self) -> Result<image::RgbImage, EngineError> {
        super::imageio::decoded_rgb(&self.decoded)
    }
}

/// The loaded Z-Image pipeline.
pub struct Pipeline {
    dir: PathBuf,
    device: Device,
    tokenizer: PromptTokenizer,
    text_cfg: config::TextEncoderConfig,
    /// Where the text encoder runs (the CPU when the memory plan keeps it off the GPU), and
    /// how its quantized GGUF weights run.
    text_device: (Device, DType, QuantMode),
    text_encoder: Option<TextEncoder>,
    /// Drop the text encoder after each encoding (it is reloaded when the prompt changes).
    pub release_text_encoder: bool,
    transformer: Transformer,
    vae: Vae,
    sched: SchedulerConfig,
    /// The last prompts' caption features, so repeated edits skip the text encoder.
    cap_cache: Vec<(String, Tensor)>,
}

impl Pipeline {
    /// Loads a diffusers Z-Image folder onto `device` with weights in `dtype` (f32 on the CPU,
    /// bf16 on GPUs). The VAE follows `dtype` as the reference does: its force_upcast only
    /// applies to float16.
    pub fn load(dir: &Path, device: &Device, dtype: DType) -> Result<Self, EngineError> {
        Self::load_placed(dir, device, dtype, (device, dtype))
    }

    /// As [`Pipeline::load`], with the text encoder on `text` (device and dtype) instead; its
    /// caption features move to `device`.
    pub fn load_placed(
        dir: &Path,
        device: &Device,
        dtype: DType,
        text: (&Device, DType),
    ) -> Result<Self, EngineError> {
        Self::load_with(dir, device, dtype, text, QuantMode::default())
    }

    /// As [`Pipeline::load_placed`], with quantized GGUF transformer weights run as `quant`.
    pub fn load_with(
        dir: &Path,
        device: &Device,
        dtype: DType,
        text: (&Device, DType),
        quant: QuantMode,
    ) -> Result<Self, EngineError> {
        let tcfg = super::gguf::transformer_config(dir)?;
        let vcfg: config::VaeConfig = config::read(dir, "vae")?;
        let text_cfg = super::text_encoder_gguf::text_encoder_config(dir)?;
        let sched = SchedulerConfig::read(dir)?;
        if text_cfg.hidden_size != tcfg.cap_feat_dim {
            return Err(EngineError::Model(format!(
                "text_encoder hidden_size {} differs from transformer cap_feat_dim {}; \
                 the components do not belong together",
                text_cfg.hidden_size, tcfg.cap_feat_dim
            )));
        }
        let tokenizer = PromptTokenizer::load(dir)?;
        let transformer = load_transformer(dir, device, dtype, quant)?;
        let vae = Vae::load(
            &Weights::open(&dir.join("vae"), device, dtype)?,
            &vcfg,
            true,
        )?;
        let text_encoder = Some(TextEncoder::open(dir, &text_cfg, text.0, text.1, quant)?);
        Ok(Pipeline {
            dir: dir.to_path_buf(),
            device: device.clone(),
            tokenizer,
            text_cfg,
            text_device: (text.0.clone(), text.1, quant),
            text_encoder,
            release_text_encoder: false,
            transformer,
            vae,
            sched,
            cap_cache: Vec::new(),
        })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Waits for the step's queued work. On CUDA and Metal a step's kernels are only queued when
    /// its code returns, so without this the progress shown (and the moment a cancel is seen)
    /// would run ahead of the device by a step or more. Nothing to wait for on the CPU.
    pub(crate) fn finish_step(&self) -> Result<(), EngineError> {
        self.device.synchronize().map_err(err)
    }

    pub fn vae(&self) -> &Vae {
        &self.vae
    }

    pub fn vae_mut(&mut self) -> &mut Vae {
        &mut self.vae
    }

    pub fn transformer(&self) -> &Transformer {
        &self.transformer
    }

    pub fn transformer_mut(&mut self) -> &mut Transformer {
        &mut self.transformer
    }

    pub fn scheduler_config(&self) -> &SchedulerConfig {
        &self.sched
    }

    pub fn tokenizer(&self) -> &PromptTokenizer {
        &self.tokenizer
    }

    /// The text encoder, loading it again if it was released.
    pub fn text_encoder(&mut self) -> Result<&TextEncoder, EngineError> {
        if self.text_encoder.is_none() {
            self.text_encoder = Some(TextEncoder::open(
                &self.dir,
                &self.text_cfg,
                &self.text_device.0,
                self.text_device.1,
                self.text_device.2,
            )?);
        }
        self.text_encoder
            .as_ref()
            .ok_or_else(|| EngineError::Internal("text encoder missing after load".into()))
    }

    /// Caption features [L, hidden] of a prompt (the unmasked rows of hidden_states[-2]).
    pub fn encode_prompt(&mut self, prompt: &str) -> Result<Tensor, EngineError> {
        if let Some((_, t)) = self.cap_cache.iter().find(|(p, _)| p == prompt) {
            return Ok(t.clone());
        }
        let ids = self.tokenizer.ids(prompt, MAX_SEQUENCE_LENGTH)?;
        let feats = self.text_encoder()?.encode(&ids)?;
        let feats = feats.to_device(&self.device).map_err(err)?;
        if self.release_text_encoder {
            self.text_encoder = None;
        }
        self.cap_cache
            .insert(0, (prompt.to_string(), feats.clone()));
        self.cap_cache.truncate(4);
        Ok(feats)
    }

    /// Runs one job. `on_step` sees each finished step and may cancel between steps.
    pub fn run(
        &mut self,
        job: &Job,
        on_step: &mut dyn FnMut(StepInfo) -> Flow,
    ) -> Result<Output, EngineError> {
        let pos = self.encode_prompt(&job.prompt)?;
        let use_cfg = job.guidance > 0.0;
        let neg = if use_cfg {
            Some(self.encode_prompt(job.negative_prompt.as_deref().unwrap_or(""))?)
        } else {
            None
        };
        let pos_cap = self.transformer.caption(&pos)?;
        let neg_cap = neg.map(|n| self.transformer.caption(&n)).transpose()?;
        let mut rng = NoiseSource::new(&job.noise);
        let (schedule, mut x, blend) = self.initial_latents(job, &mut rng)?;
        let total = schedule.run_len();
        let model_ts: Vec<f32> = schedule
            .run_timesteps()
            .iter()
            .map(|&ts| Schedule::model_t(ts))
            .collect();
        self.transformer.prepare_timesteps(&model_ts)?;
        for (i, &t) in model_ts.iter().enumerate() {
            super::injected_fault().map_err(err)?;
            let k = schedule.t_start + i;
            let v = self.velocity(&x, t, job, &pos_cap, neg_cap.as_ref())?;
            let dt = schedule.sigmas[k + 1] - schedule.sigmas[k];
            x = (&x + (v * dt as f64).map_err(err)?).map_err(err)?;
            if let Some((mask, image_latents, noise)) = &blend {
                // Keep the unmasked area on the image's own noising trajectory.
                let proper = if i + 1 < total {
                    mix(noise, image_latents, schedule.sigmas[k + 1])?
                } else {
                    image_latents.clone()
                };
                let keep = (1.0 - mask).map_err(err)?;
                x = (proper.broadcast_mul(&keep).map_err(err)?
                    + mask.broadcast_mul(&x).map_err(err)?)
                .map_err(err)?;
            }
            self.finish_step()?;
            if on_step(StepInfo {
                index: i,
                total,
                latents: &x,
            }) == Flow::Cancel
            {
                return Err(EngineError::Cancelled);
            }
        }
        let z = self.vae.from_latents(&x)?;
        let decoded = self.vae.decode(&z)?;
        Ok(Output {
            schedule,
            final_latents: x,
            decoded,
        })
    }

    /// v = −model(x), or −(pos + g·(pos − neg)) with CFG (optionally norm-capped).
    fn velocity(
        &self,
        x: &Tensor,
        t: f32,
        job: &Job,
        pos_cap: &Caption,
        neg_cap: Option<&Caption>,
    ) -> Result<Tensor, EngineError> {
        let x3 = x.squeeze(0).map_err(err)?;
        let pred = match neg_cap {
            Some(neg_cap) if t as f64 <= job.cfg_truncation || job.cfg_truncation > 1.0 => {
                // cond and uncond in one batch, as the reference runs them.
                let [pos, neg]: [Tensor; 2] = self
                    .transformer
                    .forward_batch(&[(&x3, pos_cap), (&x3, neg_cap)], t)?
                    .try_into()
                    .map_err(|_| EngineError::Internal("a CFG batch gave not 2 outputs".into()))?;
                let diff = (&pos - neg).map_err(err)?;
                let mut pred = (&pos + (diff * job.guidance as f64).map_err(err)?).map_err(err)?;
                if job.cfg_normalization > 0.0 {
                    let norm = |t: &Tensor| -> Result<f32, EngineError> {
                        t.sqr()
                            .and_then(|s| s.sum_all())
                            .and_then(|s| s.to_scalar::<f32>())
                            .map_err(err)
                            .map(f32::sqrt)
                    };
                    let (p, n) = (norm(&pos)?, norm(&pred)?);
                    let max = p * job.cfg_normalization;
                    if n > max {
                        pred = (pred * (max / n) as f64).map_err(err)?;
                    }
                }
                pred
            }
            _ => self.transformer.forward(&x3, t, pos_cap)?,
        };
        pred.neg().and_then(|v| v.unsqueeze(0)).map_err(err)
    }

    /// Schedule, x₀, and for inpainting (mask, image latents, noise) for the per-step blend.
    #[allow(clippy::type_complexity)]
    fn initial_latents(
        &self,
        job: &Job,
        rng: &mut NoiseSource,
    ) -> Result<(Schedule, Tensor, Option<(Tensor, Tensor, Tensor)>), EngineError> {
        let vcfg = self.vae.config();
        let f = vcfg.spatial_factor();
        let c = vcfg.latent_channels;
        match &job.init {
            Init::Text { height, width } => {
                let schedule = Schedule::new(&self.sched, job.steps);
                let like = Tensor::zeros((1, c, height / f, width / f), DType::F32, &self.device)
                    .map_err(err)?;
                Ok((schedule, rng.latent_noise(&like)?, None))
            }
            Init::Image { image, mask } => {
                let schedule = Schedule::with_strength(&self.sched, job.steps, job.strength);
                if schedule.run_len() == 0 {
                    return Err(EngineError::BadInput(format!(
                        "strength {} with {} steps runs no denoising step; use a strength of at least {:.3}",
                        job.strength,
                        job.steps,
                        1.0 / job.steps.max(1) as f64
                    )));
                }
                let image = image
                    .to_device(&self.device)
                    .and_then(|t| t.to_dtype(DType::F32))
                    .map_err(err)?;
                let post = self.vae.encode(&image)?;
                let eps = rng.posterior_eps(&post.mean)?;
                let image_latents = self.vae.to_latents(&post.sample(&eps)?)?;
                let noise = rng.latent_noise(&image_latents)?;
                let x0 = mix(&noise, &image_latents, schedule.sigmas[schedule.t_start])?;
                let blend = match mask {
                    Some(m) => Some((latent_mask(m, f, &self.device)?, image_latents, noise)),
                    None => None,
                };
                Ok((schedule, x0, blend))
            }
        }
    }
}

/// σ·noise + (1 − σ)·latents.
pub(super) fn mix(noise: &Tensor, latents: &Tensor, sigma: f32) -> Result<Tensor, EngineError> {
    let a = (noise * sigma as f64).map_err(err)?;
    let b = (latents * (1.0 - sigma) as f64).map_err(err)?;
    (a + b).map_err(err)
}

/// Nearest downsampling by `factor` (the reference's interpolate(mode="nearest") picks pixel
/// (f·i, f·j)), as f32 [1, 1, h, w].
pub(super) fn latent_mask(
    mask: &Tensor,
    factor: usize,
    device: &Device,
) -> Result<Tensor, EngineError> {
    let (_, _, h, w) = mask.dims4().map_err(err)?;
    let rows: Vec<u32> = (0..h / factor).map(|i| (i * factor) as u32).collect();
    let cols: Vec<u32> = (0..w / factor).map(|j| (j * factor) as u32).collect();
    let dev = mask.device();
    let r = Tensor::new(rows.as_slice(), dev).map_err(err)?;
    let c = Tensor::new(cols.as_slice(), dev).map_err(err)?;
    mask.index_select(&r, 2)
        .and_then(|t| t.index_select(&c, 3))
        .and_then(|t| t.to_dtype(DType::F32))
        .and_then(|t| t.to_device(device))
        .map_err(err)
}
