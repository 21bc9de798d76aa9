//! A GGUF model as one set of tensors, whether one file or llama.cpp's split shards
//! (`NAME-00001-of-00003.gguf`, with `split.no`, `split.count` and `split.tensors.count`):
//! headers read and checked (types known, data inside each file), tensors read by name.

use super::transformer::QuantMode;
use super::EngineError;
use candle_core::quantized::gguf_file::{Content, TensorInfo, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Tensor};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

struct Shard {
    path: PathBuf,
    content: Content,
    file_len: u64,
}

/// The files of one GGUF model, opened.
pub struct GgufSet {
    shards: Vec<Shard>,
    /// Tensor name -> the shard holding it.
    index: BTreeMap<String, usize>,
}

pub(crate) fn bad(path: &Path, why: String) -> EngineError {
    EngineError::Model(format!("{}: {why}", path.display()))
}

/// `(stem, number, count)` of a shard name `stem-0000N-of-0000M.gguf`.
pub fn shard_name(path: &Path) -> Option<(String, usize, usize)> {
    let name = path.file_name()?.to_str()?;
    let base = name.strip_suffix(".gguf")?;
    let (head, count) = base.rsplit_once("-of-")?;
    let (stem, no) = head.rsplit_once('-')?;
    let digits = |s: &str| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(no) || !digits(count) {
        return None;
    }
    Some((stem.to_string(), no.parse().ok()?, count.parse().ok()?))
}

/// The GGUF model of a component folder: its one `.gguf` file, or the first shard of a split
/// set (a folder holding several models gives the first by name).
pub fn component_file(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
        })
        // A later shard stands for its set only through the first one.
        .filter(|p| shard_name(p).is_none_or(|(_, no, _)| no == 1))
        .collect();
    found.sort();
    found.into_iter().next()
}

fn read_shard(path: &Path) -> Result<Shard, EngineError> {
    let file = File::open(path)
        .map_err(|e| EngineError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    let file_len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let content = Content::read(&mut BufReader::new(file)).map_err(|e| {
        let detail = super::gguf_scan::explain(path).unwrap_or_else(|| e.to_string());
        bad(
            path,
            format!("not a readable GGUF file ({detail}); if it was downloaded, it may be truncated: fetch it again"),
        )
    })?;
    Ok(Shard {
        path: path.to_path_buf(),
        content,
        file_len,
    })
}

fn meta_usize(content: &Content, key: &str) -> Option<usize> {
    match content.metadata.get(key)? {
        Value::U8(v) => Some(*v as usize),
        Value::U16(v) => Some(*v as usize),
        Value::U32(v) => Some(*v as usize),
        Value::U64(v) => Some(*v as usize),
        Value::I16(v) => usize::try_from(*v).ok(),
        Value::I32(v) => usize::try_from(*v).ok(),
        Value::I64(v) => usize::try_from(*v).ok(),
        _ => None,
    }
}

impl GgufSet {
    /// Opens `path`, and when it is the first of split shards every other shard beside it.
    pub fn open(path: &Path) -> Result<Self, EngineError> {
        let first = read_shard(path)?;
        let count = meta_usize(&first.content, "split.count").unwrap_or(1);
        let mut shards = vec![first];
        if count > 1 {
            let Some((stem, 1, named)) = shard_name(path) else {
                return Err(bad(
                    path,
                    format!(
                        "the file is one of {count} split shards but not the first one named \
                         NAME-00001-of-{count:05}.gguf; point at the first shard"
                    ),
                ));
            };
            if named != count {
                return Err(bad(
                    path,
                    format!("the name says {named} shards but split.count says {count}"),
                ));
            }
            for no in 2..=count {
                let p = path.with_file_name(format!("{stem}-{no:05}-of-{count:05}.gguf"));
                if !p.is_file() {
                    return Err(EngineError::Unavailable(format!(
                        "GGUF shard {} ({no} of {count}) is missing beside {}; fetch it again",
                        p.display(),
                        path.display()
                    )));
                }
                let shard = read_shard(&p)?;
                if meta_usize(&shard.content, "split.no") != Some(no - 1) {
                    return Err(bad(
                        &p,
                        format!(
                            "split.no is {:?}, expected {} for shard {no} of {count}",
                            meta_usize(&shard.content, "split.no"),
                            no - 1
                        ),
                    ));
                }
                shards.push(shard);
            }
        }
        let mut index = BTreeMap::new();
        for (i, s) in shards.iter().enumerate() {
            for name in s.content.tensor_infos.keys() {
                if let Some(j) = index.insert(name.clone(), i) {
                    return Err(bad(
                        &s.path,
                        format!(
                            "tensor '{name}' is also in {}; the shards belong to different models",
                            shards[j].path.display()
                        ),
                    ));
                }
            }
        }
        if let Some(want) = meta_usize(&shards[0].content, "split.tensors.count") {
            if want != index.len() {
                return Err(bad(
                    path,
                    format!(
                        "split.tensors.count is {want} but the {} shards hold {} tensors; \
                         a shard is damaged or from another model",
                        shards.len(),
                        index.len()
                    ),
                ));
            }
        }
        let set = GgufSet { shards, index };
        set.check_extents()?;
        Ok(set)
    }

    /// The first file (the one holding the metadata).
    pub fn path(&self) -> &Path {
        &self.shards[0].path
    }

    pub fn paths(&self) -> Vec<&Path> {
        self.shards.iter().map(|s| s.path.as_path()).collect()
    }

    /// Bytes of all files.
    pub fn file_bytes(&self) -> u64 {
        self.shards.iter().map(|s| s.file_len).sum()
    }

    /// The model's metadata (llama.cpp keeps it in the first shard).
    pub fn metadata(&self) -> &HashMap<String, Value> {
        &self.shards[0].content.metadata
    }

    pub fn meta_usize(&self, key: &str) -> Option<usize> {
        meta_usize(&self.shards[0].content, key)
    }

    pub fn meta_f64(&self, key: &str) -> Option<f64> {
        match self.metadata().get(key)? {
            Value::F32(v) => Some(*v as f64),
            Value::F64(v) => Some(*v),
            _ => self.meta_usize(key).map(|v| v as f64),
        }
    }

    pub fn architecture(&self) -> Option<&str> {
        match self.metadata().get("general.architecture") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.index.keys()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// The header entry of tensor `name`, and the file holding it.
    pub fn info(&self, name: &str) -> Option<(&TensorInfo, &Path)> {
        let s = &self.shards[*self.index.get(name)?];
        Some((s.content.tensor_infos.get(name)?, &s.path))
    }

    /// Every tensor's header entry.
    pub fn infos(&self) -> impl Iterator<Item = (&String, &TensorInfo)> {
        self.shards
            .iter()
            .flat_map(|s| s.content.tensor_infos.iter())
    }

    /// Shape of tensor `name` as stored.
    pub fn dims(&self, name: &str) -> Option<Vec<usize>> {
        self.info(name).map(|(i, _)| i.shape.dims().to_vec())
    }

    /// Tensors per type, e.g. {"F32": 36, "Q8_0": 10}.
    pub fn type_counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for (_, info) in self.infos() {
            *m.entry(format!("{:?}", info.ggml_dtype)).or_insert(0) += 1;
        }
        m
    }

    /// Tensor `name` as stored, on the CPU; errors name the file and the tensor.
    pub fn read(&self, name: &str) -> Result<QTensor, EngineError> {
        let (info, path) = self.info(name).ok_or_else(|| {
            bad(
                self.path(),
                format!("tensor '{name}' is missing; the file does not match this model"),
            )
        })?;
        let shard = &self.shards[self.index[name]];
        let mut reader = BufReader::new(File::open(path).map_err(|e| {
            EngineError::Unavailable(format!("cannot open {}: {e}", path.display()))
        })?);
        info.read(&mut reader, shard.content.tensor_data_offset, &Device::Cpu)
            .map_err(|e| bad(path, format!("cannot read tensor '{name}': {e}")))
    }

    fn check_extents(&self) -> Result<(), EngineError> {
        for s in &self.shards {
            let mut names: Vec<&String> = s.content.tensor_infos.keys().collect();
            names.sort();
            for name in names {
                let info = &s.content.tensor_infos[name];
                let (elems, block) = (info.shape.elem_count(), info.ggml_dtype.block_size());
                if !elems.is_multiple_of(block) {
                    return Err(bad(
                        &s.path,
                        format!(
                            "tensor '{name}' has {elems} values, not a multiple of its {:?} block of {block}",
                            info.ggml_dtype
                        ),
                    ));
                }
                let end =
                    s.content.tensor_data_offset + info.offset + bytes_of(info.ggml_dtype, elems);
                if end > s.file_len {
                    return Err(bad(
                        &s.path,
                        format!(
                            "tensor '{name}' ends at byte {end} but the file has {} bytes: the \
                             file is truncated; fetch it again",
                            s.file_len
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Bytes the weights take once loaded: quantized tensors as stored, float tensors in
    /// `dtype_bytes` per value; and the largest quantized tensor dequantized (what the
    /// dequantize choice holds for a moment). `skip` leaves tensors out by name.
    pub fn resident_bytes(&self, dtype_bytes: u64, skip: impl Fn(&str) -> bool) -> (u64, u64) {
        let mut total = 0u64;
        let mut widest = 0u64;
        for (name, info) in self.infos() {
            if skip(name) {
                continue;
            }
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
}

/// A model's GGUF reader: its files, and its tensors under the names the model code asks for.
pub trait GgufTensors {
    fn files(&self) -> &GgufSet;

    /// Tensor `name` as stored, on the CPU, checked to have `shape` (`[1, n]` and `[n]` are
    /// taken as the same).
    fn qtensor(&self, name: &str, shape: &[usize]) -> Result<QTensor, EngineError>;

    /// Tensor `name` dequantized to `dtype` on `device`, checked to have `shape`.
    fn dense(
        &self,
        name: &str,
        shape: &[usize],
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor, EngineError> {
        self.qtensor(name, shape)?
            .dequantize(&Device::Cpu)
            .and_then(|t| t.reshape(shape))
            .and_then(|t| t.to_dtype(dtype))
            .and_then(|t| t.to_device(device))
            .map_err(|e| {
                bad(
                    self.files().path(),
                    format!("cannot convert tensor '{name}': {e}"),
                )
            })
    }
}

/// Whether a stored shape is the one asked for (`[1, n]` and `[n]` are taken as the same).
pub fn same_shape(have: &[usize], want: &[usize]) -> bool {
    let squeeze = |d: &[usize]| d.iter().copied().filter(|&x| x != 1).collect::<Vec<_>>();
    have == want || squeeze(have) == squeeze(want)
}

/// The config of a model folder's `component`: `<component>/config.json` when there is one,
/// else what `from_gguf` reads from its GGUF file.
pub fn component_config<C: DeserializeOwned>(
    dir: &Path,
    component: &str,
    from_gguf: impl FnOnce(&Path) -> Result<C, EngineError>,
) -> Result<C, EngineError> {
    let comp = dir.join(component);
    if comp.join("config.json").is_file() {
        return super::config::read(dir, component);
    }
    match component_file(&comp) {
        Some(f) => from_gguf(&f),
        None => super::config::read(dir, component),
    }
}

/// A GGUF `component`'s bytes for the memory plan, None for safetensors: `resident` gives
/// (resident, widest dequantized) of its file; the moment's dequantized weight counts for the
/// dequantize choice only.
pub fn planned_bytes(
    dir: &Path,
    component: &str,
    quant: QuantMode,
    resident: impl FnOnce(&Path) -> Result<(u64, u64), EngineError>,
) -> Result<Option<(u64, u64)>, EngineError> {
    let Some(path) = component_file(&dir.join(component)) else {
        return Ok(None);
    };
    let (resident, widest) = resident(&path)?;
    let transient = if quant == QuantMode::Dequantize {
        widest
    } else {
        0
    };
    Ok(Some((resident, transient)))
}

pub fn bytes_of(t: GgmlDType, elems: usize) -> u64 {
    (elems / t.block_size() * t.type_size()) as u64
}
