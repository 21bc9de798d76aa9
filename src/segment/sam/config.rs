//! SAM hyper-parameters: the published MobileSAM and SAM ViT-B/L/H sizes, a `config.json` for
//! other sizes (the small test models), and telling the sizes apart from a weights file.

use super::super::SegmentError;
use serde::{Deserialize, Serialize};

/// One SAM model's shape: image encoder, prompt width, mask decoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamConfig {
    pub encoder: EncoderConfig,
    /// Side of the square the image is resized and padded to (1024 for the published models).
    pub image_size: usize,
    /// Width of the prompt embeddings, the image embedding and the decoder.
    pub prompt_embed_dim: usize,
    pub mask_in_chans: usize,
    pub decoder: DecoderConfig,
}

/// The image encoder: MobileSAM's TinyViT or SAM's ViT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EncoderConfig {
    TinyVit {
        embed_dims: Vec<usize>,
        depths: Vec<usize>,
        num_heads: Vec<usize>,
        window_sizes: Vec<usize>,
    },
    Vit {
        embed_dim: usize,
        depth: usize,
        num_heads: usize,
        global_attn_indexes: Vec<usize>,
        window_size: usize,
        patch_size: usize,
    },
}

/// The mask decoder and its two-way transformer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecoderConfig {
    pub depth: usize,
    pub num_heads: usize,
    pub mlp_dim: usize,
    pub num_multimask_outputs: usize,
    pub iou_head_depth: usize,
    pub iou_head_hidden_dim: usize,
}

impl DecoderConfig {
    /// The decoder every published SAM and MobileSAM model uses.
    pub fn published() -> DecoderConfig {
        DecoderConfig {
            depth: 2,
            num_heads: 8,
            mlp_dim: 2048,
            num_multimask_outputs: 3,
            iou_head_depth: 3,
            iou_head_hidden_dim: 256,
        }
    }
}

impl SamConfig {
    /// MobileSAM: TinyViT-5M image encoder with SAM's prompt encoder and decoder.
    pub fn mobile_sam() -> SamConfig {
        SamConfig {
            encoder: EncoderConfig::TinyVit {
                embed_dims: vec![64, 128, 160, 320],
                depths: vec![2, 2, 6, 2],
                num_heads: vec![2, 4, 5, 10],
                window_sizes: vec![7, 7, 14, 7],
            },
            image_size: 1024,
            prompt_embed_dim: 256,
            mask_in_chans: 16,
            decoder: DecoderConfig::published(),
        }
    }

    /// SAM with a ViT image encoder of `embed_dim` 768 (B), 1024 (L) or 1280 (H).
    pub fn vit(embed_dim: usize) -> Option<SamConfig> {
        let (depth, num_heads, global) = match embed_dim {
            768 => (12, 12, vec![2, 5, 8, 11]),
            1024 => (24, 16, vec![5, 11, 17, 23]),
            1280 => (32, 16, vec![7, 15, 23, 31]),
            _ => return None,
        };
        Some(SamConfig {
            encoder: EncoderConfig::Vit {
                embed_dim,
                depth,
                num_heads,
                global_attn_indexes: global,
                window_size: 14,
                patch_size: 16,
            },
            image_size: 1024,
            prompt_embed_dim: 256,
            mask_in_chans: 16,
            decoder: DecoderConfig::published(),
        })
    }

    /// Side of the image embedding grid (64 for the published models).
    pub fn grid(&self) -> usize {
        self.image_size / 16
    }

    /// Side of the decoder's low-resolution masks (four times the grid).
    pub fn low_res(&self) -> usize {
        self.grid() * 4
    }

    /// Reads a `config.json`.
    pub fn from_json(text: &str, origin: &str) -> Result<SamConfig, SegmentError> {
        let c: SamConfig = serde_json::from_str(text)
            .map_err(|e| SegmentError::Unavailable(format!("{origin}: not a SAM config: {e}")))?;
        c.check(origin)?;
        Ok(c)
    }

    /// Which published model a weights file holds, told by its tensor names and shapes.
    pub fn infer(names: &[(String, Vec<usize>)], origin: &str) -> Result<SamConfig, SegmentError> {
        if names
            .iter()
            .any(|(n, _)| n.starts_with("image_encoder.layers."))
        {
            return Ok(SamConfig::mobile_sam());
        }
        let embed = names
            .iter()
            .find(|(n, _)| n == "image_encoder.patch_embed.proj.weight")
            .and_then(|(_, shape)| shape.first().copied());
        match embed.and_then(SamConfig::vit) {
            Some(c) => Ok(c),
            None => Err(SegmentError::Unavailable(format!(
                "{origin} holds neither MobileSAM (image_encoder.layers.*) nor SAM ViT-B/L/H \
                 weights (image_encoder.patch_embed.proj.weight of 768, 1024 or 1280 rows); \
                 put a config.json beside it for other sizes"
            ))),
        }
    }

    /// Sizes the model code relies on.
    pub fn check(&self, origin: &str) -> Result<(), SegmentError> {
        let bad = |why: String| Err(SegmentError::Unavailable(format!("{origin}: {why}")));
        if self.image_size == 0 || !self.image_size.is_multiple_of(64) {
            return bad(format!(
                "image_size {} is not a positive multiple of 64",
                self.image_size
            ));
        }
        let d = &self.decoder;
        if !self.prompt_embed_dim.is_multiple_of(16)
            || d.num_heads == 0
            || !(self.prompt_embed_dim / 2).is_multiple_of(d.num_heads)
        {
            return bad(format!(
                "prompt_embed_dim {} must be a multiple of 16 whose half divides by the \
                 decoder's {} heads",
                self.prompt_embed_dim, d.num_heads
            ));
        }
        if let EncoderConfig::TinyVit {
            embed_dims,
            depths,
            num_heads,
            window_sizes,
        } = &self.encoder
        {
            let n = embed_dims.len();
            if n < 2 || depths.len() != n || num_heads.len() != n || window_sizes.len() != n {
                return bad(
                    "TinyViT needs 2 or more stages, with a depth, head count and \
                            window size each"
                        .into(),
                );
            }
            if embed_dims
                .iter()
                .zip(num_heads)
                .any(|(d, h)| *h == 0 || !d.is_multiple_of(*h))
            {
                return bad("every TinyViT stage's width must divide by its head count".into());
            }
            if self.prompt_embed_dim != 256 {
                return bad(
                    "TinyViT's neck has 256 channels, so prompt_embed_dim must be 256".into(),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_sizes_are_told_apart_by_their_tensors() {
        let tiny = vec![(
            "image_encoder.layers.0.blocks.0.conv1.c.weight".to_string(),
            vec![1],
        )];
        assert_eq!(
            SamConfig::infer(&tiny, "t").unwrap(),
            SamConfig::mobile_sam()
        );
        let b = vec![(
            "image_encoder.patch_embed.proj.weight".to_string(),
            vec![768, 3, 16, 16],
        )];
        assert_eq!(
            SamConfig::infer(&b, "b").unwrap(),
            SamConfig::vit(768).unwrap()
        );
        let other = vec![("x".to_string(), vec![1])];
        let e = SamConfig::infer(&other, "w.safetensors").unwrap_err();
        assert!(e.to_string().contains("w.safetensors"), "{e}");
        assert!(SamConfig::mobile_sam().check("m").is_ok());
        assert!(SamConfig::vit(1280).unwrap().check("h").is_ok());
    }

    #[test]
    fn bad_configs_name_the_value() {
        let mut c = SamConfig::mobile_sam();
        c.image_size = 1000;
        let e = c.check("config.json").unwrap_err().to_string();
        assert!(e.contains("1000") && e.contains("config.json"), "{e}");
        let e = SamConfig::from_json("{\"image_size\": 1}", "c.json").unwrap_err();
        assert!(e.to_string().contains("c.json"), "{e}");
    }
}
