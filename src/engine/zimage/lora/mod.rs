//! LoRA adapters for the Z-Image transformer: read from safetensors in any of the usual key
//! formats (and LyCORIS LoHa / LoKr), checked against the model, and applied as side paths
//! next to the base weights (which never change), so switching LoRAs needs no reload.

pub mod keys;
mod lycoris;

use super::config::TransformerConfig;
use super::transformer::{SidePath, Transformer};
use super::EngineError;
use candle_core::{DType, Device, Tensor};
use keys::{Key, Names, Role, Target};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One layer's update in a file, before the weight the user asks for.
#[derive(Clone)]
pub enum Pair {
    /// down [rank, in], up [out, rank]: LoRA, and LoHa in its exact low-rank form; `scale` is
    /// alpha / rank (1 when the file has no alpha).
    LowRank {
        down: Tensor,
        up: Tensor,
        scale: f64,
    },
    /// LoKr: ΔW = scale · kron(w1, w2).
    Kron { w1: Tensor, w2: Tensor, scale: f64 },
}

/// The keys of one layer as they are found.
#[derive(Default)]
struct Halves {
    key: Option<String>,
    down: Option<Tensor>,
    up: Option<Tensor>,
    alpha: Option<f64>,
    lycoris: BTreeMap<&'static str, Tensor>,
}

/// A LoRA file read and checked against a model config.
#[derive(Clone)]
pub struct LoraFile {
    pub path: PathBuf,
    pub digest: String,
    pub pairs: BTreeMap<Target, Pair>,
    /// Keys applied, of all keys in the file.
    pub used_keys: usize,
    pub total_keys: usize,
    /// The first key that names no layer of this model, when some do not.
    pub first_unused: Option<String>,
}

impl LoraFile {
    /// "used 30 of 33 keys; 'x' and 2 others name no layer of this model", for partial files.
    pub fn coverage(&self) -> Option<String> {
        let unused = self.total_keys - self.used_keys;
        let first = self.first_unused.as_ref()?;
        Some(format!(
            "{}: used {} of {} keys; '{first}'{} name no layer of this model",
            self.path.display(),
            self.used_keys,
            self.total_keys,
            if unused > 1 {
                format!(" and {} others", unused - 1)
            } else {
                String::new()
            }
        ))
    }
}

/// The blake3 digest of a whole file, as recipes record it.
pub fn digest(path: &Path) -> Result<String, EngineError> {
    let bytes = std::fs::read(path).map_err(|e| {
        EngineError::BadInput(format!("cannot read LoRA file {}: {e}", path.display()))
    })?;
    Ok(blake3::hash(&bytes).to_hex().to_string())
}

fn refuse(path: &Path, why: String) -> EngineError {
    EngineError::BadInput(format!("LoRA {}: {why}", path.display()))
}

/// Reads the LoRA at `path` for a transformer of config `cfg`. Refused: a file that is not
/// safetensors, text-encoder, DoRA or Tucker-factor keys, a pair without its other half,
/// shapes of another model, or no key naming a layer of this model.
pub fn read(path: &Path, cfg: &TransformerConfig) -> Result<LoraFile, EngineError> {
    let digest = digest(path)?;
    let tensors = candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| {
        refuse(
            path,
            format!(
                "not a readable safetensors file ({e}); LoRAs are loaded from .safetensors only"
            ),
        )
    })?;
    let names = Names::new(cfg);
    let mut keys: Vec<&String> = tensors.keys().collect();
    keys.sort();
    let mut parts: BTreeMap<Target, Halves> = BTreeMap::new();
    let mut first_unused = None;
    let mut used = 0;
    for key in &keys {
        let t = &tensors[*key];
        match names.classify(key) {
            Key::TextEncoder => {
                return Err(refuse(
                    path,
                    format!(
                        "key '{key}' is for the text encoder; zedit applies LoRAs to the \
                         transformer only: use a LoRA without text-encoder keys"
                    ),
                ))
            }
            Key::Unsupported(what) => {
                return Err(refuse(
                    path,
                    format!("key '{key}' is {what}, which zedit does not apply; use a plain LoRA"),
                ))
            }
            Key::Unknown => {
                first_unused.get_or_insert_with(|| key.to_string());
            }
            Key::Lora(target, role) => {
                used += 1;
                let e = parts.entry(target).or_default();
                let f32 = |t: &Tensor| t.to_dtype(DType::F32);
                e.key.get_or_insert_with(|| key.to_string());
                match role {
                    Role::Down => e.down = Some(f32(t).map_err(|e| refuse(path, e.to_string()))?),
                    Role::Up => e.up = Some(f32(t).map_err(|e| refuse(path, e.to_string()))?),
                    Role::Lycoris(part) => {
                        let t = f32(t).map_err(|e| refuse(path, e.to_string()))?;
                        e.lycoris.insert(part, t);
                    }
                    Role::Alpha => {
                        let a = f32(t)
                            .and_then(|t| t.flatten_all())
                            .and_then(|t| t.to_vec1::<f32>())
                            .map_err(|e| refuse(path, format!("alpha '{key}': {e}")))?;
                        e.alpha = a.first().map(|v| *v as f64);
                    }
                }
            }
        }
    }
    if used == 0 {
        return Err(refuse(
            path,
            format!(
                "no key names a layer of this Z-Image transformer (first key '{}'); is it a \
                 LoRA for another model?",
                first_unused.unwrap_or_default()
            ),
        ));
    }
    let mut pairs = BTreeMap::new();
    for (target, h) in parts {
        let what = match &target {
            Target::Linear(n) => n.clone(),
            Target::FusedQkv(b) => format!("{b}.attention.qkv"),
        };
        let key = h.key.unwrap_or_default();
        if !h.lycoris.is_empty() {
            let Target::Linear(_) = &target else {
                return Err(refuse(
                    path,
                    format!("key '{key}': LyCORIS factors on a fused qkv ('{what}') are not applied; use one made for to_q, to_k and to_v"),
                ));
            };
            let shape = names.shape(&target).unwrap_or_default();
            if h.down.is_some() || h.up.is_some() {
                return Err(refuse(
                    path,
                    format!("key '{key}' (layer '{what}') mixes LoRA and LyCORIS factors"),
                ));
            }
            let pair = lycoris::pair(&h.lycoris, h.alpha, shape)
                .map_err(|why| refuse(path, format!("key '{key}' (layer '{what}') {why}")))?;
            pairs.insert(target, pair);
            continue;
        }
        let (Some(down), Some(up)) = (h.down, h.up) else {
            return Err(refuse(
                path,
                format!("key '{key}' (layer '{what}') has only one half of its down/up pair"),
            ));
        };
        let alpha = h.alpha;
        let (o, i) = names
            .shape(&target)
            .ok_or_else(|| refuse(path, format!("layer '{what}' has no known shape")))?;
        let (dr, di) = down.dims2().map_err(|e| refuse(path, e.to_string()))?;
        let (uo, ur) = up.dims2().map_err(|e| refuse(path, e.to_string()))?;
        if di != i || uo != o || dr != ur {
            return Err(refuse(
                path,
                format!(
                    "key '{key}' (layer '{what}') has down [{dr}, {di}] and up [{uo}, {ur}], but \
                     this model's layer is [{o}, {i}]: the LoRA is for another model"
                ),
            ));
        }
        let scale = alpha.map(|a| a / dr as f64).unwrap_or(1.0);
        pairs.insert(target, Pair::LowRank { down, up, scale });
    }
    Ok(LoraFile {
        path: path.to_path_buf(),
        digest,
        pairs,
        used_keys: used,
        total_keys: keys.len(),
        first_unused,
    })
}

/// Makes `loras` (file, weight) the transformer's side paths, replacing any applied before;
/// an empty list restores the base model exactly.
pub fn apply(t: &mut Transformer, loras: &[(&LoraFile, f64)]) -> Result<(), EngineError> {
    let (device, dtype) = (t.device().clone(), t.weight_dtype());
    let mut sides: BTreeMap<String, Vec<SidePath>> = BTreeMap::new();
    let place = |x: &Tensor| x.to_dtype(dtype).and_then(|x| x.to_device(&device));
    let err = |e: candle_core::Error| EngineError::Internal(format!("placing a LoRA: {e}"));
    for (file, weight) in loras {
        for (target, pair) in &file.pairs {
            let (down, up, scale) = match (pair, target) {
                (Pair::Kron { w1, w2, scale }, Target::Linear(n)) => {
                    sides.entry(n.clone()).or_default().push(SidePath::Kron {
                        w1: place(w1).map_err(err)?,
                        w2: place(w2).map_err(err)?,
                        scale: scale * weight,
                    });
                    continue;
                }
                (Pair::Kron { .. }, Target::FusedQkv(b)) => {
                    return Err(EngineError::Internal(format!(
                        "a LoKr on the fused qkv of '{b}' reached apply"
                    )))
                }
                (Pair::LowRank { down, up, scale }, _) => (down, up, scale * weight),
            };
            let down = place(down).map_err(err)?;
            match target {
                Target::Linear(n) => sides.entry(n.clone()).or_default().push(SidePath::LowRank {
                    down,
                    up: place(up).map_err(err)?,
                    scale,
                }),
                Target::FusedQkv(b) => {
                    let rows = up.dim(0).map_err(err)? / 3;
                    for (k, p) in ["to_q", "to_k", "to_v"].iter().enumerate() {
                        let up = place(&up.narrow(0, k * rows, rows).map_err(err)?).map_err(err)?;
                        sides.entry(format!("{b}.attention.{p}")).or_default().push(
                            SidePath::LowRank {
                                down: down.clone(),
                                up,
                                scale,
                            },
                        );
                    }
                }
            }
        }
    }
    let known: Vec<String> = t.linears_mut().into_iter().map(|(n, _)| n).collect();
    if let Some(name) = sides.keys().find(|n| !known.contains(n)) {
        return Err(EngineError::Internal(format!(
            "LoRA layer '{name}' has no linear in the loaded transformer"
        )));
    }
    for (name, lin) in t.linears_mut() {
        lin.set_side(sides.remove(&name).unwrap_or_default());
    }
    Ok(())
}
