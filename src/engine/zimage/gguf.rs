//! GGUF files of the Z-Image transformer in the community layout (ComfyUI-GGUF's `lumina2`
//! architecture, as stable-diffusion.cpp reads it too): the original module names, q/k/v fused
//! into `attention.qkv`, any mix of float and quantized tensor types; read through candle's
//! GGUF reader and checked against the config before anything is used.

use super::config::TransformerConfig;
use super::EngineError;
use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType, QTensor};
use candle_core::{DType, Device, Tensor};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// Architectures the community files declare for Z-Image (`lumina2` is ComfyUI-GGUF's name
/// for the NextDiT family Z-Image belongs to).
const ARCHITECTURES: &[&str] = &["lumina2", "z_image", "zimage", "z-image"];
/// Prefixes some exports put before every name.
const PREFIXES: &[&str] = &["model.diffusion_model.", "diffusion_model."];
/// Tensors a Z-Image transformer file must hold (after the prefix).
const PROBES: &[&str] = &["cap_embedder.1.weight", "layers.0.attention.qkv.weight"];

/// The `.gguf` transformer of a model folder: `transformer/*.gguf` (one file).
pub fn transformer_file(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir.join("transformer"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// An opened GGUF transformer file.
pub struct GgufWeights {
    path: PathBuf,
    content: Content,
    prefix: String,
    file_len: u64,
}

impl std::fmt::Debug for GgufWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufWeights")
            .field("path", &self.path)
            .finish()
    }
}

fn bad(path: &Path, why: String) -> EngineError {
    EngineError::Model(format!("{}: {why}", path.display()))
}

impl GgufWeights {
    /// Reads the header and checks it: a GGUF of a Z-Image transformer, every tensor's type
    /// known and its data inside the file.
    pub fn open(path: &Path) -> Result<Self, EngineError> {
        let file = File::open(path).map_err(|e| {
            EngineError::Unavailable(format!("cannot open {}: {e}", path.display()))
        })?;
        let file_len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let content = Content::read(&mut BufReader::new(file)).map_err(|e| {
            let detail = super::gguf_scan::explain(path).unwrap_or_else(|| e.to_string());
            bad(
                path,
                format!("not a readable GGUF file ({detail}); if it was downloaded, it may be truncated: fetch it again"),
            )
        })?;
        if let Some(Value::String(arch)) = content.metadata.get("general.architecture") {
            if !ARCHITECTURES.contains(&arch.as_str()) {
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
            .find(|p| content.tensor_infos.keys().any(|k| k.starts_with(*p)))
            .map(|p| p.to_string())
            .unwrap_or_default();
        for probe in PROBES {
            if !content
                .tensor_infos
                .contains_key(&format!("{prefix}{probe}"))
            {
                let mut names: Vec<&String> = content.tensor_infos.keys().collect();
                names.sort();
                let first: Vec<&str> = names.iter().take(3).map(|s| s.as_str()).collect();
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
        let w = GgufWeights {
            path: path.to_path_buf(),
            content,
            prefix,
            file_len,
        };
        w.check_extents()?;
        Ok(w)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_extents(&self) -> Result<(), EngineError> {
        let mut names: Vec<&String> = self.content.tensor_infos.keys().collect();
        names.sort();
        for name in names {
            let info = &self.content.tensor_infos[name];
            let (elems, block) = (info.shape.elem_count(), info.ggml_dtype.block_size());
            if !elems.is_multiple_of(block) {
                return Err(bad(
                    &self.path,
                    format!(
                        "tensor '{name}' has {elems} values, not a multiple of its {:?} block of {block}",
                        info.ggml_dtype
                    ),
                ));
            }
            let end =
                self.content.tensor_data_offset + info.offset + bytes_of(info.ggml_dtype, elems);
            if end > self.file_len {
                return Err(bad(
                    &self.path,
                    format!(
                        "tensor '{name}' ends at byte {end} but the file has {} bytes: the file \
                         is truncated; fetch it again",
                        self.file_len
                    ),
                ));
            }
        }
        Ok(())
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

    /// Tensor `name` (diffusers naming) as stored, on the CPU, checked to have `shape`
    /// (`[1, n]` and `[n]` are taken as the same).
    pub fn qtensor(&self, name: &str, shape: &[usize]) -> Result<QTensor, EngineError> {
        let (stored, part) = self.stored(name);
        let info = self.content.tensor_infos.get(&stored).ok_or_else(|| {
            bad(
                &self.path,
                format!(
                    "tensor '{stored}' is missing; the file does not match this model's config"
                ),
            )
        })?;
        let mut want: Vec<usize> = shape.to_vec();
        if part.is_some() {
            want[0] *= 3;
        }
        let have = info.shape.dims();
        let squeeze = |d: &[usize]| d.iter().copied().filter(|&x| x != 1).collect::<Vec<_>>();
        if have != want.as_slice() && squeeze(have) != squeeze(&want) {
            return Err(bad(
                &self.path,
                format!(
                    "tensor '{stored}' has shape {have:?}, expected {want:?} from the config; the \
                     file and the config do not belong together"
                ),
            ));
        }
        let read =
            |e: candle_core::Error| bad(&self.path, format!("cannot read tensor '{stored}': {e}"));
        let mut reader = BufReader::new(File::open(&self.path).map_err(|e| {
            EngineError::Unavailable(format!("cannot open {}: {e}", self.path.display()))
        })?);
        let q = info
            .read(&mut reader, self.content.tensor_data_offset, &Device::Cpu)
            .map_err(read)?;
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

    /// Tensor `name` dequantized to `dtype` on `device`, checked to have `shape`.
    pub fn dense(
        &self,
        name: &str,
        shape: &[usize],
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor, EngineError> {
        let q = self.qtensor(name, shape)?;
        q.dequantize(&Device::Cpu)
            .and_then(|t| t.reshape(shape))
            .and_then(|t| t.to_dtype(dtype))
            .and_then(|t| t.to_device(device))
            .map_err(|e| bad(&self.path, format!("cannot convert tensor '{name}': {e}")))
    }

    /// How many tensors have each type, e.g. {"F32": 36, "Q8_0": 10}.
    pub fn type_counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for info in self.content.tensor_infos.values() {
            *m.entry(format!("{:?}", info.ggml_dtype)).or_insert(0) += 1;
        }
        m
    }

    /// Bytes the transformer's weights take once loaded: quantized tensors as stored (both
    /// execution choices keep them so), float tensors converted to `dtype_bytes`; and the
    /// largest quantized weight dequantized, which the dequantize choice holds for a moment.
    pub fn resident_bytes(&self, dtype_bytes: u64) -> (u64, u64) {
        let mut total = 0u64;
        let mut widest = 0u64;
        for info in self.content.tensor_infos.values() {
            let elems = info.shape.elem_count() as u64;
            match info.ggml_dtype {
                GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16 => total += elems * dtype_bytes,
                t => {
                    total += bytes_of(t, elems as usize);
                    widest = widest.max(elems * dtype_bytes);
                }
            }
        }
        (total, widest)
    }

    /// The transformer config the tensors imply, with Z-Image's fixed settings (patch 2, eps
    /// 1e-5, RoPE theta 256, t scale 1000, axes 32/48/48 for heads of 128).
    pub fn infer_config(&self) -> Result<TransformerConfig, EngineError> {
        let dims = |n: &str| -> Result<Vec<usize>, EngineError> {
            let key = format!("{}{n}", self.prefix);
            self.content
                .tensor_infos
                .get(&key)
                .map(|i| i.shape.dims().to_vec())
                .ok_or_else(|| bad(&self.path, format!("tensor '{key}' is missing")))
        };
        let x = dims("x_embedder.weight")?;
        let cap = dims("cap_embedder.1.weight")?;
        let hd = *dims("layers.0.attention.q_norm.weight")?
            .last()
            .unwrap_or(&0);
        let count = |block: &str| {
            let head = format!("{}{block}.", self.prefix);
            let ids: BTreeSet<&str> = self
                .content
                .tensor_infos
                .keys()
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
                &self.path,
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

fn bytes_of(t: GgmlDType, elems: usize) -> u64 {
    (elems / t.block_size() * t.type_size()) as u64
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
    if dir.join("transformer/config.json").is_file() {
        return super::config::read(dir, "transformer");
    }
    match transformer_file(dir) {
        Some(f) => GgufWeights::open(&f)?.infer_config(),
        None => super::config::read(dir, "transformer"),
    }
}
