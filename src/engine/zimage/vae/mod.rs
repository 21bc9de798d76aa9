//! The Flux-style `AutoencoderKL` of Z-Image: encoder (posterior mean/logvar) for img2img and
//! inpainting, decoder for the output, tiled above a pixel budget.

mod blocks;
pub mod cudnn;
mod tiled;

use super::config::VaeConfig;
use super::weights::Weights;
use super::EngineError;
use blocks::{conv, group_norm, Downsample, MidBlock, Resnet, Upsample};
use candle_core::{DType, Module, Result as CResult, Tensor};
use candle_nn::{Conv2d, GroupNorm};

fn err(e: candle_core::Error) -> EngineError {
    crate::engine::zimage::candle_error("vae", e)
}

struct Encoder {
    conv_in: Conv2d,
    down: Vec<(Vec<Resnet>, Option<Downsample>)>,
    mid: MidBlock,
    norm_out: GroupNorm,
    conv_out: Conv2d,
}

impl Encoder {
    fn load(w: &Weights, cfg: &VaeConfig) -> Result<Self, EngineError> {
        let ch = &cfg.block_out_channels;
        let g = cfg.norm_num_groups;
        let mut down = Vec::new();
        let mut cin = ch[0];
        for (i, &cout) in ch.iter().enumerate() {
            let p = format!("encoder.down_blocks.{i}");
            let res = (0..cfg.layers_per_block)
                .map(|j| {
                    let ci = if j == 0 { cin } else { cout };
                    Resnet::load(w, &format!("{p}.resnets.{j}"), ci, cout, g)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let ds = if i + 1 < ch.len() {
                Some(Downsample(conv(
                    w,
                    &format!("{p}.downsamplers.0.conv"),
                    cout,
                    cout,
                    3,
                    2,
                    0,
                )?))
            } else {
                None
            };
            down.push((res, ds));
            cin = cout;
        }
        let last = *ch.last().unwrap_or(&cin);
        Ok(Encoder {
            conv_in: conv(w, "encoder.conv_in", cfg.in_channels, ch[0], 3, 1, 1)?,
            down,
            mid: MidBlock::load(w, "encoder.mid_block", last, g, cfg.mid_block_add_attention)?,
            norm_out: group_norm(w, "encoder.conv_norm_out", last, g)?,
            conv_out: conv(
                w,
                "encoder.conv_out",
                last,
                2 * cfg.latent_channels,
                3,
                1,
                1,
            )?,
        })
    }

    fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let mut x = self.conv_in.forward(x)?;
        for (res, ds) in &self.down {
            for r in res {
                x = r.forward(&x)?;
            }
            if let Some(d) = ds {
                x = d.forward(&x)?;
            }
        }
        let x = self.mid.forward(&x)?;
        self.conv_out
            .forward(&candle_nn::ops::silu(&self.norm_out.forward(&x)?)?)
    }
}

struct Decoder {
    conv_in: Conv2d,
    mid: MidBlock,
    up: Vec<(Vec<Resnet>, Option<Upsample>)>,
    norm_out: GroupNorm,
    conv_out: Conv2d,
}

impl Decoder {
    fn load(w: &Weights, cfg: &VaeConfig) -> Result<Self, EngineError> {
        let rev: Vec<usize> = cfg.block_out_channels.iter().rev().copied().collect();
        let g = cfg.norm_num_groups;
        let mut up = Vec::new();
        let mut prev = rev[0];
        for (i, &cout) in rev.iter().enumerate() {
            let p = format!("decoder.up_blocks.{i}");
            let res = (0..=cfg.layers_per_block)
                .map(|j| {
                    let ci = if j == 0 { prev } else { cout };
                    Resnet::load(w, &format!("{p}.resnets.{j}"), ci, cout, g)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let us = if i + 1 < rev.len() {
                Some(Upsample(conv(
                    w,
                    &format!("{p}.upsamplers.0.conv"),
                    cout,
                    cout,
                    3,
                    1,
                    1,
                )?))
            } else {
                None
            };
            up.push((res, us));
            prev = cout;
        }
        Ok(Decoder {
            conv_in: conv(w, "decoder.conv_in", cfg.latent_channels, rev[0], 3, 1, 1)?,
            mid: MidBlock::load(
                w,
                "decoder.mid_block",
                rev[0],
                g,
                cfg.mid_block_add_attention,
            )?,
            up,
            norm_out: group_norm(w, "decoder.conv_norm_out", prev, g)?,
            conv_out: conv(w, "decoder.conv_out", prev, cfg.out_channels, 3, 1, 1)?,
        })
    }

    fn forward(&self, z: &Tensor) -> CResult<Tensor> {
        let mut x = self.mid.forward(&self.conv_in.forward(z)?)?;
        for (res, us) in &self.up {
            for r in res {
                x = r.forward(&x)?;
            }
            if let Some(u) = us {
                x = u.forward(&x)?;
            }
        }
        self.conv_out
            .forward(&candle_nn::ops::silu(&self.norm_out.forward(&x)?)?)
    }
}

/// The posterior of one encoded image.
pub struct Posterior {
    pub mean: Tensor,
    pub logvar: Tensor,
}

impl Posterior {
    /// std = exp(0.5·clamp(logvar, −30, 20)).
    pub fn std(&self) -> Result<Tensor, EngineError> {
        (self.logvar.clamp(-30f32, 20f32).map_err(err)? * 0.5)
            .and_then(|t| t.exp())
            .map_err(err)
    }

    /// mean + std·eps.
    pub fn sample(&self, eps: &Tensor) -> Result<Tensor, EngineError> {
        let std = self.std()?;
        (&self.mean + (std * eps).map_err(err)?).map_err(err)
    }
}

pub struct Vae {
    cfg: VaeConfig,
    encoder: Option<Encoder>,
    decoder: Decoder,
    /// Weights' dtype; inputs are cast to it and outputs come back as f32.
    dtype: DType,
    /// Above this many output pixels the decoder runs on overlapping tiles.
    pub tile_above_pixels: usize,
}

impl Vae {
    /// Loads the decoder, and the encoder when `with_encoder` (text-to-image does not need it).
    pub fn load(w: &Weights, cfg: &VaeConfig, with_encoder: bool) -> Result<Self, EngineError> {
        cfg.validate()?;
        cudnn::algo()?;
        if cfg.use_quant_conv || cfg.use_post_quant_conv {
            return Err(EngineError::Model(
                "vae/config.json: quant convs are not part of the Z-Image VAE; use that model's VAE"
                    .into(),
            ));
        }
        Ok(Vae {
            encoder: if with_encoder {
                Some(Encoder::load(w, cfg)?)
            } else {
                None
            },
            decoder: Decoder::load(w, cfg)?,
            dtype: w.dtype(),
            cfg: cfg.clone(),
            tile_above_pixels: 2 * 1024 * 1024,
        })
    }

    pub fn config(&self) -> &VaeConfig {
        &self.cfg
    }

    /// image [1, 3, H, W] in [−1, 1] → posterior over [1, latent, H/8, W/8].
    pub fn encode(&self, image: &Tensor) -> Result<Posterior, EngineError> {
        let enc = self.encoder.as_ref().ok_or_else(|| {
            EngineError::Internal("the VAE encoder was not loaded for this pipeline".into())
        })?;
        let image = image.to_dtype(self.dtype).map_err(err)?;
        let moments = enc
            .forward(&image)
            .and_then(|m| m.to_dtype(DType::F32))
            .map_err(err)?;
        let c = self.cfg.latent_channels;
        Ok(Posterior {
            mean: moments.narrow(1, 0, c).map_err(err)?,
            logvar: moments.narrow(1, c, c).map_err(err)?,
        })
    }

    /// z [1, latent, h, w] (already un-scaled) → image [1, 3, 8h, 8w] in about [−1, 1].
    pub fn decode(&self, z: &Tensor) -> Result<Tensor, EngineError> {
        let (_, _, h, w) = z.dims4().map_err(err)?;
        let f = self.cfg.spatial_factor();
        let z = z.to_dtype(self.dtype).map_err(err)?;
        let out = if h * w * f * f > self.tile_above_pixels {
            tiled::decode(|t| self.decoder.forward(t), &z, f)
        } else {
            self.decoder.forward(&z)
        };
        out.and_then(|o| o.to_dtype(DType::F32)).map_err(err)
    }

    /// Scaled latents (the denoiser's space) from a posterior sample: (x − shift)·scale.
    pub fn to_latents(&self, sample: &Tensor) -> Result<Tensor, EngineError> {
        ((sample - self.cfg.shift()).map_err(err)? * self.cfg.scaling_factor).map_err(err)
    }

    /// The decoder input for final latents: x/scale + shift.
    pub fn from_latents(&self, latents: &Tensor) -> Result<Tensor, EngineError> {
        // A true division (candle's `/ f64` multiplies by the reciprocal, one rounding off).
        let scale = Tensor::new(self.cfg.scaling_factor as f32, latents.device())
            .and_then(|s| s.to_dtype(latents.dtype()))
            .map_err(err)?;
        (latents.broadcast_div(&scale).map_err(err)? + self.cfg.shift()).map_err(err)
    }
}
