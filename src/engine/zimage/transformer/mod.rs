//! The Z-Image DiT (`ZImageTransformer2DModel`): caption and image token streams refined
//! separately, then joint blocks over [image, caption], with learned pad tokens and 3-axis RoPE.

mod block;
pub mod fused;
pub mod linear;
mod rope;
pub mod source;
mod tables;
mod timestep;

use super::config::TransformerConfig;
use super::weights::Weights;
use super::EngineError;
use block::Block;
pub use block::SCORE_BYTES;
use candle_core::{DType, Module, Result as CResult, Tensor};
pub use linear::{Linear, QuantMode, SidePath};
use rope::Rope;
pub use source::Source;

/// Sequences are padded to a multiple of this with the learned pad tokens.
const SEQ_MULTIPLE: usize = 32;
/// The most items one stacked call runs (a CFG pair); the memory plan counts on it.
pub const MAX_BATCH: usize = 2;
/// Width of the sinusoidal timestep features.
const T_FREQ_DIM: usize = timestep::FREQ_DIM;

fn model_err(e: candle_core::Error) -> EngineError {
    crate::engine::zimage::candle_error("transformer", e)
}

/// A dense `candle_nn::Linear` from safetensors (the VAE and the text encoder use these).
pub(crate) fn load_linear(
    w: &Weights,
    name: &str,
    input: usize,
    output: usize,
    bias: bool,
) -> Result<candle_nn::Linear, EngineError> {
    let weight = w.get(&format!("{name}.weight"), &[output, input])?;
    let bias = if bias {
        Some(w.get(&format!("{name}.bias"), &[output])?)
    } else {
        None
    };
    Ok(candle_nn::Linear::new(weight, bias))
}

fn pad_to(n: usize) -> usize {
    n.div_ceil(SEQ_MULTIPLE) * SEQ_MULTIPLE
}

/// The caption side of a call, which depends on the prompt only: computed once per prompt and
/// reused by every step.
pub struct Caption {
    tokens: Tensor,
    padded_len: usize,
}

pub struct Transformer {
    cfg: TransformerConfig,
    t_mlp0: Linear,
    t_mlp2: Linear,
    cap_norm: Tensor,
    cap_proj: Linear,
    cap_pad: Tensor,
    x_embed: Linear,
    x_pad: Tensor,
    noise_refiner: Vec<Block>,
    context_refiner: Vec<Block>,
    layers: Vec<Block>,
    final_adaln: Linear,
    final_linear: Linear,
    ln_ones: Tensor,
    ln_zeros: Tensor,
    rope: Rope,
    tables: tables::Cache,
    t_feats: timestep::Features,
    /// The most items one stacked call runs ([`MAX_BATCH`] unless the memory plan says 1).
    pub max_batch: usize,
}

impl Transformer {
    pub fn load(w: &Source, cfg: &TransformerConfig) -> Result<Self, EngineError> {
        cfg.validate()?;
        let (dim, p, c) = (cfg.dim, cfg.patch(), cfg.in_channels);
        let ada = cfg.adaln_dim();
        let blocks = |prefix: &str, n: usize, modulated: bool| {
            (0..n)
                .map(|i| Block::load(w, &format!("{prefix}.{i}."), cfg, modulated))
                .collect::<Result<Vec<_>, _>>()
        };
        let fl = format!("all_final_layer.{p}-1.");
        let dev = w.device();
        Ok(Transformer {
            t_mlp0: w.linear("t_embedder.mlp.0", T_FREQ_DIM, 1024, true)?,
            t_mlp2: w.linear("t_embedder.mlp.2", 1024, ada, true)?,
            cap_norm: w.tensor("cap_embedder.0.weight", &[cfg.cap_feat_dim])?,
            cap_proj: w.linear("cap_embedder.1", cfg.cap_feat_dim, dim, true)?,
            cap_pad: w.tensor("cap_pad_token", &[1, dim])?,
            x_embed: w.linear(&format!("all_x_embedder.{p}-1"), p * p * c, dim, true)?,
            x_pad: w.tensor("x_pad_token", &[1, dim])?,
            noise_refiner: blocks("noise_refiner", cfg.n_refiner_layers, true)?,
            context_refiner: blocks("context_refiner", cfg.n_refiner_layers, false)?,
            layers: blocks("layers", cfg.n_layers, true)?,
            final_adaln: w.linear(&format!("{fl}adaLN_modulation.1"), ada, dim, true)?,
            final_linear: w.linear(&format!("{fl}linear"), dim, p * p * c, true)?,
            ln_ones: Tensor::ones(dim, w.dtype(), dev).map_err(model_err)?,
            ln_zeros: Tensor::zeros(dim, w.dtype(), dev).map_err(model_err)?,
            rope: Rope::new(&cfg.axes_dims, cfg.rope_theta),
            tables: tables::Cache::default(),
            t_feats: timestep::Features::default(),
            max_batch: MAX_BATCH,
            cfg: cfg.clone(),
        })
    }

    pub fn config(&self) -> &TransformerConfig {
        &self.cfg
    }

    fn dtype(&self) -> DType {
        self.ln_ones.dtype()
    }

    /// The dtype activations run in (and LoRA side paths must have).
    pub fn weight_dtype(&self) -> DType {
        self.dtype()
    }

    pub fn device(&self) -> &candle_core::Device {
        self.ln_ones.device()
    }

    /// Every linear layer by its diffusers module name (`layers.0.attention.to_q`, …).
    pub fn linears_mut(&mut self) -> Vec<(String, &mut Linear)> {
        let p = self.cfg.patch();
        let mut v: Vec<(String, &mut Linear)> = vec![
            ("t_embedder.mlp.0".into(), &mut self.t_mlp0),
            ("t_embedder.mlp.2".into(), &mut self.t_mlp2),
            ("cap_embedder.1".into(), &mut self.cap_proj),
            (format!("all_x_embedder.{p}-1"), &mut self.x_embed),
            (
                format!("all_final_layer.{p}-1.adaLN_modulation.1"),
                &mut self.final_adaln,
            ),
            (
                format!("all_final_layer.{p}-1.linear"),
                &mut self.final_linear,
            ),
        ];
        for (name, blocks) in [
            ("noise_refiner", &mut self.noise_refiner),
            ("context_refiner", &mut self.context_refiner),
            ("layers", &mut self.layers),
        ] {
            for (i, b) in blocks.iter_mut().enumerate() {
                v.extend(b.linears_mut(&format!("{name}.{i}.")));
            }
        }
        v
    }

    /// Embeds and refines caption features `cap` [L, cap_feat_dim] (text-encoder rows).
    pub fn caption(&self, cap: &Tensor) -> Result<Caption, EngineError> {
        let (l, feat) = cap.dims2().map_err(model_err)?;
        if feat != self.cfg.cap_feat_dim || l == 0 {
            return Err(EngineError::Internal(format!(
                "caption features are [{l}, {feat}], expected [L>0, {}]",
                self.cfg.cap_feat_dim
            )));
        }
        let lp = pad_to(l);
        let dev = self.ln_ones.device();
        let (cos, sin) = self
            .rope
            .tables(&rope::caption_positions(lp), dev, DType::F32)?;
        let rot = tables::Rotary::new(cos, sin)?;
        let run = || -> CResult<Tensor> {
            let cap = cap.to_dtype(self.dtype())?;
            let c = candle_nn::ops::rms_norm(&cap, &self.cap_norm, self.cfg.norm_eps as f32)?;
            let c = self.cap_proj.forward(&c)?;
            let c = Tensor::cat(&[c, self.cap_pad.broadcast_as((lp - l, self.cfg.dim))?], 0)?;
            let mut c = c.contiguous()?;
            for b in &self.context_refiner {
                c = b.forward(&c, &rot, None, &[lp])?;
            }
            Ok(c)
        };
        let tokens = run().map_err(model_err)?;
        Ok(Caption {
            tokens,
            padded_len: lp,
        })
    }

    /// One call: latents x [C, H, W] at model time t in [0, 1] → raw model output [C, H, W]
    /// (the pipeline negates it to get the velocity).
    pub fn forward(&self, x: &Tensor, t: f32, cap: &Caption) -> Result<Tensor, EngineError> {
        let mut out = self.forward_batch(&[(x, cap)], t)?;
        out.pop()
            .ok_or_else(|| EngineError::Internal("a batch of one gave no output".into()))
    }

    /// Calls for several items at the same model time t, as the reference's CFG batch:
    /// latents [C, H, W] of one size, each with its caption → each item's raw model output.
    /// They run `max_batch` at a time: the items' tokens are stacked row after row with no
    /// padding between them, so every per-token product, norm and modulation runs once over
    /// all of them; attention runs within each item, so each output is the one a call of its
    /// own gives.
    pub fn forward_batch(
        &self,
        items: &[(&Tensor, &Caption)],
        t: f32,
    ) -> Result<Vec<Tensor>, EngineError> {
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(self.max_batch.clamp(1, MAX_BATCH)) {
            out.extend(self.forward_stacked(chunk, t)?);
        }
        Ok(out)
    }

    fn forward_stacked(
        &self,
        items: &[(&Tensor, &Caption)],
        t: f32,
    ) -> Result<Vec<Tensor>, EngineError> {
        let Some((x0, _)) = items.first() else {
            return Ok(Vec::new());
        };
        let (c, h, w) = x0.dims3().map_err(model_err)?;
        let p = self.cfg.patch();
        if c != self.cfg.in_channels || !h.is_multiple_of(p) || !w.is_multiple_of(p) {
            return Err(EngineError::Internal(format!(
                "latents are [{c}, {h}, {w}]; expected {} channels and sides divisible by {p}",
                self.cfg.in_channels
            )));
        }
        if let Some((x, _)) = items.iter().find(|(x, _)| x.dims() != x0.dims()) {
            return Err(EngineError::Internal(format!(
                "a batch's latents differ in shape: {:?} and {:?}",
                x0.dims(),
                x.dims()
            )));
        }
        let (ht, wt) = (h / p, w / p);
        let (n, dim) = (ht * wt, self.cfg.dim);
        let np = pad_to(n);
        let key = tables::Key {
            grid: (ht, wt),
            captions: items.iter().map(|(_, cap)| cap.padded_len).collect(),
        };
        let tables = self.tables.get(&self.rope, &key, self.device())?;
        let run = || -> CResult<Vec<Tensor>> {
            let temb = self.t_embed(t)?;
            // Patchify: tokens in (h, w) order, features in (ph, pw, c) order.
            let patches = items
                .iter()
                .map(|(x, _)| {
                    x.to_dtype(self.dtype())?
                        .reshape((c, ht, p, wt, p))?
                        .permute((1, 3, 2, 4, 0))?
                        .reshape((n, p * p * c))
                })
                .collect::<CResult<Vec<_>>>()?;
            let xi = self.x_embed.forward(&Tensor::cat(&patches, 0)?)?;
            let pad = self.x_pad.broadcast_as((np - n, dim))?;
            let mut rows = Vec::with_capacity(2 * items.len());
            for i in 0..items.len() {
                rows.push(xi.narrow(0, i * n, n)?);
                rows.push(pad.clone());
            }
            let mut xi = Tensor::cat(&rows, 0)?.contiguous()?;
            let image_segments = vec![np; items.len()];
            for b in &self.noise_refiner {
                xi = b.forward(&xi, &tables.image, Some(&temb), &image_segments)?;
            }
            rows.clear();
            let mut segments = Vec::with_capacity(items.len());
            for (i, (_, cap)) in items.iter().enumerate() {
                rows.push(xi.narrow(0, i * np, np)?);
                rows.push(cap.tokens.clone());
                segments.push(np + cap.padded_len);
            }
            let mut u = Tensor::cat(&rows, 0)?;
            for b in &self.layers {
                u = b.forward(&u, &tables.joint, Some(&temb), &segments)?;
            }
            // The final layer is per token: only the image tokens of each item go through it.
            let mut start = 0;
            rows.clear();
            for len in &segments {
                rows.push(u.narrow(0, start, n)?);
                start += len;
            }
            let u = Tensor::cat(&rows, 0)?;
            let scale = (self.final_adaln.forward(&candle_nn::ops::silu(&temb)?)? + 1.0)?;
            let u = candle_nn::ops::layer_norm(&u, &self.ln_ones, &self.ln_zeros, 1e-6)?;
            let u = self.final_linear.forward(&u.broadcast_mul(&scale)?)?;
            (0..items.len())
                .map(|i| {
                    u.narrow(0, i * n, n)?
                        .reshape((ht, wt, p, p, c))?
                        .permute((4, 0, 2, 1, 3))?
                        .reshape((c, h, w))?
                        .to_dtype(DType::F32)
                })
                .collect()
        };
        run().map_err(model_err)
    }

    /// Uploads the timestep features of model times `ts` (an edit's steps) in one transfer,
    /// so that its steps do no host work for them.
    pub fn prepare_timesteps(&self, ts: &[f32]) -> Result<(), EngineError> {
        let dev = self.ln_ones.device();
        let scale = self.cfg.t_scale as f32;
        self.t_feats
            .prepare(ts, scale, dev, self.dtype())
            .map_err(model_err)
    }

    /// Sinusoidal features of t·t_scale ([cos, sin], cos first) through the 2-layer MLP.
    fn t_embed(&self, t: f32) -> CResult<Tensor> {
        let dev = self.ln_ones.device();
        let x = (self.t_feats).get(t, self.cfg.t_scale as f32, dev, self.dtype())?;
        let x = candle_nn::ops::silu(&self.t_mlp0.forward(&x)?)?;
        self.t_mlp2.forward(&x)
    }
}

/// Counts the multiply-adds of one call, for throughput figures: 2·params·tokens for the
/// linear layers plus 4·S²·dim per attention block.
pub fn flops_per_call(cfg: &TransformerConfig, image_tokens: usize, cap_tokens: usize) -> f64 {
    let (d, f) = (cfg.dim as f64, cfg.ffn_dim() as f64);
    let per_token = 2.0 * (4.0 * d * d + 3.0 * d * f);
    let attn = |s: f64| 4.0 * s * s * d;
    let (ni, nc) = (pad_to(image_tokens) as f64, pad_to(cap_tokens) as f64);
    let r = cfg.n_refiner_layers as f64;
    let refine = r * (per_token * (ni + nc) + attn(ni) + attn(nc));
    let joint = cfg.n_layers as f64 * (per_token * (ni + nc) + attn(ni + nc));
    refine + joint
}
