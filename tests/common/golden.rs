//! What the golden tests share: fixture cases read from their files, the largest difference of
//! two tensors (or of an image and its PNG), and each recorded transformer call replayed through
//! zedit's transformer.

use candle_core::{DType, Device, Tensor};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use zedit::engine::zimage::Pipeline;

/// The largest difference, in 8-bit steps, between `got` and the PNG at `png` (same size).
pub fn png_max_lsb(got: &image::RgbImage, png: &Path) -> u8 {
    let want = image::open(png)
        .unwrap_or_else(|e| panic!("{}: {e}", png.display()))
        .to_rgb8();
    assert_eq!(got.dimensions(), want.dimensions(), "{}", png.display());
    got.as_raw()
        .iter()
        .zip(want.as_raw())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap_or(0)
}

/// max |a − b| over all elements, in f32.
pub fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    let a = a.to_dtype(DType::F32).unwrap().flatten_all().unwrap();
    let b = b.to_dtype(DType::F32).unwrap().flatten_all().unwrap();
    assert_eq!(a.dims(), b.dims(), "element counts differ");
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

/// One recorded case: its metadata and tensors; file names in the metadata are relative to
/// `root`.
pub struct Case {
    pub root: PathBuf,
    pub name: String,
    pub meta: Value,
    pub t: HashMap<String, Tensor>,
}

impl Case {
    pub fn get(&self, k: &str) -> &Tensor {
        self.t
            .get(k)
            .unwrap_or_else(|| panic!("{}: tensor {k} missing", self.name))
    }
    pub fn str(&self, k: &str) -> Option<String> {
        self.meta.get(k).and_then(Value::as_str).map(str::to_string)
    }
    /// A number (or a flag, as 0 or 1) of the metadata.
    pub fn num(&self, k: &str) -> Option<f64> {
        match self.meta.get(k) {
            Some(Value::Bool(b)) => Some(if *b { 1.0 } else { 0.0 }),
            Some(v) => v.as_f64(),
            None => None,
        }
    }
    /// A number the case must have.
    pub fn need(&self, k: &str) -> f64 {
        self.num(k)
            .unwrap_or_else(|| panic!("{}: meta {k} missing", self.name))
    }
    /// A file the metadata names, or `default`.
    pub fn file(&self, key: &str, default: &str) -> PathBuf {
        self.root
            .join(self.str(key).unwrap_or_else(|| default.into()))
    }
    /// How many transformer calls were recorded.
    pub fn calls(&self) -> usize {
        (0..)
            .take_while(|i| self.t.contains_key(&format!("transformer.{i}.t")))
            .count()
    }
}

/// Every case `<dir>/manifest.json` lists, read from `<dir>/<case>/{meta.json,
/// tensors.safetensors}`, sorted by name.
pub fn cases(dir: &Path, root: &Path) -> Vec<Case> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let mut names: Vec<String> = manifest["cases"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let d = dir.join(&name);
            let meta = serde_json::from_str(&std::fs::read_to_string(d.join("meta.json")).unwrap())
                .unwrap();
            let t = candle_core::safetensors::load(d.join("tensors.safetensors"), &Device::Cpu)
                .unwrap();
            Case {
                root: root.to_path_buf(),
                name,
                meta,
                t,
            }
        })
        .collect()
}

/// Replays recorded call `i` of `c` (each batch item alone) and hands `check` a label, zedit's
/// output and the reference's.
pub fn replay_call(
    p: &Pipeline,
    c: &Case,
    i: usize,
    mut check: impl FnMut(&str, &Tensor, &Tensor),
) {
    let ts = c
        .get(&format!("transformer.{i}.t"))
        .to_vec1::<f32>()
        .unwrap();
    let mut items = Vec::new();
    for (b, t) in ts.iter().enumerate() {
        let x = c.get(&format!("transformer.{i}.x.{b}")).squeeze(1).unwrap();
        let cap = p
            .transformer()
            .caption(c.get(&format!("transformer.{i}.cap_feats.{b}")))
            .unwrap();
        let out = p.transformer().forward(&x, *t, &cap).unwrap();
        let want = c
            .get(&format!("transformer.{i}.out.{b}"))
            .squeeze(1)
            .unwrap();
        check(&format!("{} transformer.{i}.out.{b}", c.name), &out, &want);
        items.push((x, cap, want));
    }
    // The reference ran these as one batch (cond and uncond): so does zedit's stacked call.
    if items.len() > 1 && ts.iter().all(|t| *t == ts[0]) {
        let batch: Vec<_> = items.iter().map(|(x, cap, _)| (x, cap)).collect();
        let outs = p.transformer().forward_batch(&batch, ts[0]).unwrap();
        assert_eq!(outs.len(), items.len());
        for (b, (out, (_, _, want))) in outs.iter().zip(&items).enumerate() {
            let what = format!("{} transformer.{i}.out.{b} in a batch", c.name);
            check(&what, out, want);
        }
    }
}
