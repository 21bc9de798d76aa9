//! Segment Anything (MobileSAM and SAM ViT-B/L/H) through candle: the image embedded once,
//! then any number of prompts (positive and negative points, a box, or both) decoded against
//! it into multimask candidates at the image's size.
//!
//! Parts taken from candle-transformers' `segment_anything`: the ViT image encoder, the prompt
//! encoder (points, boxes, the dense positional encoding), the two-way transformer and
//! `LayerNorm2d`. Written here on top of them: TinyViT and the mask decoder (see their module
//! notes), the reference's resize / normalise / pad and mask post-processing, coordinates in
//! the resized frame, negative points, the multimask choice, and boxes: candle's box path
//! returns a (B, 2C) tensor where the decoder needs (B, 2, C), so a box is given as its two
//! corners with labels 2 and 3 (as the reference's exported model does), whose positional
//! encoding candle computes and to which the corner embeddings are added here.

mod batch;
pub mod config;
mod cross;
mod decoder;
mod dense;
mod kernels;
#[cfg(test)]
mod kernels_tests;
mod tiny_vit;
mod tiny_vit_block;
pub mod transform;
mod two_way;
mod upscale;
mod window;

pub use config::{DecoderConfig, EncoderConfig, SamConfig};
pub use kernels::serial;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::segment_anything::image_encoder::ImageEncoderViT;
use candle_transformers::models::segment_anything::prompt_encoder::PromptEncoder;
use decoder::MaskDecoder;
use image::RgbImage;
use std::sync::{Arc, OnceLock};
use tiny_vit::TinyViT;

/// Result of the model code; the segment module turns it into a `SegmentError`.
pub type Result<T> = candle_core::Result<T>;

#[derive(Debug)]
enum Encoder {
    Tiny(Box<TinyViT>),
    Vit(Box<ImageEncoderViT>),
}

/// A loaded SAM model.
#[derive(Debug)]
pub struct Sam {
    config: SamConfig,
    encoder: Encoder,
    prompt: PromptEncoder,
    /// The prompt encoder's embeddings of a box's top-left and bottom-right corners, (1, C).
    corners: [Tensor; 2],
    decoder: MaskDecoder,
    /// The prompt encoder's dense positional encoding, (1, C, g, g); fixed per model.
    image_pe: Tensor,
    device: Device,
}

/// An image's embedding with the sizes its prompts and masks are mapped through.
#[derive(Debug, Clone)]
pub struct Embedding {
    /// (1, C, g, g)
    pub features: Tensor,
    /// The image's (height, width).
    pub original: (usize, usize),
    /// The resized image's (height, width) inside the padded square.
    pub input: (usize, usize),
    /// The mask decoder's per-image work on the CPU, made at the first prompt and shared by
    /// clones (for the model that made the embedding).
    side: Arc<OnceLock<two_way::ImageSide>>,
}

/// A prompt in the original image's pixels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prompt {
    /// (x, y, positive)
    pub points: Vec<(f64, f64, bool)>,
    /// (x0, y0, x1, y1)
    pub bbox: Option<[f64; 4]>,
}

/// The decoder's outputs for one prompt, every mask token in order (token 0 is the
/// single-mask output; 1.. are the multimask candidates).
#[derive(Debug, Clone)]
pub struct Prediction {
    /// Per token: `low * low` low-resolution logits.
    pub low_res: Vec<Vec<f32>>,
    pub low: usize,
    pub iou: Vec<f32>,
}

impl Sam {
    /// Builds the model of `config` from `vb` (safetensors, or zeros for benchmarks).
    pub fn new(config: SamConfig, vb: VarBuilder) -> Result<Sam> {
        kernels::keep_large_buffers();
        let device = vb.device().clone();
        let g = config.grid();
        let vi = vb.pp("image_encoder");
        let encoder = match &config.encoder {
            EncoderConfig::TinyVit {
                embed_dims,
                depths,
                num_heads,
                window_sizes,
            } => Encoder::Tiny(Box::new(TinyViT::new(
                &config,
                embed_dims,
                depths,
                num_heads,
                window_sizes,
                vi,
            )?)),
            EncoderConfig::Vit {
                embed_dim,
                depth,
                num_heads,
                global_attn_indexes,
                window_size,
                patch_size,
            } => Encoder::Vit(Box::new(ImageEncoderViT::new(
                config.image_size,
                *patch_size,
                3,
                *embed_dim,
                *depth,
                *num_heads,
                config.prompt_embed_dim,
                true,
                true,
                true,
                *window_size,
                global_attn_indexes,
                vi,
            )?)),
        };
        let prompt = PromptEncoder::new(
            config.prompt_embed_dim,
            (g, g),
            (config.image_size, config.image_size),
            config.mask_in_chans,
            vb.pp("prompt_encoder"),
        )?;
        let vp = vb.pp("prompt_encoder").pp("point_embeddings");
        let dim = config.prompt_embed_dim;
        let corners = [
            vp.pp(2).get((1, dim), "weight")?,
            vp.pp(3).get((1, dim), "weight")?,
        ];
        let image_pe = prompt.get_dense_pe()?;
        let decoder = MaskDecoder::new(&config, &image_pe, vb.pp("mask_decoder"))?;
        Ok(Sam {
            config,
            encoder,
            prompt,
            corners,
            decoder,
            image_pe,
            device,
        })
    }

    pub fn config(&self) -> &SamConfig {
        &self.config
    }

    /// The encoder's input for `image`: resized, normalised, padded; (1, 3, S, S).
    pub fn preprocess(&self, image: &RgbImage) -> Result<(Tensor, (usize, usize))> {
        let side = self.config.image_size;
        let resized = transform::resize_longest(image, side);
        let input = (resized.height() as usize, resized.width() as usize);
        let data = transform::normalise_padded(&resized, side);
        let t = Tensor::from_vec(data, (1, 3, side, side), &self.device)?;
        Ok((t, input))
    }

    /// The image embedding of an already preprocessed input.
    pub fn encode(&self, input: &Tensor) -> Result<Tensor> {
        match &self.encoder {
            Encoder::Tiny(e) => e.forward(input),
            Encoder::Vit(e) => e.forward(input),
        }
    }

    /// Embeds `image` (computed once per image; prompts reuse it).
    pub fn embed(&self, image: &RgbImage) -> Result<Embedding> {
        let (t, input) = self.preprocess(image)?;
        let features = self.encode(&t)?;
        Ok(Embedding {
            features,
            original: (image.height() as usize, image.width() as usize),
            input,
            side: Arc::default(),
        })
    }

    /// Every mask token's low-resolution logits and predicted IoU for `prompt`.
    pub fn predict(&self, emb: &Embedding, prompt: &Prompt) -> Result<Prediction> {
        let dev = &self.device;
        let mut xy = Vec::new();
        let mut labels = Vec::new();
        for &(x, y, positive) in &prompt.points {
            let (x, y) = transform::scale_point((x, y), emb.original, emb.input);
            xy.extend([x, y]);
            labels.push(if positive { 1f32 } else { 0.0 });
        }
        if let Some([x0, y0, x1, y1]) = prompt.bbox {
            for (i, (x, y)) in [(x0, y0), (x1, y1)].into_iter().enumerate() {
                let (x, y) = transform::scale_point((x, y), emb.original, emb.input);
                xy.extend([x, y]);
                // candle adds no label embedding for 2 and 3: the positional encoding alone.
                labels.push(2.0 + i as f32);
            }
        }
        let n = labels.len();
        let (sparse, dense) = if n == 0 {
            self.prompt.forward(None, None, None)?
        } else {
            let xy = Tensor::from_vec(xy, (1, n, 2), dev)?;
            let labels = Tensor::from_vec(labels, (1, n), dev)?;
            self.prompt.forward(Some((&xy, &labels)), None, None)?
        };
        let sparse = match prompt.bbox {
            // With a box the reference adds no padding point: drop candle's, add the corners'.
            Some(_) => {
                let dim = self.config.prompt_embed_dim;
                let zeros = Tensor::zeros((n - 2, dim), DType::F32, dev)?;
                let extra =
                    Tensor::cat(&[&zeros, &self.corners[0], &self.corners[1]], 0)?.unsqueeze(0)?;
                (sparse.narrow(1, 0, n)? + extra)?
            }
            None => sparse,
        };
        let out = self.decoder.forward(emb, &self.image_pe, &sparse, &dense)?;
        let (n, low, _) = out.masks.dims3()?;
        let flat = out
            .masks
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let low_res = flat.chunks(low * low).map(<[f32]>::to_vec).collect();
        let iou = out.iou.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        debug_assert_eq!(iou.len(), n);
        Ok(Prediction { low_res, low, iou })
    }

    /// Token `i`'s logits at the original image's size (row-major, height x width).
    pub fn upscale(&self, emb: &Embedding, pred: &Prediction, i: usize) -> Vec<f32> {
        transform::postprocess_fast(
            &pred.low_res[i],
            pred.low,
            self.config.image_size,
            emb.input,
            emb.original,
        )
    }
}
