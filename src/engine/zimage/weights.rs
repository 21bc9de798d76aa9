//! Shape-checked loading of safetensors weights (single file or sharded with an index json).

use super::EngineError;
use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device, Tensor};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The weights of one component (transformer, vae, text_encoder), memory-mapped so that a
/// tensor is read, converted and moved to the device only when a layer asks for it.
pub struct Weights {
    /// None for random weights (benchmarks of full-size configs without the files).
    st: Option<MmapedSafetensors>,
    files: Vec<PathBuf>,
    /// Prefix every stored name carries (`model.` for some text-encoder exports).
    prefix: String,
    names: BTreeSet<String>,
    device: Device,
    dtype: DType,
}

impl std::fmt::Debug for Weights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Weights")
            .field("files", &self.files)
            .field("dtype", &self.dtype)
            .finish()
    }
}

/// The safetensors files of a component folder: the shards named by `*.safetensors.index.json`
/// when there is one, otherwise every `*.safetensors` file.
pub fn weight_files(dir: &Path) -> Result<Vec<PathBuf>, EngineError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        EngineError::Unavailable(format!(
            "cannot read model folder {}: {e}; check the path or fetch the model with `zedit models fetch`",
            dir.display()
        ))
    })?;
    let mut singles = Vec::new();
    let mut index = None;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".safetensors.index.json") {
            index = Some(entry.path());
        } else if name.ends_with(".safetensors") {
            singles.push(entry.path());
        }
    }
    if let Some(index) = index {
        return shard_files(&index);
    }
    if singles.is_empty() {
        return Err(EngineError::Unavailable(format!(
            "no *.safetensors weight file in {}; the download is incomplete: fetch the model again",
            dir.display()
        )));
    }
    singles.sort();
    Ok(singles)
}

fn shard_files(index: &Path) -> Result<Vec<PathBuf>, EngineError> {
    #[derive(serde::Deserialize)]
    struct Index {
        weight_map: HashMap<String, String>,
    }
    let text = std::fs::read_to_string(index)
        .map_err(|e| EngineError::Model(format!("cannot read {}: {e}", index.display())))?;
    let parsed: Index = serde_json::from_str(&text).map_err(|e| {
        EngineError::Model(format!(
            "{} is not a valid safetensors index: {e}",
            index.display()
        ))
    })?;
    let dir = index.parent().unwrap_or(Path::new("."));
    let shards: BTreeSet<&String> = parsed.weight_map.values().collect();
    let mut files = Vec::new();
    for shard in shards {
        let path = dir.join(shard);
        if !path.is_file() {
            return Err(EngineError::Unavailable(format!(
                "weight shard {} named by {} is missing; fetch the model again",
                path.display(),
                index.display()
            )));
        }
        files.push(path);
    }
    Ok(files)
}

impl Weights {
    /// Opens every weight file of the component folder `dir`. Tensors come out as `dtype` on
    /// `device` (fp32 shards become bf16 on a GPU here, one tensor at a time).
    pub fn open(dir: &Path, device: &Device, dtype: DType) -> Result<Self, EngineError> {
        let files = weight_files(dir)?;
        for f in &files {
            check_header(f)?;
        }
        // SAFETY: the files are mapped read-only; zedit never writes model files while an
        // engine is open, and the mapping is dropped with the engine.
        let st = unsafe { MmapedSafetensors::multi(&files) }.map_err(|e| {
            EngineError::Model(format!(
                "cannot read weights in {}: {e}; the file may be truncated: fetch the model again",
                dir.display()
            ))
        })?;
        let names: BTreeSet<String> = st.tensors().into_iter().map(|(n, _)| n).collect();
        Ok(Weights {
            st: Some(st),
            files,
            prefix: String::new(),
            names,
            device: device.clone(),
            dtype,
        })
    }

    /// Weights drawn from N(0, 0.02²) for every tensor asked for: lets benchmarks build the
    /// full-size model without its 30 GB of files. Outputs are meaningless, timings are not.
    pub fn random(device: &Device, dtype: DType) -> Self {
        Weights {
            st: None,
            files: Vec::new(),
            prefix: String::new(),
            names: BTreeSet::new(),
            device: device.clone(),
            dtype,
        }
    }

    /// Makes `get("x")` read `prefix + "x"` when the files store names that way; used for
    /// text encoders saved with or without the `model.` prefix.
    pub fn accept_prefix(&mut self, prefix: &str, probe: &str) {
        if !self.names.contains(probe) && self.names.contains(&format!("{prefix}{probe}")) {
            self.prefix = prefix.to_string();
        }
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    pub fn contains(&self, name: &str) -> bool {
        self.st.is_none() || self.names.contains(&format!("{}{name}", self.prefix))
    }

    /// Loads tensor `name`, checking that it has exactly `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor, EngineError> {
        self.get_as(name, shape, self.dtype)
    }

    /// Like `get`, in an explicit dtype (norm gains and pad tokens stay f32 where parity needs it).
    pub fn get_as(&self, name: &str, shape: &[usize], dtype: DType) -> Result<Tensor, EngineError> {
        let full = format!("{}{name}", self.prefix);
        let Some(st) = &self.st else {
            return Tensor::randn(0f32, 0.02, shape, &self.device)
                .and_then(|t| t.to_dtype(dtype))
                .map_err(|e| EngineError::Internal(format!("random tensor '{full}': {e}")));
        };
        let view = st.get(&full).map_err(|_| {
            EngineError::Model(format!(
                "tensor '{full}' is missing from {}; the weights do not match this model's config",
                self.describe_files()
            ))
        })?;
        if view.shape() != shape {
            return Err(EngineError::Model(format!(
                "tensor '{full}' in {} has shape {:?}, expected {shape:?} from the config; \
                 the weights and config.json do not belong together",
                self.describe_files(),
                view.shape()
            )));
        }
        let t = st
            .load(&full, &Device::Cpu)
            .and_then(|t| t.to_dtype(dtype))
            .and_then(|t| t.to_device(&self.device))
            .map_err(|e| EngineError::Model(format!("cannot load tensor '{full}': {e}")))?;
        Ok(t)
    }

    fn describe_files(&self) -> String {
        match self.files.as_slice() {
            [one] => one.display().to_string(),
            many => format!("{} shards in {}", many.len(), parent_of(&many[0]).display()),
        }
    }
}

fn parent_of(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("."))
}

/// Validates the header and the data length before mapping, so that a truncated download is
/// reported as such with its file name (the safetensors error alone names neither).
fn check_header(path: &Path) -> Result<(), EngineError> {
    use std::io::Read;
    let bad = |why: String| {
        EngineError::Model(format!(
            "{} is not a complete safetensors file ({why}); delete it and fetch the model again",
            path.display()
        ))
    };
    let mut file = std::fs::File::open(path)
        .map_err(|e| EngineError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut n = [0u8; 8];
    file.read_exact(&mut n)
        .map_err(|_| bad(format!("only {len} bytes")))?;
    let header_len = u64::from_le_bytes(n);
    if header_len > 100_000_000 || 8 + header_len > len {
        return Err(bad(format!(
            "header of {header_len} bytes but the file has {len}"
        )));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header)
        .map_err(|e| bad(e.to_string()))?;
    let json: serde_json::Value =
        serde_json::from_slice(&header).map_err(|e| bad(format!("unreadable header: {e}")))?;
    let mut end = 0u64;
    if let Some(map) = json.as_object() {
        for (name, info) in map {
            if name == "__metadata__" {
                continue;
            }
            let stop = info
                .get("data_offsets")
                .and_then(|o| o.get(1))
                .and_then(|v| v.as_u64())
                .ok_or_else(|| bad(format!("tensor '{name}' has no data_offsets")))?;
            end = end.max(stop);
        }
    }
    let have = len - 8 - header_len;
    if end > have {
        return Err(bad(format!(
            "tensor data needs {end} bytes but only {have} are present"
        )));
    }
    Ok(())
}
