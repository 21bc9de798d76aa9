//! The tiny transformer and a folder of adapter fixtures with their reference outputs, for the
//! tests of LoRA and LyCORIS adapters.

use candle_core::{DType, Device, Tensor};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use zedit::engine::zimage::config::{self, TransformerConfig};
use zedit::engine::zimage::lora;
use zedit::engine::zimage::transformer::{Source, Transformer};
use zedit::engine::zimage::weights::Weights;

/// tests/fixtures/`name` (zimage-lora, zimage-lycoris).
pub fn adapter_fixtures(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The transformer of tests/fixtures/zimage-tiny-b in f32 on the CPU, with its config.
pub fn tiny_transformer() -> (Transformer, TransformerConfig) {
    let dir = super::recorded_fixtures().join("tiny-zimage");
    let cfg: TransformerConfig = config::read(&dir, "transformer").unwrap();
    let w = Weights::open(&dir.join("transformer"), &Device::Cpu, DType::F32).unwrap();
    (
        Transformer::load(&Source::Safetensors(&w), &cfg).unwrap(),
        cfg,
    )
}

/// The fixture folder's meta.json.
pub fn meta(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap()
}

/// The fixture folder's reference.safetensors.
pub fn reference(dir: &Path) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(dir.join("reference.safetensors"), &Device::Cpu).unwrap()
}

/// The transformer's output for every call that the folder's meta.json lists.
pub fn outputs(dir: &Path, t: &Transformer, r: &HashMap<String, Tensor>) -> Vec<Tensor> {
    super::gguf::outputs(t, r, meta(dir)["calls"].as_array().unwrap().len())
}

pub fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

/// Every linear layer's dense weight, flattened, to compare before and after adapters.
pub fn dense_weights(t: &mut Transformer) -> Vec<Vec<f32>> {
    t.linears_mut()
        .iter()
        .map(|(_, l)| flat(&l.dense_weight().unwrap()))
        .collect()
}

/// A case's `loras` ([file, weight] pairs in meta.json) read from the folder.
pub fn case_files(dir: &Path, spec: &Value, cfg: &TransformerConfig) -> Vec<(lora::LoraFile, f64)> {
    spec["loras"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let path = dir.join(l[0].as_str().unwrap());
            (lora::read(&path, cfg).unwrap(), l[1].as_f64().unwrap())
        })
        .collect()
}

/// Applies a case's files with their weights.
pub fn apply_case(t: &mut Transformer, files: &[(lora::LoraFile, f64)]) {
    let refs: Vec<(&lora::LoraFile, f64)> = files.iter().map(|(f, w)| (f, *w)).collect();
    lora::apply(t, &refs).unwrap();
}
