//! GGUF files of the Z-Image transformer in the community layout (ComfyUI-GGUF's `lumina2`
//! architecture, as stable-diffusion.cpp reads it too): the original module names, q/k/v fused
//! into `attention.qkv`, any mix of float and quantized tensor types, one file or split
//! shards; read through candle's GGUF reader and checked against the config before use.

use super::config::TransformerConfig;
use super::gguf_files::{bad, component_config, planned_bytes, same_shape, GgufSet, GgufTensors};
use super::transformer::QuantMode;
use super::EngineError;
use candle_core::quantized::{ggml_file::qtensor_from_ggml, QTensor};
use candle_core::Device;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Architectures the community files declare for Z-Image (`lumina2` is ComfyUI-GGUF's name
/// for the NextDiT family Z-Image belongs to).
const ARCHITECTURES: &[&str] = &["lumina2", "z_image", "zimage", "z-image"];
/// Prefixes some exports put before every name.
const PREFIXES: &[&str] = &["model.diffusion_model.", "diffusion_model."];
/// Tensors a Z-Image transformer file must hold (after the prefix).
const PROBES: &[&str] = &["cap_embedder.1.weight", "layers.0.attention.qkv.weight"];

/// The `.gguf` transformer of a model folder: `transformer/*.gguf` (one file, or the first of
/// split shards).
pub fn transformer_file(dir: &Path) -> Option<PathBuf> {
    super::gguf_files::component_file(&dir.join("transformer"))
}

/// An opened GGUF transformer (one file or split shards).
pub struct GgufWeights {
    set: GgufSet,
    prefix: String,
}

impl std::fmt::Debug for GgufWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufWeights")
            .field("path", &self.set.path())
            .finish()
    }
}

impl GgufWeights {
    /// Reads the headers and checks them: a GGUF of a Z-Image transformer, every tensor's type
    /// known and its data inside its file.
    pub fn open(path: &Path) -> Result<Self, EngineError> {
        let set = GgufSet::open(path)?;
        if let Some(arch) = set.architecture() {
            if !ARCHITECTURES.contains(&arch) {
                return Err(bad(
                    path,
                    format!(
                        "a GGUF of architecture '{arch}', not a Z-Image transformer \
                         (expected one of {})",
                        ARCHITECTURES.join(", ")
                    ),
                ));
            }
        }
        let prefix = PREFIXES
            .iter()
            .find(|p| set.names().any(|k| k.starts_with(*p)))
            .map(|p| p.to_string())
            .unwrap_or_default();
        for probe in PROBES {
            if !set.contains(&format!("{prefix}{probe}")) {
                let first: Vec<&str> = set.names().take(3).map(|s| s.as_str()).collect();
                return Err(bad(
                    path,
                    format!(
                        "no tensor '{prefix}{probe}': not a Z-Image transformer in the \
                         community layout (its tensors start {})",
                        first.join(", ")
                    ),
                ));
            }
        }
        Ok(GgufWeights { set, prefix })
    }

    pub fn path(&self) -> &Path {
        self.set.path()
    }

    /// Stored name of the diffusers name `name`, and for q/k/v the row block of `qkv` it is.
    fn stored(&self, name: &str) -> (String, Option<usize>) {
        for (i, p) in ["to_q", "to_k", "to_v"].iter().enumerate() {
            let tail = format!(".attention.{p}.weight");
            if let Some(base) = name.strip_suffix(&tail) {
                return (
                    format!("{}{base}.attention.qkv.weight", self.prefix),
                    Some(i),
                );
            }
        }
        let mut n = name.to_string();
        for (a, b) in [
            ("all_final_layer.2-1.", "final_layer."),
            ("all_x_embedder.2-1.", "x_embedder."),
            (".attention.to_out.0.", ".attention.out."),
            (".attention.norm_q.", ".attention.q_norm."),
            (".attention.norm_k.", ".attention.k_norm."),
        ] {
            n = n.replace(a, b);
        }
        (format!("{}{n}", self.prefix), None)
    }

    /// Bytes the transformer's weights take once loaded: quantized tensors as stored (both
    /// execution choices keep them so), float tensors converted to `dtype_bytes`; and the
    /// largest quantized weight dequantized, which the dequantize choice holds for a moment.
    pub fn resident_bytes(&self, dtype_bytes: u64) -> (u64, u64) {
        self.set.resident_bytes(dtype_bytes, |_| false)
    }

    /// The transformer config the tensors imply, with Z-Image's fixed settings (patch 2, eps
    /// 1e-5, RoPE theta 256, t scale 1000, axes 32/48/48 for heads of 128).
    pub fn infer_config(&self) -> Result<TransformerConfig, EngineError> {
        let dims = |n: &str| -> Result<Vec<usize>, EngineError> {
            let key = format!("{}{n}", self.prefix);
            self.set
                .dims(&key)
                .ok_or_else(|| bad(self.path(), format!("tensor '{key}' is missing")))
        };
        let x = dims("x_embedder.weight")?;
        let cap = dims("cap_embedder.1.weight")?;
        let hd = *dims("layers.0.attention.q_norm.weight")?
            .last()
            .unwrap_or(&0);
        let count = |block: &str| {
            let head = format!("{}{block}.", self.prefix);
            let ids: BTreeSet<&str> = self
                .set
                .names()
                .filter_map(|k| k.strip_prefix(&head)?.split('.').next())
                .collect();
            ids.len()
        };
        let (dim, patch_in) = (
            x.first().copied().unwrap_or(0),
            x.get(1).copied().unwrap_or(0),
        );
        if hd != 128 || dim == 0 || !dim.is_multiple_of(hd) || !patch_in.is_multiple_of(4) {
            return Err(bad(
                self.path(),
                format!(
                    "cannot infer the transformer config (dim {dim}, head width {hd}); put the \
                     model's transformer/config.json beside the file"
                ),
            ));
        }
        Ok(TransformerConfig {
            all_patch_size: vec![2],
            all_f_patch_size: vec![1],
            in_channels: patch_in / 4,
            dim,
            n_layers: count("layers"),
            n_refiner_layers: count("noise_refiner"),
            n_heads: dim / hd,
            norm_eps: 1e-5,
            cap_feat_dim: cap.get(1).copied().unwrap_or(0),
            rope_theta: 256.0,
            t_scale: 1000.0,
            axes_dims: vec![32, 48, 48],
            axes_lens: vec![1536, 512, 512],
        })
    }
}

impl GgufTensors for GgufWeights {
    /// The transformer's files (more than one when split), their types and sizes.
    fn files(&self) -> &GgufSet {
        &self.set
    }

    /// Tensor `name` (diffusers naming) as stored, on the CPU, checked to have `shape`
    /// (`[1, n]` and `[n]` are taken as the same).
    fn qtensor(&self, name: &str, shape: &[usize]) -> Result<QTensor, EngineError> {
        let (stored, part) = self.stored(name);
        let have = self.set.dims(&stored).ok_or_else(|| {
            bad(
                self.path(),
                format!(
                    "tensor '{stored}' is missing; the file does not match this model's config"
                ),
            )
        })?;
        let mut want: Vec<usize> = shape.to_vec();
        if part.is_some() {
            want[0] *= 3;
        }
        if !same_shape(&have, &want) {
            return Err(bad(
                self.path(),
                format!(
                    "tensor '{stored}' has shape {have:?}, expected {want:?} from the config; the \
                     file and the config do not belong together"
                ),
            ));
        }
        let read =
            |e: candle_core::Error| bad(self.path(), format!("cannot read tensor '{stored}': {e}"));
        let q = self.set.read(&stored)?;
        let Some(i) = part else {
            return reshape(q, shape).map_err(read);
        };
        // Rows of a GGUF tensor are whole blocks, so q, k and v are contiguous byte ranges.
        let data = q.data().map_err(read)?;
        let third = data.len() / 3;
        qtensor_from_ggml(
            q.dtype(),
            &data[i * third..(i + 1) * third],
            shape.to_vec(),
            &Device::Cpu,
        )
        .map_err(read)
    }
}

fn reshape(q: QTensor, shape: &[usize]) -> candle_core::Result<QTensor> {
    if q.shape().dims() == shape {
        return Ok(q);
    }
    let data = q.data()?;
    qtensor_from_ggml(q.dtype(), &data, shape.to_vec(), &Device::Cpu)
}

/// The transformer config of a model folder: `transformer/config.json` when there is one,
/// else what its GGUF file implies.
pub fn transformer_config(dir: &Path) -> Result<TransformerConfig, EngineError> {
    component_config(dir, "transformer", |f| GgufWeights::open(f)?.infer_config())
}

/// The GGUF transformer's bytes for the memory plan's `transformer_bytes`: None for safetensors. The
/// moment's dequantized weight only counts for the dequantize choice.
pub fn gguf_bytes(
    dir: &Path,
    dtype_bytes: u64,
    quant: QuantMode,
) -> Result<Option<(u64, u64)>, EngineError> {
    planned_bytes(dir, "transformer", quant, |f| {
        Ok(GgufWeights::open(f)?.resident_bytes(dtype_bytes))
    })
}
