//! Qwen3 text encoders in GGUF, in llama.cpp's `qwen3` layout (`token_embd`, `blk.N.attn_q`,
//! …, metadata `qwen3.*`; q/k rows as transformers stores them, since qwen3 runs NEOX RoPE and
//! llama.cpp's converter permutes only its `llama` family): the config from the metadata, the
//! weights under the transformers names the encoder asks for, any mix of float and quantized
//! types, one file or split shards.

use super::config::TextEncoderConfig;
use super::gguf_files::{bad, component_config, planned_bytes, same_shape, GgufSet, GgufTensors};
use super::transformer::{Linear, QuantMode};
use super::EngineError;
use candle_core::quantized::ggml_file::qtensor_from_ggml;
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Result as CResult, Tensor};
use std::path::{Path, PathBuf};

const ARCHITECTURE: &str = "qwen3";
/// Tensors a Qwen3 file must hold (`attn_q_norm` tells Qwen3 from Qwen2).
const PROBES: &[&str] = &[
    "token_embd.weight",
    "blk.0.attn_q.weight",
    "blk.0.attn_q_norm.weight",
];
/// transformers' per-layer names and llama.cpp's (gguf-py's tensor mapping for qwen3).
const LAYER_NAMES: &[(&str, &str)] = &[
    ("input_layernorm", "attn_norm"),
    ("post_attention_layernorm", "ffn_norm"),
    ("self_attn.q_proj", "attn_q"),
    ("self_attn.k_proj", "attn_k"),
    ("self_attn.v_proj", "attn_v"),
    ("self_attn.o_proj", "attn_output"),
    ("self_attn.q_norm", "attn_q_norm"),
    ("self_attn.k_norm", "attn_k_norm"),
    ("mlp.gate_proj", "ffn_gate"),
    ("mlp.up_proj", "ffn_up"),
    ("mlp.down_proj", "ffn_down"),
];

/// The `.gguf` text encoder of a model folder: `text_encoder/*.gguf` (one file, or the first
/// of split shards).
pub fn text_encoder_file(dir: &Path) -> Option<PathBuf> {
    super::gguf_files::component_file(&dir.join("text_encoder"))
}

/// The text encoder config of a model folder: `text_encoder/config.json` when there is one
/// (a GGUF file's tensors are then checked against it), else what its GGUF file says.
pub fn text_encoder_config(dir: &Path) -> Result<TextEncoderConfig, EngineError> {
    component_config(dir, "text_encoder", |f| GgufTextEncoder::open(f)?.config())
}

/// The llama.cpp name of the transformers name `name` (`layers.3.mlp.up_proj.weight` ->
/// `blk.3.ffn_up.weight`); names without a counterpart come back unchanged.
pub fn stored_name(name: &str) -> String {
    match name {
        "embed_tokens.weight" => return "token_embd.weight".into(),
        "norm.weight" => return "output_norm.weight".into(),
        _ => {}
    }
    if let Some(rest) = name.strip_prefix("layers.") {
        if let Some((n, tail)) = rest.split_once('.') {
            let part = tail.strip_suffix(".weight").unwrap_or(tail);
            if let Some((_, g)) = LAYER_NAMES.iter().find(|(t, _)| *t == part) {
                return format!("blk.{n}.{g}.weight");
            }
        }
    }
    name.to_string()
}

/// An opened GGUF text encoder.
pub struct GgufTextEncoder {
    set: GgufSet,
}

impl GgufTextEncoder {
    /// Reads the headers and checks them: a Qwen3 model in llama.cpp's layout, every tensor's
    /// type known and its data inside its file.
    pub fn open(path: &Path) -> Result<Self, EngineError> {
        let set = GgufSet::open(path)?;
        match set.architecture() {
            Some(ARCHITECTURE) | None => {}
            Some(arch) => {
                return Err(bad(
                    path,
                    format!(
                        "a GGUF of architecture '{arch}', not a Qwen3 text encoder (expected \
                         '{ARCHITECTURE}'); Z-Image needs Qwen3-4B"
                    ),
                ))
            }
        }
        for probe in PROBES {
            if !set.contains(probe) {
                let first: Vec<&str> = set.names().take(3).map(|s| s.as_str()).collect();
                return Err(bad(
                    path,
                    format!(
                        "no tensor '{probe}': not a Qwen3 text encoder in llama.cpp's layout \
                         (its tensors start {})",
                        first.join(", ")
                    ),
                ));
            }
        }
        Ok(GgufTextEncoder { set })
    }

    pub fn path(&self) -> &Path {
        self.set.path()
    }

    /// The config the metadata gives (`qwen3.embedding_length`, `qwen3.block_count`, …), the
    /// vocabulary from `token_embd`'s rows.
    pub fn config(&self) -> Result<TextEncoderConfig, EngineError> {
        let need = |key: &str| {
            self.set
                .meta_usize(&format!("{ARCHITECTURE}.{key}"))
                .ok_or_else(|| {
                    bad(
                        self.path(),
                        format!(
                            "metadata '{ARCHITECTURE}.{key}' is missing; put the model's \
                         text_encoder/config.json beside the file"
                        ),
                    )
                })
        };
        let hidden = need("embedding_length")?;
        let heads = need("attention.head_count")?;
        let vocab = self
            .set
            .dims("token_embd.weight")
            .and_then(|d| d.first().copied())
            .unwrap_or(0);
        let eps_key = format!("{ARCHITECTURE}.attention.layer_norm_rms_epsilon");
        let cfg = TextEncoderConfig {
            vocab_size: vocab,
            hidden_size: hidden,
            intermediate_size: need("feed_forward_length")?,
            num_hidden_layers: need("block_count")?,
            num_attention_heads: heads,
            num_key_value_heads: self
                .set
                .meta_usize(&format!("{ARCHITECTURE}.attention.head_count_kv"))
                .unwrap_or(heads),
            head_dim: self
                .set
                .meta_usize(&format!("{ARCHITECTURE}.attention.key_length")),
            rms_norm_eps: self
                .set
                .meta_f64(&eps_key)
                .ok_or_else(|| bad(self.path(), format!("metadata '{eps_key}' is missing")))?,
            rope_theta: self.set.meta_f64(&format!("{ARCHITECTURE}.rope.freq_base")),
            rope_parameters: None,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// The linear layer `name` ([output, input] weight, no bias), run as `mode` says.
    pub fn linear(
        &self,
        name: &str,
        input: usize,
        output: usize,
        mode: QuantMode,
        device: &Device,
        dtype: DType,
    ) -> Result<Linear, EngineError> {
        let wname = format!("{name}.weight");
        let fail = |e: candle_core::Error| {
            bad(
                self.path(),
                format!("cannot set up '{}': {e}", stored_name(&wname)),
            )
        };
        let q = self.qtensor(&wname, &[output, input])?;
        let q = if device.is_cpu() {
            q
        } else {
            let data = q.data().map_err(fail)?;
            qtensor_from_ggml(q.dtype(), &data, vec![output, input], device).map_err(fail)?
        };
        Linear::quantized(q, None, dtype, mode).map_err(fail)
    }

    /// The token embedding, kept as stored in host memory.
    pub fn embedding(&self, vocab: usize, hidden: usize) -> Result<Embedding, EngineError> {
        let q = self.qtensor("embed_tokens.weight", &[vocab, hidden])?;
        let data = q
            .data()
            .map_err(|e| bad(self.path(), format!("cannot read 'token_embd.weight': {e}")))?;
        Ok(Embedding::Rows {
            dtype: q.dtype(),
            row_bytes: data.len() / vocab.max(1),
            bytes: data.into_owned(),
            hidden,
        })
    }

    /// Bytes the encoder's weights take on the device once loaded (the layers `layers` uses;
    /// the token embedding stays in host memory), and the widest quantized weight dequantized.
    pub fn resident_bytes(&self, dtype_bytes: u64, layers: usize) -> (u64, u64) {
        self.set.resident_bytes(dtype_bytes, |name| {
            let used_layer = name
                .strip_prefix("blk.")
                .and_then(|r| r.split('.').next())
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n < layers);
            !used_layer
        })
    }
}

impl GgufTensors for GgufTextEncoder {
    /// The encoder's files (more than one when split), their types and sizes.
    fn files(&self) -> &GgufSet {
        &self.set
    }

    /// Tensor `name` (transformers naming) as stored, checked to have `shape` (`[1, n]` and
    /// `[n]` are taken as the same).
    fn qtensor(&self, name: &str, shape: &[usize]) -> Result<QTensor, EngineError> {
        let stored = stored_name(name);
        let have = self.set.dims(&stored).ok_or_else(|| {
            bad(
                self.path(),
                format!(
                    "tensor '{stored}' ({name}) is missing; the file does not match the text \
                     encoder's config"
                ),
            )
        })?;
        if !same_shape(&have, shape) {
            return Err(bad(
                self.set.info(&stored).map_or(self.path(), |(_, p)| p),
                format!(
                    "tensor '{stored}' has shape {have:?}, expected {shape:?} from the text \
                     encoder's config; the file and the config do not belong together"
                ),
            ));
        }
        self.set.read(&stored)
    }
}

/// The GGUF text encoder's bytes for the memory plan's `text_encoder_bytes`: None for
/// safetensors; the moment's dequantized weight counts for the dequantize choice only.
pub fn text_encoder_gguf_bytes(
    dir: &Path,
    cfg: &TextEncoderConfig,
    dtype_bytes: u64,
    quant: QuantMode,
) -> Result<Option<(u64, u64)>, EngineError> {
    let layers = cfg.num_hidden_layers.saturating_sub(1);
    planned_bytes(dir, "text_encoder", quant, |f| {
        Ok(GgufTextEncoder::open(f)?.resident_bytes(dtype_bytes, layers))
    })
}

/// A token embedding: dense on the device (safetensors), or GGUF rows kept as stored and
/// dequantized only for the tokens looked up.
pub enum Embedding {
    Dense(Tensor),
    Rows {
        dtype: GgmlDType,
        bytes: Vec<u8>,
        row_bytes: usize,
        hidden: usize,
    },
}

impl Embedding {
    /// Rows `ids` as [L, hidden] in `dtype` on `device`.
    pub fn lookup(&self, ids: &[u32], device: &Device, dtype: DType) -> CResult<Tensor> {
        match self {
            Embedding::Dense(t) => t.index_select(&Tensor::new(ids, device)?, 0),
            Embedding::Rows {
                dtype: q,
                bytes,
                row_bytes,
                hidden,
            } => {
                let mut picked = Vec::with_capacity(ids.len() * row_bytes);
                for &i in ids {
                    let at = i as usize * row_bytes;
                    let row = bytes.get(at..at + row_bytes).ok_or_else(|| {
                        candle_core::Error::Msg(format!("token id {i} is outside the embedding"))
                    })?;
                    picked.extend_from_slice(row);
                }
                qtensor_from_ggml(*q, &picked, vec![ids.len(), *hidden], &Device::Cpu)?
                    .dequantize(&Device::Cpu)?
                    .to_dtype(dtype)?
                    .to_device(device)
            }
        }
    }
}
