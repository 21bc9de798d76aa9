//! The memory plan of a zimage run on a GPU, computed from the configs before anything loads:
//! which components stay on the device, which are released after use, how the VAE decodes, and
//! the peak that follows, so that a card too small is refused with what would fit instead of
//! running out of memory halfway.

use super::config::{self, TextEncoderConfig, TransformerConfig, VaeConfig};
use super::transformer::QuantMode;
use super::transformer::MAX_BATCH;
use super::EngineError;
use candle_core::{DType, Device};
use std::path::Path;

/// Bytes the CUDA context, cuBLAS workspaces and allocator slack take besides our tensors.
pub const CONTEXT_BYTES: u64 = 768 << 20;
/// Latent tile side of the tiled decode (see `vae::tiled`), in pixels.
pub const TILE_PIXELS: usize = 512;
const GIB: f64 = (1u64 << 30) as f64;

/// Parameter counts of the three networks, from their configs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub transformer: u64,
    /// The layers zedit loads: all but the last, whose output hidden_states[-2] does not need.
    pub text_encoder: u64,
    pub vae: u64,
}

fn linear(i: usize, o: usize, bias: bool) -> u64 {
    (i * o + if bias { o } else { 0 }) as u64
}

/// `ZImageTransformer2DModel` parameters.
pub fn transformer_params(c: &TransformerConfig) -> u64 {
    let (d, ada, ffn, hd) = (c.dim, c.adaln_dim(), c.ffn_dim(), c.head_dim());
    let patch = c.patch() * c.patch() * c.in_channels;
    let block = |modulated: bool| {
        4 * linear(d, d, false)
            + (2 * hd + 4 * d) as u64
            + 3 * linear(d, ffn, false)
            + if modulated {
                linear(ada, 4 * d, true)
            } else {
                0
            }
    };
    let r = c.n_refiner_layers as u64;
    linear(256, 1024, true)
        + linear(1024, ada, true)
        + c.cap_feat_dim as u64
        + linear(c.cap_feat_dim, d, true)
        + 2 * d as u64
        + linear(patch, d, true)
        + r * (block(true) + block(false))
        + c.n_layers as u64 * block(true)
        + linear(ada, d, true)
        + linear(d, patch, true)
}

/// Qwen3 parameters with `layers` decoder layers (no final norm).
pub fn text_encoder_params(c: &TextEncoderConfig, layers: usize) -> u64 {
    let (h, hd) = (c.hidden_size, c.head_dim());
    let (q, kv) = (c.num_attention_heads * hd, c.num_key_value_heads * hd);
    let layer = linear(h, q, false)
        + 2 * linear(h, kv, false)
        + linear(q, h, false)
        + (2 * hd + 2 * h) as u64
        + 3 * linear(h, c.intermediate_size, false);
    (c.vocab_size * h) as u64 + layers as u64 * layer
}

/// `AutoencoderKL` parameters (decoder, plus the encoder when `with_encoder`).
pub fn vae_params(c: &VaeConfig, with_encoder: bool) -> u64 {
    let conv = |i: usize, o: usize| (i * o * 9 + o) as u64;
    let resnet = |i: usize, o: usize| {
        (2 * i + 2 * o) as u64
            + conv(i, o)
            + conv(o, o)
            + if i != o { linear(i, o, true) } else { 0 }
    };
    let ch = &c.block_out_channels;
    let last = ch[ch.len() - 1];
    let mid = 2 * resnet(last, last)
        + if c.mid_block_add_attention {
            2 * last as u64 + 4 * linear(last, last, true)
        } else {
            0
        };
    let lat = c.latent_channels;
    let mut dec = conv(lat, last) + mid + 2 * ch[0] as u64 + conv(ch[0], c.out_channels);
    let rev: Vec<usize> = ch.iter().rev().copied().collect();
    for (i, &o) in rev.iter().enumerate() {
        let mut input = if i == 0 { rev[0] } else { rev[i - 1] };
        for _ in 0..=c.layers_per_block {
            dec += resnet(input, o);
            input = o;
        }
        if i + 1 < rev.len() {
            dec += conv(o, o);
        }
    }
    if c.use_post_quant_conv {
        dec += linear(lat, lat, true);
    }
    if !with_encoder {
        return dec;
    }
    let mut enc = conv(c.in_channels, ch[0]) + mid + 2 * last as u64 + conv(last, 2 * lat);
    for (i, &o) in ch.iter().enumerate() {
        let mut input = if i == 0 { ch[0] } else { ch[i - 1] };
        for _ in 0..c.layers_per_block {
            enc += resnet(input, o);
            input = o;
        }
        if i + 1 < ch.len() {
            enc += conv(o, o);
        }
    }
    if c.use_quant_conv {
        enc += linear(2 * lat, 2 * lat, true);
    }
    dec + enc
}

pub use super::placement::{Placement, Plan};

pub fn gib(bytes: u64) -> f64 {
    bytes as f64 / GIB
}

/// The inputs of a plan: the three configs, the weights' bytes per value, the attention score
/// budget of the DiT, and the image size the model runs at.
pub struct Inputs<'a> {
    pub transformer: &'a TransformerConfig,
    pub text_encoder: &'a TextEncoderConfig,
    pub vae: &'a VaeConfig,
    pub dtype_bytes: u64,
    pub score_bytes: u64,
    pub caption_tokens: usize,
    /// For a GGUF transformer: its resident bytes, and the bytes of its widest weight
    /// dequantized for a moment during a call (see `GgufWeights::resident_bytes`).
    pub transformer_bytes: Option<(u64, u64)>,
    /// The same for a GGUF text encoder (the layers it runs; the embedding stays in host memory).
    pub text_encoder_bytes: Option<(u64, u64)>,
}

impl Inputs<'_> {
    pub fn params(&self) -> Params {
        Params {
            transformer: transformer_params(self.transformer),
            text_encoder: text_encoder_params(
                self.text_encoder,
                self.text_encoder.num_hidden_layers - 1,
            ),
            vae: vae_params(self.vae, true),
        }
    }

    /// DiT activations of one stacked call of `batch` items at `w`×`h` pixels: the residual
    /// stream, q/k/v in the model dtype and in f32 for the attention, one chunk of f32 scores
    /// and its softmax (the items' attention runs one after the other), or the FFN.
    fn denoise_workspace(&self, w: u32, h: u32, batch: usize) -> u64 {
        let c = self.transformer;
        let pad = |n: u64| n.div_ceil(32) * 32;
        let s = pad((w as u64 / 16) * (h as u64 / 16)) + pad(self.caption_tokens as u64);
        let per_token = |s: u64| s * batch as u64;
        let (d, f, b) = (c.dim as u64, c.ffn_dim() as u64, self.dtype_bytes);
        let per_head = s * s * 4;
        let chunk = (self.score_bytes / per_head).clamp(1, c.n_heads as u64) * per_head;
        let rows = per_token(s);
        let attn = 4 * rows * d * b + 4 * rows * d * 4 + 2 * chunk;
        let ffn = 3 * rows * f * b + rows * d * b;
        2 * rows * d * b + attn.max(ffn)
    }

    /// VAE decode activations at `w`×`h` output pixels: the im2col buffer of the widest
    /// full-resolution 3×3 convolution plus its input and output. With cuDNN (`--features
    /// cudnn`) its workspace takes the im2col buffer's place: the same size for the GEMM
    /// algorithm, far less for the implicit-GEMM ones (`ZEDIT_CUDNN_ALGO`); what cuDNN's
    /// heuristic picks is only known when it runs, so the GPU check measures that peak.
    fn decode_workspace(&self, w: u32, h: u32) -> u64 {
        let ch = &self.vae.block_out_channels;
        let widest = ch.get(1).copied().unwrap_or(ch[0]) as u64;
        let px = w as u64 * h as u64;
        self.dtype_bytes * px * (widest * 9 + 2 * widest + ch[0] as u64)
    }

    fn text_workspace(&self) -> u64 {
        let c = self.text_encoder;
        let s = 512u64;
        self.dtype_bytes * s * (4 * c.hidden_size as u64 + 2 * c.intermediate_size as u64)
            + 4 * (c.num_attention_heads as u64) * s * s
    }

    /// The plan of one placement for images of `w`×`h`, with CFG's pair in one call.
    pub fn plan(&self, placement: Placement, w: u32, h: u32) -> Plan {
        self.plan_with(placement, MAX_BATCH, w, h)
    }

    /// The plan of one placement whose DiT calls stack up to `batch` items.
    pub fn plan_with(&self, placement: Placement, batch: usize, w: u32, h: u32) -> Plan {
        let p = self.params();
        let b = self.dtype_bytes;
        let (dit, transient) = self.transformer_bytes.unwrap_or((p.transformer * b, 0));
        let text = self
            .text_encoder_bytes
            .map_or(p.text_encoder * b, |(r, t)| r + t);
        let vae = p.vae * b;
        let resident = CONTEXT_BYTES
            + dit
            + vae
            + if placement == Placement::AllResident {
                text
            } else {
                0
            };
        let decode_ws = if placement.tiled_decode() {
            let t = TILE_PIXELS as u32;
            self.decode_workspace(w.min(t), h.min(t))
        } else {
            self.decode_workspace(w, h)
        };
        let encode_peak = if placement.text_encoder_on_cpu() {
            resident
        } else {
            CONTEXT_BYTES + dit + vae + text + self.text_workspace()
        };
        Plan {
            placement,
            encode_peak,
            batch,
            denoise_peak: resident + transient + self.denoise_workspace(w, h, batch),
            decode_peak: resident + decode_ws,
        }
    }

    /// The first plan, fastest first, whose peak fits in `available` bytes (each placement
    /// with CFG's pair stacked, then one item per call, which only costs launches); otherwise
    /// an error naming the smallest peak and the largest square size that would fit.
    pub fn choose(&self, w: u32, h: u32, available: u64) -> Result<Plan, EngineError> {
        let order = [
            Placement::AllResident,
            Placement::ReleaseTextEncoder,
            Placement::ReleaseTextEncoderTiledDecode,
            Placement::CpuTextEncoderTiledDecode,
        ];
        if let Some(plan) = order
            .iter()
            .flat_map(|&pl| [(pl, MAX_BATCH), (pl, 1)])
            .map(|(pl, batch)| self.plan_with(pl, batch, w, h))
            .find(|p| p.peak() <= available)
        {
            return Ok(plan);
        }
        let tight = self.plan_with(Placement::CpuTextEncoderTiledDecode, 1, w, h);
        let fits = (1..=256u32)
            .rev()
            .map(|k| k * 16)
            .find(|&s| self.plan_with(tight.placement, 1, s, s).peak() <= available);
        let hint = match fits {
            Some(s) => format!("images up to {s}x{s} would fit"),
            None => "no image size fits: the weights alone are larger".into(),
        };
        Err(EngineError::Unavailable(format!(
            "a {w}x{h} zimage edit needs at least {:.1} GiB of GPU memory ({}), but {:.1} GiB \
             are free; {hint}; or use a card with more memory, or --device cpu",
            gib(tight.peak()),
            tight.describe(),
            gib(available)
        )))
    }
}

/// Edge of the square image a device's plan is made for: `ZEDIT_ZIMAGE_PLAN_SIZE`, default 1024.
pub fn plan_size() -> u32 {
    std::env::var("ZEDIT_ZIMAGE_PLAN_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&v: &u32| v >= 16)
        .unwrap_or(1024)
}

/// The plan for the model folder `dir` on `device`, before anything loads: None where the
/// device reports no memory figures (the CPU), an error naming what would fit where the card
/// is too small. The plan and its expected peak are written to stderr (the worker's log).
pub fn for_device(
    dir: &Path,
    device: &Device,
    dtype: DType,
    quant: QuantMode,
) -> Result<Option<Plan>, EngineError> {
    let Some((free, total)) = super::device::memory_info(device) else {
        return Ok(None);
    };
    let (t, te, v) = read_configs(dir)?;
    let inputs = Inputs {
        transformer: &t,
        text_encoder: &te,
        vae: &v,
        dtype_bytes: dtype.size_in_bytes() as u64,
        score_bytes: super::transformer::SCORE_BYTES as u64,
        caption_tokens: 128,
        transformer_bytes: gguf_bytes(dir, dtype.size_in_bytes() as u64, quant)?,
        text_encoder_bytes: text_encoder_gguf_bytes(dir, &te, dtype.size_in_bytes() as u64, quant)?,
    };
    let size = plan_size();
    let plan = inputs.choose(size, size, free)?;
    eprintln!(
        "zimage memory plan for {size}x{size} ({:.1} of {:.1} GiB free): {}",
        gib(free),
        gib(total),
        plan.describe()
    );
    Ok(Some(plan))
}

/// The three configs of a model folder (the transformer's may come from its GGUF file).
pub fn read_configs(
    dir: &Path,
) -> Result<(TransformerConfig, TextEncoderConfig, VaeConfig), EngineError> {
    Ok((
        super::gguf::transformer_config(dir)?,
        super::text_encoder_gguf::text_encoder_config(dir)?,
        config::read(dir, "vae")?,
    ))
}

pub use super::gguf::gguf_bytes;
pub use super::text_encoder_gguf::text_encoder_gguf_bytes;

#[cfg(test)]
#[path = "memory_tests.rs"]
mod tests;
