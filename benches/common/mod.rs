//! Helpers shared by the GGUF benches: random quantized tensors written as a GGUF file, the
//! execution choices measured, and the small criterion groups that fit a 2-core machine.

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};
use std::path::Path;
use std::time::Duration;
use zedit::engine::zimage::transformer::QuantMode;

/// The F32 file runs dense whichever choice is named (float GGUF tensors are plain tensors).
pub const CHOICES: [(GgmlDType, QuantMode); 5] = [
    (GgmlDType::F32, QuantMode::MatMul),
    (GgmlDType::Q8_0, QuantMode::MatMul),
    (GgmlDType::Q8_0, QuantMode::Dequantize),
    (GgmlDType::Q4K, QuantMode::MatMul),
    (GgmlDType::Q4K, QuantMode::Dequantize),
];

/// Writes `tensors` (name, shape) to `path` as a GGUF with `meta`, random weights (norms around
/// 1): 2-D tensors whose rows fit `ty`'s block get it, the rest stay F32.
pub fn write_random_gguf(
    path: &Path,
    meta: &[(&str, gguf_file::Value)],
    tensors: Vec<(String, Vec<usize>)>,
    ty: GgmlDType,
) {
    let mut q = Vec::new();
    for (name, shape) in tensors {
        let t = (Tensor::randn(0f32, 0.02, shape.as_slice(), &Device::Cpu)
            .unwrap_or_else(|e| panic!("{e}"))
            + if name.contains("norm") { 1.0 } else { 0.0 })
        .unwrap_or_else(|e| panic!("{e}"));
        let fits = shape.len() == 2 && shape[1] % ty.block_size() == 0;
        let t = QTensor::quantize(&t, if fits { ty } else { GgmlDType::F32 })
            .unwrap_or_else(|e| panic!("{e}"));
        q.push((name, t));
    }
    let meta: Vec<(&str, &gguf_file::Value)> = meta.iter().map(|(k, v)| (*k, v)).collect();
    let refs: Vec<(&str, &QTensor)> = q.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let mut f = std::fs::File::create(path).unwrap_or_else(|e| panic!("{e}"));
    gguf_file::write(&mut f, &meta, &refs).unwrap_or_else(|e| panic!("{e}"));
}

/// A benchmark group short enough for the 2-core machine: 10 samples, 1 s warm-up, 3 s.
pub fn short_group(c: &mut Criterion, name: String) -> BenchmarkGroup<'_, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g
}
