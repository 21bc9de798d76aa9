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
    if keep_pool_requested() {
        keep_pool_memory(&dev)?;
    }
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

/// Whether `ZEDIT_CUDA_KEEP_POOL=1` asks to keep freed device memory for reuse (see
/// [`keep_pool_memory`]).
pub fn keep_pool_requested() -> bool {
    std::env::var("ZEDIT_CUDA_KEEP_POOL").is_ok_and(|v| v == "1")
}

/// The device's context, made current on this thread for a driver call.
#[cfg(feature = "cuda")]
fn bound_context(
    d: &candle_core::CudaDevice,
) -> Result<std::sync::Arc<candle_core::cuda_backend::cudarc::driver::CudaContext>, String> {
    let ctx = d.cuda_stream().context().clone();
    ctx.bind_to_thread().map_err(|e| e.to_string())?;
    Ok(ctx)
}

/// The default memory pool of a CUDA device: candle's tensors are allocated from it
/// (stream-ordered, `cuMemAllocAsync`).
#[cfg(feature = "cuda")]
fn default_pool(
    d: &candle_core::CudaDevice,
) -> Result<candle_core::cuda_backend::cudarc::driver::sys::CUmemoryPool, String> {
    use candle_core::cuda_backend::cudarc::driver::sys;
    let ctx = bound_context(d)?;
    let mut pool = std::ptr::null_mut();
    // SAFETY: a valid device handle and an out-pointer to one pool handle.
    match unsafe { sys::cuDeviceGetDefaultMemPool(&mut pool, ctx.cu_device()) } {
        sys::CUresult::CUDA_SUCCESS => Ok(pool),
        e => Err(format!("cuDeviceGetDefaultMemPool: {e:?}")),
    }
}

/// Sets one u64 attribute of the device's default pool.
#[cfg(feature = "cuda")]
fn set_pool_attribute(
    d: &candle_core::CudaDevice,
    attr: candle_core::cuda_backend::cudarc::driver::sys::CUmemPool_attribute,
    mut value: u64,
) -> Result<(), String> {
    use candle_core::cuda_backend::cudarc::driver::sys;
    let pool = default_pool(d)?;
    // SAFETY: both attributes written here take a cuuint64_t.
    match unsafe { sys::cuMemPoolSetAttribute(pool, attr, (&mut value as *mut u64).cast()) } {
        sys::CUresult::CUDA_SUCCESS => Ok(()),
        e => Err(format!("cuMemPoolSetAttribute({attr:?}): {e:?}")),
    }
}

/// Keeps memory freed by tensors in the device's pool for later allocations instead of handing
/// it back to the driver at every synchronization (the pool's default release threshold is 0,
/// so each edit after the first would map its activations' memory again). Memory stays this
/// process's: the plan's releases (text encoder, decode tiles) still make room for its own
/// later allocations. Returns whether a pool was set (false off CUDA). Off unless
/// `ZEDIT_CUDA_KEEP_POOL=1`, as it has not yet run on a GPU.
pub fn keep_pool_memory(device: &Device) -> Result<bool, EngineError> {
    #[cfg(feature = "cuda")]
    if let Device::Cuda(d) = device {
        use candle_core::cuda_backend::cudarc::driver::sys::CUmemPool_attribute as A;
        set_pool_attribute(d, A::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, u64::MAX)
            .map_err(|e| EngineError::Unavailable(format!("keeping the CUDA memory pool: {e}")))?;
        return Ok(true);
    }
    let _ = device;
    Ok(false)
}

/// Starts a new peak for [`pool_peak`]: the pool's high watermark is reset, and the next
/// allocation brings it back to at least the bytes then in use. Does nothing off CUDA.
pub fn reset_pool_peak(device: &Device) {
    #[cfg(feature = "cuda")]
    if let Device::Cuda(d) = device {
        use candle_core::cuda_backend::cudarc::driver::sys::CUmemPool_attribute as A;
        let _ = set_pool_attribute(d, A::CU_MEMPOOL_ATTR_USED_MEM_HIGH, 0);
    }
    let _ = device;
}

/// The most bytes of the device's pool in use at once since the last [`reset_pool_peak`]
/// (every tensor; not the CUDA context or cuBLAS's workspaces); None off CUDA.
pub fn pool_peak(device: &Device) -> Option<u64> {
    #[cfg(feature = "cuda")]
    if let Device::Cuda(d) = device {
        use candle_core::cuda_backend::cudarc::driver::sys;
        let pool = default_pool(d).ok()?;
        let mut value = 0u64;
        // SAFETY: USED_MEM_HIGH is read into a cuuint64_t.
        let r = unsafe {
            sys::cuMemPoolGetAttribute(
                pool,
                sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_USED_MEM_HIGH,
                (&mut value as *mut u64).cast(),
            )
        };
        return (r == sys::CUresult::CUDA_SUCCESS).then_some(value);
    }
    let _ = device;
    None
}

/// Starts (`true`) or stops CUDA's profiler for what runs in between (`cuProfilerStart/Stop`),
/// so that `ncu --profile-from-start off` sees one chosen stretch; nothing off CUDA.
pub fn profile(device: &Device, on: bool) -> Result<(), EngineError> {
    #[cfg(feature = "cuda")]
    if let Device::Cuda(d) = device {
        use candle_core::cuda_backend::cudarc::driver::sys;
        bound_context(d).map_err(|e| EngineError::Unavailable(format!("CUDA profiler: {e}")))?;
        // SAFETY: no arguments; the context is current on this thread.
        let r = unsafe {
            if on {
                sys::cuProfilerStart()
            } else {
                sys::cuProfilerStop()
            }
        };
        if r != sys::CUresult::CUDA_SUCCESS {
            return Err(EngineError::Unavailable(format!("CUDA profiler: {r:?}")));
        }
    }
    let _ = (device, on);
    Ok(())
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
        assert_eq!(pool_peak(&Device::Cpu), None);
        assert!(!keep_pool_memory(&Device::Cpu).unwrap());
        profile(&Device::Cpu, true).unwrap();
        if !cfg!(feature = "cuda") {
            let e = select(Some("cuda")).unwrap_err();
            assert!(e.to_string().contains("--features cuda"), "{e}");
        }
    }
}
