//! The diffusers `config.json` files of the three networks, and the derived widths the code needs.

use super::EngineError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::path::Path;

/// The scheduler's config lives with the schedule it drives.
pub use super::scheduler::SchedulerConfig;

/// Reads `dir/<component>/config.json`.
pub fn read<T: DeserializeOwned>(dir: &Path, component: &str) -> Result<T, EngineError> {
    let path = dir.join(component).join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        EngineError::Unavailable(format!(
            "cannot read {}: {e}; the model folder must be a diffusers Z-Image folder",
            path.display()
        ))
    })?;
    serde_json::from_str(&text)
        .map_err(|e| EngineError::Model(format!("{} is not a valid config: {e}", path.display())))
}

/// `ZImageTransformer2DModel` settings.
#[derive(Debug, Clone, Deserialize)]
pub struct TransformerConfig {
    pub all_patch_size: Vec<usize>,
    pub all_f_patch_size: Vec<usize>,
    pub in_channels: usize,
    pub dim: usize,
    pub n_layers: usize,
    pub n_refiner_layers: usize,
    pub n_heads: usize,
    pub norm_eps: f64,
    pub cap_feat_dim: usize,
    pub rope_theta: f64,
    pub t_scale: f64,
    pub axes_dims: Vec<usize>,
    pub axes_lens: Vec<usize>,
}

impl TransformerConfig {
    /// The real Z-Image-Turbo transformer, for benchmarks with random weights.
    pub fn turbo() -> Self {
        TransformerConfig {
            all_patch_size: vec![2],
            all_f_patch_size: vec![1],
            in_channels: 16,
            dim: 3840,
            n_layers: 30,
            n_refiner_layers: 2,
            n_heads: 30,
            norm_eps: 1e-5,
            cap_feat_dim: 2560,
            rope_theta: 256.0,
            t_scale: 1000.0,
            axes_dims: vec![32, 48, 48],
            axes_lens: vec![1536, 512, 512],
        }
    }

    pub fn head_dim(&self) -> usize {
        self.dim / self.n_heads
    }

    /// Width of the t-embedding and of the adaLN input: capped at 256 in the reference.
    pub fn adaln_dim(&self) -> usize {
        self.dim.min(256)
    }

    /// SwiGLU hidden width: int(dim / 3 * 8), as the reference computes it.
    pub fn ffn_dim(&self) -> usize {
        (self.dim as f64 / 3.0 * 8.0) as usize
    }

    pub fn patch(&self) -> usize {
        self.all_patch_size.first().copied().unwrap_or(2)
    }

    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |m: String| Err(EngineError::Model(format!("transformer/config.json: {m}")));
        if self.n_heads == 0 || !self.dim.is_multiple_of(self.n_heads) {
            return bad(format!(
                "dim {} is not a multiple of n_heads {}",
                self.dim, self.n_heads
            ));
        }
        if self.axes_dims.len() != 3 || self.axes_dims.iter().sum::<usize>() != self.head_dim() {
            return bad(format!(
                "axes_dims {:?} must be three values summing to head_dim {}",
                self.axes_dims,
                self.head_dim()
            ));
        }
        if self.axes_dims.iter().any(|d| !d.is_multiple_of(2)) || self.axes_lens.len() != 3 {
            return bad(format!(
                "axes_dims {:?} must be even, axes_lens 3 values",
                self.axes_dims
            ));
        }
        if self.patch() != 2 || self.all_f_patch_size.first().copied().unwrap_or(1) != 1 {
            return bad(format!(
                "patch sizes {:?}/{:?} are not supported (only 2 / 1)",
                self.all_patch_size, self.all_f_patch_size
            ));
        }
        Ok(())
    }
}

/// `AutoencoderKL` settings.
#[derive(Debug, Clone, Deserialize)]
pub struct VaeConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    pub block_out_channels: Vec<usize>,
    pub layers_per_block: usize,
    pub latent_channels: usize,
    pub norm_num_groups: usize,
    pub scaling_factor: f64,
    #[serde(default)]
    pub shift_factor: Option<f64>,
    #[serde(default)]
    pub use_quant_conv: bool,
    #[serde(default)]
    pub use_post_quant_conv: bool,
    #[serde(default = "yes")]
    pub mid_block_add_attention: bool,
}

fn yes() -> bool {
    true
}

impl VaeConfig {
    /// The real Z-Image VAE (Flux's), for benchmarks with random weights.
    pub fn z_image() -> Self {
        VaeConfig {
            in_channels: 3,
            out_channels: 3,
            block_out_channels: vec![128, 256, 512, 512],
            layers_per_block: 2,
            latent_channels: 16,
            norm_num_groups: 32,
            scaling_factor: 0.3611,
            shift_factor: Some(0.1159),
            use_quant_conv: false,
            use_post_quant_conv: false,
            mid_block_add_attention: true,
        }
    }

    /// Pixels per latent cell: 2^(blocks - 1).
    pub fn spatial_factor(&self) -> usize {
        1 << self.block_out_channels.len().saturating_sub(1)
    }

    pub fn shift(&self) -> f64 {
        self.shift_factor.unwrap_or(0.0)
    }

    pub fn validate(&self) -> Result<(), EngineError> {
        if self.block_out_channels.is_empty()
            || self
                .block_out_channels
                .iter()
                .any(|c| *c == 0 || !c.is_multiple_of(self.norm_num_groups))
        {
            return Err(EngineError::Model(format!(
                "vae/config.json: block_out_channels {:?} must be multiples of norm_num_groups {}",
                self.block_out_channels, self.norm_num_groups
            )));
        }
        Ok(())
    }
}

/// `Qwen3Model` settings.
#[derive(Debug, Clone, Deserialize)]
pub struct TextEncoderConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    #[serde(default)]
    pub head_dim: Option<usize>,
    pub rms_norm_eps: f64,
    #[serde(default)]
    pub rope_theta: Option<f64>,
    #[serde(default)]
    pub rope_parameters: Option<RopeParameters>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RopeParameters {
    pub rope_theta: f64,
}

impl TextEncoderConfig {
    /// Qwen3-4B as Z-Image uses it, for benchmarks with random weights.
    pub fn qwen3_4b() -> Self {
        TextEncoderConfig {
            vocab_size: 151_936,
            hidden_size: 2560,
            intermediate_size: 9728,
            num_hidden_layers: 36,
            num_attention_heads: 32,
            num_key_value_heads: 8,
            head_dim: Some(128),
            rms_norm_eps: 1e-6,
            rope_theta: Some(1_000_000.0),
            rope_parameters: None,
        }
    }

    pub fn head_dim(&self) -> usize {
        self.head_dim
            .unwrap_or(self.hidden_size / self.num_attention_heads.max(1))
    }

    /// transformers 5 stores theta under `rope_parameters`, 4.x at the top level.
    pub fn theta(&self) -> f64 {
        self.rope_parameters
            .as_ref()
            .map(|r| r.rope_theta)
            .or(self.rope_theta)
            .unwrap_or(1_000_000.0)
    }

    pub fn validate(&self) -> Result<(), EngineError> {
        if self.num_hidden_layers < 2
            || self.num_key_value_heads == 0
            || !self
                .num_attention_heads
                .is_multiple_of(self.num_key_value_heads)
        {
            return Err(EngineError::Model(format!(
                "text_encoder/config.json: need >= 2 layers and heads {} divisible by kv heads {}",
                self.num_attention_heads, self.num_key_value_heads
            )));
        }
        Ok(())
    }
}
