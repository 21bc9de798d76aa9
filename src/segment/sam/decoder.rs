//! SAM's mask decoder, built on candle-transformers' `TwoWayTransformer` and `LayerNorm2d`.
//! candle's own `MaskDecoder` fixes the transformer (depth 2, 8 heads, MLP 2048) and upscales
//! with the tanh approximation of GELU; the reference (`segment_anything/modeling/
//! mask_decoder.py`) takes the transformer's sizes as parameters and uses the exact GELU. This
//! one follows the reference and returns every mask token's output, so the caller can offer
//! the multimask candidates.

use super::config::SamConfig;
use super::kernels::{bias_act, conv_transpose2x2, gelu};
use candle_core::{IndexOp, Module, Result, Tensor};
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
}

impl MaskDecoder {
    pub fn new(cfg: &SamConfig, vb: VarBuilder) -> Result<Self> {
        let dim = cfg.prompt_embed_dim;
        let d = &cfg.decoder;
        let tokens = d.num_multimask_outputs + 1;
        let up = candle_nn::ConvTranspose2dConfig {
            stride: 2,
            ..Default::default()
        };
        let vh = vb.pp("output_hypernetworks_mlps");
        Ok(MaskDecoder {
            iou_token: vb.get((1, dim), "iou_token.weight")?,
            mask_tokens: vb.get((tokens, dim), "mask_tokens.weight")?,
            transformer: TwoWayTransformer::new(
                d.depth,
                dim,
                d.num_heads,
                d.mlp_dim,
                vb.pp("transformer"),
            )?,
            upscale_conv1: candle_nn::conv_transpose2d(
                dim,
                dim / 4,
                2,
                up,
                vb.pp("output_upscaling.0"),
            )?,
            upscale_ln: LayerNorm2d::new(dim / 4, 1e-6, vb.pp("output_upscaling.1"))?,
            upscale_conv2: candle_nn::conv_transpose2d(
                dim / 4,
                dim / 8,
                2,
                up,
                vb.pp("output_upscaling.3"),
            )?,
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
        })
    }

    /// Decodes one prompt: `image` (1, C, g, g), `image_pe` (1, C, g, g), `sparse` (1, n, C)
    /// and `dense` (1, C, g, g) embeddings.
    pub fn forward(
        &self,
        image: &Tensor,
        image_pe: &Tensor,
        sparse: &Tensor,
        dense: &Tensor,
    ) -> Result<Decoded> {
        let out = self.forward_batch(image, image_pe, sparse, dense)?;
        Ok(Decoded {
            masks: out.masks.squeeze(0)?,
            iou: out.iou.squeeze(0)?,
        })
    }

    /// Decodes `B` prompts against one image at once (the reference repeats the embedding per
    /// prompt): `sparse` (B, n, C); masks come back (B, tokens, 4g, 4g), IoU (B, tokens).
    pub fn forward_batch(
        &self,
        image: &Tensor,
        image_pe: &Tensor,
        sparse: &Tensor,
        dense: &Tensor,
    ) -> Result<Decoded> {
        let batch = sparse.dim(0)?;
        let output_tokens = Tensor::cat(&[&self.iou_token, &self.mask_tokens], 0)?.unsqueeze(0)?;
        let (t, dim) = (output_tokens.dim(1)?, output_tokens.dim(2)?);
        let output_tokens = output_tokens.broadcast_as((batch, t, dim))?.contiguous()?;
        let tokens = Tensor::cat(&[&output_tokens, sparse], 1)?;
        let src = image.broadcast_add(dense)?;
        let (_, c, h, w) = src.dims4()?;
        let src = src.broadcast_as((batch, c, h, w))?.contiguous()?;
        let pe = image_pe.broadcast_as((batch, c, h, w))?.contiguous()?;
        let (hs, src) = self.transformer.forward(&src, &pe, &tokens)?;
        let n = self.hypernetworks.len();
        let iou_out = hs.i((.., 0))?;
        let src = src.transpose(1, 2)?.reshape((batch, c, h, w))?;
        let (c1, c2) = (&self.upscale_conv1, &self.upscale_conv2);
        let up = gelu(&conv_transpose2x2(&src, c1.weight(), c1.bias())?.apply(&self.upscale_ln)?)?;
        let up = match c2.bias() {
            Some(bias) => bias_act(&conv_transpose2x2(&up, c2.weight(), None)?, bias, true)?,
            None => gelu(&conv_transpose2x2(&up, c2.weight(), None)?)?,
        };
        let hyper = self
            .hypernetworks
            .iter()
            .enumerate()
            .map(|(i, mlp)| mlp.forward(&hs.i((.., 1 + i))?))
            .collect::<Result<Vec<_>>>()?;
        let hyper = Tensor::stack(&hyper, 1)?.contiguous()?;
        let (b, c, h, w) = up.dims4()?;
        let masks = hyper
            .matmul(&up.reshape((b, c, h * w))?)?
            .reshape((b, n, h, w))?;
        let iou = self.iou_head.forward(&iou_out)?.reshape((b, n))?;
        Ok(Decoded { masks, iou })
    }
}
