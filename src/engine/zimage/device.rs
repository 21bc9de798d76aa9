//! Device selection: CPU in f32 by default, CUDA or Metal (bf16) when built in and present.

use super::EngineError;
use candle_core::{DType, Device};

/// Parses `cpu`, `cuda`, `cuda:N` or `metal` (None = cpu) into a device and the dtype its
/// weights use.
pub fn select(spec: Option<&str>) -> Result<(Device, DType), EngineError> {
    let spec = spec.unwrap_or("cpu").trim().to_ascii_lowercase();
    match spec.as_str() {
        "" | "cpu" => Ok((Device::Cpu, DType::F32)),
        "metal" => metal(),
        s if s == "cuda" || s.starts_with("cuda:") => {
            let n = match s.strip_prefix("cuda:") {
                Some(n) => n.parse::<usize>().map_err(|_| {
                    EngineError::BadInput(format!("device '{s}': expected cuda:N with N a number"))
                })?,
                None => 0,
            };
            cuda(n)
        }
        other => Err(EngineError::BadInput(format!(
            "unknown device '{other}': expected cpu, cuda, cuda:N or metal"
        ))),
    }
}

fn cuda(n: usize) -> Result<(Device, DType), EngineError> {
    if !cfg!(feature = "cuda") {
        return Err(EngineError::Unavailable(
            "device 'cuda' is not built in: rebuild zedit with `--features cuda`".into(),
        ));
    }
    let dev = Device::new_cuda(n).map_err(|e| {
        EngineError::Unavailable(format!("CUDA device {n} is not usable here: {e}"))
    })?;
    Ok((dev, DType::BF16))
}

fn metal() -> Result<(Device, DType), EngineError> {
    if !cfg!(feature = "metal") {
        return Err(EngineError::Unavailable(
            "device 'metal' is not built in: rebuild zedit with `--features metal`".into(),
        ));
    }
    let dev = Device::new_metal(0)
        .map_err(|e| EngineError::Unavailable(format!("no Metal device here: {e}")))?;
    Ok((dev, DType::BF16))
}

/// Whether `ZEDIT_CUDA_TF32=1` asks for TF32 f32 matrix products on CUDA (see [`set_tf32`]).
pub fn tf32_requested() -> bool {
    std::env::var("ZEDIT_CUDA_TF32").is_ok_and(|v| v == "1")
}

/// Lets CUDA's f32 matrix products run on TF32 tensor cores (process-wide). On a CUDA pipeline
/// (bf16 weights) the only f32 products are the DiT attention's: q·kᵀ of bf16 values, which
/// TF32 holds exactly, still summed in f32; and P·v with P rounded to TF32 (10 mantissa bits), finer
/// than the reference's bf16 P (7). Off unless asked for, as it has not yet run on a GPU.
pub fn set_tf32(on: bool) {
    #[cfg(feature = "cuda")]
    candle_core::cuda_backend::set_gemm_reduced_precision_f32(on);
    let _ = on;
}

/// Free and total bytes of a CUDA device's memory; None on other devices.
pub fn memory_info(device: &Device) -> Option<(u64, u64)> {
    #[cfg(feature = "cuda")]
    if let Device::Cuda(d) = device {
        let (free, total) = d.cuda_stream().context().mem_get_info().ok()?;
        return Some((free as u64, total as u64));
    }
    let _ = device;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_by_default_and_clear_errors_otherwise() {
        assert!(matches!(select(None), Ok((Device::Cpu, DType::F32))));
        assert!(matches!(select(Some("tpu")), Err(EngineError::BadInput(_))));
        assert!(matches!(
            select(Some("cuda:x")),
            Err(EngineError::BadInput(_))
        ));
        assert_eq!(memory_info(&Device::Cpu), None);
        if !cfg!(feature = "cuda") {
            let e = select(Some("cuda")).unwrap_err();
            assert!(e.to_string().contains("--features cuda"), "{e}");
        }
    }
}
