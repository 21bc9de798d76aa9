//! SAM's mask decoder, built on candle-transformers' `TwoWayTransformer` and `LayerNorm2d`.
//! candle's own `MaskDecoder` fixes the transformer (depth 2, 8 heads, MLP 2048) and upscales
//! with the tanh approximation of GELU; the reference (`segment_anything/modeling/
//! mask_decoder.py`) takes the transformer's sizes as parameters and uses the exact GELU. This
//! one follows the reference and returns every mask token's output, so the caller can offer
//! the multimask candidates. On the CPU the transformer and upscaling run through
//! [`TwoWay`] and [`Upscale`] (same arithmetic, less of it); elsewhere through candle's parts.

use super::config::SamConfig;
use super::kernels::{bias_act, conv_transpose2x2, gelu};
use super::two_way::{ImageSide, TwoWay};
use super::upscale::Upscale;
use super::Embedding;
use candle_core::{DType, IndexOp, Module, Result, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::segment_anything::transformer::TwoWayTransformer;
use candle_transformers::models::segment_anything::LayerNorm2d;

/// A small MLP with ReLU between its layers.
#[derive(Debug)]
struct Mlp {
    layers: Vec<candle_nn::Linear>,
}

impl Mlp {
    fn new(
        input: usize,
        hidden: usize,
        output: usize,
        depth: usize,
        vb: VarBuilder,
    ) -> Result<Self> {
        let vb = vb.pp("layers");
        let layers = (0..depth)
            .map(|i| {
                let cin = if i == 0 { input } else { hidden };
                let cout = if i + 1 == depth { output } else { hidden };
                candle_nn::linear(cin, cout, vb.pp(i))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Mlp { layers })
    }
}

impl Module for Mlp {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let mut xs = xs.clone();
        for (i, l) in self.layers.iter().enumerate() {
            xs = l.forward(&xs)?;
            if i + 1 < self.layers.len() {
                xs = xs.relu()?;
            }
        }
        Ok(xs)
    }
}

/// Every mask token's low-resolution logits and predicted IoU, for one prompt.
#[derive(Debug)]
pub struct Decoded {
    /// (tokens, 4 * grid, 4 * grid), or (B, tokens, ..) from `forward_batch`; token 0 is the
    /// single-mask output, the rest multimask.
    pub masks: Tensor,
    /// (tokens,), or (B, tokens)
    pub iou: Tensor,
}

/// The CPU path's transformer and upscaling.
#[derive(Debug)]
struct Cpu {
    two_way: TwoWay,
    upscale: Upscale,
}

/// A (1, C, g, g) tensor's first item as g·g rows of C values.
fn rows_of(t: &Tensor) -> Result<Vec<f32>> {
    t.i(0)?
        .flatten_from(1)?
        .t()?
        .contiguous()?
        .to_dtype(DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()
}

#[derive(Debug)]
pub struct MaskDecoder {
    iou_token: Tensor,
    mask_tokens: Tensor,
    transformer: TwoWayTransformer,
    upscale_conv1: candle_nn::ConvTranspose2d,
    upscale_ln: LayerNorm2d,
    upscale_conv2: candle_nn::ConvTranspose2d,
    hypernetworks: Vec<Mlp>,
    iou_head: Mlp,
    cpu: Option<Cpu>,
}

impl MaskDecoder {
    /// The decoder of `cfg`; `image_pe` is the prompt encoder's dense positional encoding.
    pub fn new(cfg: &SamConfig, image_pe: &Tensor, vb: VarBuilder) -> Result<Self> {
        let dim = cfg.prompt_embed_dim;
        let d = &cfg.decoder;
        let tokens = d.num_multimask_outputs + 1;
        let up = candle_nn::ConvTranspose2dConfig {
            stride: 2,
            ..Default::default()
        };
        let vh = vb.pp("output_hypernetworks_mlps");
        let transformer =
            TwoWayTransformer::new(d.depth, dim, d.num_heads, d.mlp_dim, vb.pp("transformer"))?;
        let vu = vb.pp("output_upscaling");
        let upscale_conv1 = candle_nn::conv_transpose2d(dim, dim / 4, 2, up, vu.pp("0"))?;
        let upscale_ln = LayerNorm2d::new(dim / 4, 1e-6, vu.pp("1"))?;
        let upscale_conv2 = candle_nn::conv_transpose2d(dim / 4, dim / 8, 2, up, vu.pp("3"))?;
        // After candle's parts, so that a fresh variable map gives both candle's initial values.
        let cpu = if vb.device().is_cpu() && vb.dtype() == DType::F32 {
            let pe = rows_of(image_pe)?;
            Some(Cpu {
                two_way: TwoWay::load(
                    d.depth,
                    dim,
                    d.num_heads,
                    d.mlp_dim,
                    &pe,
                    vb.pp("transformer"),
                )?,
                upscale: Upscale::load(dim, cfg.grid(), vb.pp("output_upscaling"))?,
            })
        } else {
            None
        };
        Ok(MaskDecoder {
            iou_token: vb.get((1, dim), "iou_token.weight")?,
            mask_tokens: vb.get((tokens, dim), "mask_tokens.weight")?,
            transformer,
            upscale_conv1,
            upscale_ln,
            upscale_conv2,
            hypernetworks: (0..tokens)
                .map(|i| Mlp::new(dim, dim, dim / 8, 3, vh.pp(i)))
                .collect::<Result<Vec<_>>>()?,
            iou_head: Mlp::new(
                dim,
                d.iou_head_hidden_dim,
                tokens,
                d.iou_head_depth,
                vb.pp("iou_prediction_head"),
            )?,
            cpu,
        })
    }

    /// Decodes one prompt against `emb`: `image_pe` (1, C, g, g), `sparse` (1, n, C) and
    /// `dense` (1, C, g, g) embeddings.
    pub fn forward(
        &self,
        emb: &Embedding,
        image_pe: &Tensor,
        sparse: &Tensor,
        dense: &Tensor,
    ) -> Result<Decoded> {
        let out = self.forward_batch(emb, image_pe, sparse, dense)?;
        Ok(Decoded {
            masks: out.masks.squeeze(0)?,
            iou: out.iou.squeeze(0)?,
        })
    }

    /// Decodes `B` prompts against one image (the reference repeats the embedding per
    /// prompt): `sparse` (B, n, C); masks come back (B, tokens, 4g, 4g), IoU (B, tokens).
    /// `dense` is the prompt encoder's no-mask embedding, the same for every prompt.
    pub fn forward_batch(
        &self,
        emb: &Embedding,
        image_pe: &Tensor,
        sparse: &Tensor,
        dense: &Tensor,
    ) -> Result<Decoded> {
        match &self.cpu {
            Some(cpu) => self.forward_cpu(cpu, emb, sparse, dense),
            None => self.forward_generic(&emb.features, image_pe, sparse, dense),
        }
    }

    /// The output tokens (IoU, then masks) and each prompt's sparse embeddings: (B, t, C).
    fn tokens(&self, sparse: &Tensor) -> Result<Tensor> {
        let batch = sparse.dim(0)?;
        let output_tokens = Tensor::cat(&[&self.iou_token, &self.mask_tokens], 0)?.unsqueeze(0)?;
        let (t, dim) = (output_tokens.dim(1)?, output_tokens.dim(2)?);
        let output_tokens = output_tokens.broadcast_as((batch, t, dim))?.contiguous()?;
        Tensor::cat(&[&output_tokens, sparse], 1)
    }

    /// The hypernetworks' outputs (B, masks, C/8) and the IoU head's (B, masks) for the
    /// transformer's token outputs `hs` (B, t, C).
    fn heads(&self, hs: &Tensor) -> Result<(Tensor, Tensor)> {
        let hyper = self
            .hypernetworks
            .iter()
            .enumerate()
            .map(|(i, mlp)| mlp.forward(&hs.i((.., 1 + i))?))
            .collect::<Result<Vec<_>>>()?;
        let hyper = Tensor::stack(&hyper, 1)?.contiguous()?;
        let b = hs.dim(0)?;
        let iou = self
            .iou_head
            .forward(&hs.i((.., 0))?)?
            .reshape((b, self.hypernetworks.len()))?;
        Ok((hyper, iou))
    }

    /// The CPU path: the first layer's image side made once per embedding, then each prompt
    /// through [`TwoWay`] and [`Upscale`].
    fn forward_cpu(
        &self,
        cpu: &Cpu,
        emb: &Embedding,
        sparse: &Tensor,
        dense: &Tensor,
    ) -> Result<Decoded> {
        if emb.side.get().is_none() {
            let src = rows_of(&emb.features.broadcast_add(&dense.i(0..1)?)?)?;
            // Another thread may have set it meanwhile: the same values either way.
            let _ = emb.side.set(cpu.two_way.image_side(src));
        }
        let side: &ImageSide = match emb.side.get() {
            Some(s) => s,
            None => candle_core::bail!("the decoder's image side was not made"),
        };
        let tokens = self.tokens(sparse)?;
        let (batch, t, dim) = tokens.dims3()?;
        let flat = tokens.flatten_all()?.to_vec1::<f32>()?;
        let mut hs = Vec::with_capacity(batch * t * dim);
        let mut image_rows = Vec::with_capacity(batch);
        for prompt in flat.chunks_exact(t * dim) {
            let (q, keys) = cpu.two_way.forward(side, prompt);
            hs.extend_from_slice(&q);
            image_rows.push(keys);
        }
        let hs = Tensor::from_vec(hs, (batch, t, dim), sparse.device())?;
        let (hyper, iou) = self.heads(&hs)?;
        let (_, n, c) = hyper.dims3()?;
        let hyper = hyper.flatten_all()?.to_vec1::<f32>()?;
        let mut masks = Vec::new();
        for (keys, h) in image_rows.iter().zip(hyper.chunks_exact(n * c)) {
            masks.extend(cpu.upscale.masks(keys, h));
        }
        let low = 4 * emb.features.dim(2)?;
        let masks = Tensor::from_vec(masks, (batch, n, low, low), sparse.device())?;
        Ok(Decoded { masks, iou })
    }

    /// The generic path, through candle's operations on any device.
    pub(super) fn forward_generic(
        &self,
        image: &Tensor,
        image_pe: &Tensor,
        sparse: &Tensor,
        dense: &Tensor,
    ) -> Result<Decoded> {
        let batch = sparse.dim(0)?;
        let tokens = self.tokens(sparse)?;
        let src = image.broadcast_add(dense)?;
        let (_, c, h, w) = src.dims4()?;
        let src = src.broadcast_as((batch, c, h, w))?.contiguous()?;
        let pe = image_pe.broadcast_as((batch, c, h, w))?.contiguous()?;
        let (hs, src) = self.transformer.forward(&src, &pe, &tokens)?;
        let n = self.hypernetworks.len();
        let src = src.transpose(1, 2)?.reshape((batch, c, h, w))?;
        let (c1, c2) = (&self.upscale_conv1, &self.upscale_conv2);
        let up = gelu(&conv_transpose2x2(&src, c1.weight(), c1.bias())?.apply(&self.upscale_ln)?)?;
        let up = match c2.bias() {
            Some(bias) => bias_act(&conv_transpose2x2(&up, c2.weight(), None)?, bias, true)?,
            None => gelu(&conv_transpose2x2(&up, c2.weight(), None)?)?,
        };
        let (hyper, iou) = self.heads(&hs)?;
        let (b, c, h, w) = up.dims4()?;
        let masks = hyper
            .matmul(&up.reshape((b, c, h * w))?)?
            .reshape((b, n, h, w))?;
        Ok(Decoded { masks, iou })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use candle_nn::VarMap;
    use std::sync::Arc;

    fn worst(a: &Tensor, b: &Tensor) -> (f32, f32) {
        let d = (a - b).unwrap().abs().unwrap().max_all().unwrap();
        let m = b.abs().unwrap().max_all().unwrap();
        (d.to_scalar().unwrap(), m.to_scalar().unwrap())
    }

    /// The CPU path against candle's on random weights: several prompts of different points
    /// at once, and again from the cached image side.
    #[test]
    fn the_cpu_path_computes_what_candles_does() {
        let dev = Device::Cpu;
        let mut cfg = SamConfig::mobile_sam();
        cfg.image_size = 192;
        let (c, g) = (cfg.prompt_embed_dim, cfg.grid());
        let pe = Tensor::randn(0f32, 1.0, (1, c, g, g), &dev).unwrap();
        let map = VarMap::new();
        let vb = VarBuilder::from_varmap(&map, DType::F32, &dev);
        MaskDecoder::new(&cfg, &pe, vb.clone()).unwrap();
        for var in map.all_vars() {
            let r = Tensor::randn(0f32, 0.15, var.shape(), &dev).unwrap();
            var.set(&(r + 0.02).unwrap()).unwrap();
        }
        let decoder = MaskDecoder::new(&cfg, &pe, vb).unwrap();
        assert!(decoder.cpu.is_some());
        let emb = Embedding {
            features: Tensor::randn(0f32, 1.0, (1, c, g, g), &dev).unwrap(),
            original: (100, 150),
            input: (128, 192),
            side: Arc::default(),
        };
        let dense = Tensor::randn(0f32, 1.0, (1, c, g, g), &dev).unwrap();
        // Few prompt tokens (products through the tokens) and many (through projections).
        for points in [2, 15] {
            let sparse = Tensor::randn(0f32, 1.0, (3, points, c), &dev).unwrap();
            let theirs = decoder
                .forward_generic(&emb.features, &pe, &sparse, &dense)
                .unwrap();
            for round in 0..2 {
                let ours = decoder.forward_batch(&emb, &pe, &sparse, &dense).unwrap();
                assert_eq!(ours.masks.dims(), theirs.masks.dims());
                let (d, m) = worst(&ours.masks, &theirs.masks);
                let at = format!("{points} points, round {round}");
                assert!(m > 0.1 && d <= 1e-4 * m.max(1.0), "masks {d} of {m}, {at}");
                let (d, m) = worst(&ours.iou, &theirs.iou);
                assert!(m > 0.01 && d <= 1e-4 * m.max(1.0), "iou {d} of {m}, {at}");
                assert!(emb.side.get().is_some());
            }
        }
    }
}
