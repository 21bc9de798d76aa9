//! Reference fixture sets: their root (an environment variable, else a folder under
//! tests/fixtures), their manifest, and their tensors as f32 values.

use candle_core::{DType, Tensor};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `$var` when set, else `tests/fixtures/<default>`.
pub fn root(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(default)
    })
}

/// The set's `manifest.json`.
pub fn manifest(root: &Path) -> Value {
    let path = root.join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Every value of `t`, as f32.
pub fn f32s(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}
