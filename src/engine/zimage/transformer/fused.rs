//! The DiT attention through zedit's fused CUDA kernels (fused.cu): per-head RMSNorm + RoPE
//! written straight in the attention's layout, then flash attention over the stacked
//! sequences, with no transposes and no S×S scores in memory. Off unless `ZEDIT_CUDA_FUSED=1`
//! (or `check`, which also compares each with the unfused path), because these kernels have not
//! yet run on a GPU; fused_tests.rs holds a CPU model of their math, checked against the
//! unfused path.

use candle_core::{DType, Result as CResult, Tensor};
use std::sync::{Mutex, OnceLock};

/// The head width the kernels are written for (Z-Image's 3840 / 30).
pub const HEAD_DIM: usize = 128;
/// Every stacked sequence must be a multiple of this long (the DiT pads to 32).
pub const SEGMENT_MULTIPLE: usize = 32;
/// The most sequences one attention call stacks.
pub const MAX_SEGMENTS: usize = 4;
/// Keys per tile in the attention kernel (its online softmax rescales once per tile).
pub const KEY_TILE: usize = 64;

/// `ZEDIT_CUDA_FUSED`, read once: 1 runs the fused kernels, `check` also runs the unfused path
/// beside them and reports how far apart they are (see [`report`]).
fn setting() -> &'static str {
    static SETTING: OnceLock<String> = OnceLock::new();
    SETTING.get_or_init(|| std::env::var("ZEDIT_CUDA_FUSED").unwrap_or_default())
}

/// Whether the fused kernels are asked for (`ZEDIT_CUDA_FUSED=1` or `check`).
pub fn enabled() -> bool {
    matches!(setting(), "1" | "check")
}

/// Whether this fused attention over `segments` is to be compared with the unfused one: with
/// `ZEDIT_CUDA_FUSED=check`, the first three calls of each sequence layout (a step's first
/// blocks), so later calls and timings run the fused path alone.
pub fn should_check(segments: &[usize]) -> bool {
    static SEEN: Mutex<Vec<(Vec<usize>, usize)>> = Mutex::new(Vec::new());
    if setting() != "check" {
        return false;
    }
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let i = match seen.iter().position(|(k, _)| k == segments) {
        Some(i) => i,
        None => {
            seen.push((segments.to_vec(), 0));
            seen.len() - 1
        }
    };
    seen[i].1 += 1;
    seen[i].1 <= 3
}

/// Writes to stderr how far the fused attention `got` is from the unfused `want` (both
/// [S, H·128]).
pub fn report(got: &Tensor, want: &Tensor, rows: usize, segments: &[usize]) -> CResult<()> {
    let f32s = |t: &Tensor| t.to_dtype(DType::F32);
    let diff = (f32s(got)? - f32s(want)?)?.abs()?;
    let max = diff.max_all()?.to_scalar::<f32>()?;
    let mean = diff.mean_all()?.to_scalar::<f32>()?;
    let scale = f32s(want)?.abs()?.max_all()?.to_scalar::<f32>()?;
    eprintln!(
        "fused attention check, {rows} rows in sequences {segments:?}: max|diff| {max:.3e}, \
         mean {mean:.3e}, against values up to {scale:.3}"
    );
    Ok(())
}

/// Whether the fused path runs for q, k, v with heads of `head_dim` over `segments`: asked
/// for, built with CUDA, bf16 CUDA tensors (a quantized layer's f32 output is not), 128-wide
/// heads, at most four sequences, each a multiple of 32 long.
pub fn applies(qkv: [&Tensor; 3], head_dim: usize, segments: &[usize]) -> bool {
    cfg!(feature = "cuda")
        && enabled()
        && qkv
            .iter()
            .all(|t| t.device().is_cuda() && t.dtype() == DType::BF16)
        && head_dim == HEAD_DIM
        && (1..=MAX_SEGMENTS).contains(&segments.len())
        && segments
            .iter()
            .all(|&n| n > 0 && n.is_multiple_of(SEGMENT_MULTIPLE))
}

/// The rotary table the norm + RoPE kernel reads: [S, 128] f32, cos then sin per row.
pub fn cos_sin(cos: &Tensor, sin: &Tensor) -> CResult<Tensor> {
    Tensor::cat(&[cos, sin], 1)?.contiguous()
}

/// Attention of one block through the kernels: q, k, v [S, H·128] (rows may be strided, as
/// views of the fused q/k/v product are), the per-head norm weights, the [`cos_sin`] table →
/// [S, H·128] bf16, before the output projection.
#[allow(clippy::too_many_arguments)]
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    norm_q: &Tensor,
    norm_k: &Tensor,
    cos_sin: &Tensor,
    heads: usize,
    segments: &[usize],
    scale: f64,
) -> CResult<Tensor> {
    #[cfg(feature = "cuda")]
    {
        let norm = cuda::NormRope { heads, eps: 1e-5 };
        let (norm_q, norm_k) = (norm_q.to_dtype(DType::BF16)?, norm_k.to_dtype(DType::BF16)?);
        let q = q.apply_op3_no_bwd(&norm_q, cos_sin, &norm)?;
        let k = k.apply_op3_no_bwd(&norm_k, cos_sin, &norm)?;
        let flash = cuda::Flash::new(heads, segments, scale)?;
        q.apply_op3_no_bwd(&k, v, &flash)
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = (q, k, v, norm_q, norm_k, cos_sin, heads, segments, scale);
        Err(candle_core::Error::Msg(
            "the fused attention needs a build with the cuda feature".into(),
        ))
    }
}

#[cfg(feature = "cuda")]
mod cuda {
    use super::{HEAD_DIM, MAX_SEGMENTS};
    use candle_core::backend::BackendStorage;
    use candle_core::cuda_backend::cudarc::driver::{
        CudaSlice, LaunchArgs, LaunchConfig, PushKernelArg,
    };
    use candle_core::cuda_backend::WrapErr;
    use candle_core::{
        bail, CpuStorage, CudaDevice, CudaStorage, CustomOp3, Layout, Result, Shape,
    };
    use half::bf16;

    const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/fused.ptx"));
    const MODULE: &str = "zedit_zimage_fused";
    /// Query rows per attention block (fused.cu's BR) and its threads (32·WARPS).
    const BLOCK_ROWS: usize = 64;
    const BLOCK_THREADS: u32 = 128;

    /// Rows, row stride and start offset of a [rows, width] view with contiguous rows whose
    /// rows and start are 16-byte aligned (8 bf16), as the kernels' vector loads need.
    fn rows_of(what: &str, l: &Layout, width: usize) -> Result<(usize, usize, usize)> {
        let (dims, stride) = (l.dims(), l.stride());
        if dims.len() != 2 || dims[1] != width || stride[1] != 1 {
            bail!("fused attention: {what} is {dims:?} with strides {stride:?}, expected [S, {width}] rows");
        }
        if !stride[0].is_multiple_of(8) || !l.start_offset().is_multiple_of(8) {
            bail!("fused attention: {what}'s rows are not 16-byte aligned");
        }
        Ok((dims[0], stride[0], l.start_offset()))
    }

    fn contiguous(what: &str, l: &Layout, dims: &[usize]) -> Result<usize> {
        if l.dims() != dims || !l.is_contiguous() {
            bail!(
                "fused attention: {what} is {:?}, expected contiguous {dims:?}",
                l.dims()
            );
        }
        Ok(l.start_offset())
    }

    /// The CPU side of an op that only runs on CUDA: an error naming it.
    macro_rules! cuda_only {
        () => {
            fn cpu_fwd(
                &self,
                _: &CpuStorage,
                _: &Layout,
                _: &CpuStorage,
                _: &Layout,
                _: &CpuStorage,
                _: &Layout,
            ) -> Result<(CpuStorage, Shape)> {
                bail!("{} runs on CUDA only", self.name())
            }
        };
    }

    /// Launches a kernel whose arguments are pushed.
    fn launch(mut b: LaunchArgs<'_>, cfg: LaunchConfig) -> Result<()> {
        // SAFETY: the callers push the arguments of the kernel's signature, sizes checked.
        unsafe { b.launch(cfg) }.w()?;
        Ok(())
    }

    /// A kernel's [rows, width] bf16 output as candle storage.
    fn output(
        out: CudaSlice<bf16>,
        dev: CudaDevice,
        shape: (usize, usize),
    ) -> (CudaStorage, Shape) {
        (CudaStorage::wrap_cuda_slice(out, dev), Shape::from(shape))
    }

    /// Per-head RMSNorm (weight [128]) then RoPE from the [`super::cos_sin`] table.
    pub struct NormRope {
        pub heads: usize,
        pub eps: f32,
    }

    impl CustomOp3 for NormRope {
        fn name(&self) -> &'static str {
            "zimage-qk-norm-rope"
        }

        cuda_only!();

        fn cuda_fwd(
            &self,
            x: &CudaStorage,
            xl: &Layout,
            w: &CudaStorage,
            wl: &Layout,
            cs: &CudaStorage,
            csl: &Layout,
        ) -> Result<(CudaStorage, Shape)> {
            let width = self.heads * HEAD_DIM;
            let (rows, stride, offset) = rows_of("x", xl, width)?;
            let w_offset = contiguous("the norm weight", wl, &[HEAD_DIM])?;
            let cs_offset = contiguous("the rotary table", csl, &[rows, HEAD_DIM])?;
            let dev = x.device().clone();
            let xs = x.as_cuda_slice::<bf16>()?.slice(offset..);
            let ws = w.as_cuda_slice::<bf16>()?.slice(w_offset..);
            let css = cs.as_cuda_slice::<f32>()?.slice(cs_offset..);
            // SAFETY: every element is written by the kernel below.
            let out = unsafe { dev.alloc::<bf16>(rows * width)? };
            let func = dev.get_or_load_custom_func("zimage_qk_norm_rope", MODULE, PTX)?;
            let threads = 256u32;
            let warps = (rows * self.heads) as u32;
            let cfg = LaunchConfig {
                grid_dim: ((warps * 32).div_ceil(threads), 1, 1),
                block_dim: (threads, 1, 1),
                shared_mem_bytes: 0,
            };
            let mut b = func.builder();
            b.arg(&xs);
            candle_core::builder_arg!(b, stride as i32);
            b.arg(&ws);
            b.arg(&css);
            b.arg(&out);
            candle_core::builder_arg!(b, rows as i32, self.heads as i32, self.eps);
            launch(b, cfg)?;
            Ok(output(out, dev, (rows, width)))
        }
    }

    /// Flash attention within each stacked sequence (their cumulative ends), scale·log2(e)
    /// folded for the kernel's exp2.
    pub struct Flash {
        heads: usize,
        ends: [i32; MAX_SEGMENTS],
        segments: usize,
        scale_log2: f32,
    }

    impl Flash {
        pub fn new(heads: usize, segments: &[usize], scale: f64) -> Result<Self> {
            if segments.is_empty() || segments.len() > MAX_SEGMENTS {
                bail!(
                    "fused attention: {} sequences (1 to {MAX_SEGMENTS})",
                    segments.len()
                );
            }
            let mut ends = [0i32; MAX_SEGMENTS];
            let mut end = 0;
            for (e, n) in ends.iter_mut().zip(segments) {
                end += n;
                *e = end as i32;
            }
            for e in ends.iter_mut().skip(segments.len()) {
                *e = end as i32;
            }
            Ok(Flash {
                heads,
                ends,
                segments: segments.len(),
                scale_log2: (scale * std::f64::consts::LOG2_E) as f32,
            })
        }
    }

    impl CustomOp3 for Flash {
        fn name(&self) -> &'static str {
            "zimage-flash-attention"
        }

        cuda_only!();

        fn cuda_fwd(
            &self,
            q: &CudaStorage,
            ql: &Layout,
            k: &CudaStorage,
            kl: &Layout,
            v: &CudaStorage,
            vl: &Layout,
        ) -> Result<(CudaStorage, Shape)> {
            let width = self.heads * HEAD_DIM;
            let (rows, qs, qo) = rows_of("q", ql, width)?;
            let (k_rows, ks, ko) = rows_of("k", kl, width)?;
            let (v_rows, vs, vo) = rows_of("v", vl, width)?;
            if k_rows != rows || v_rows != rows || self.ends[MAX_SEGMENTS - 1] as usize != rows {
                bail!(
                    "fused attention: q, k, v have {rows}, {k_rows}, {v_rows} rows; the sequences end at {:?}",
                    self.ends
                );
            }
            let dev = q.device().clone();
            let qv = q.as_cuda_slice::<bf16>()?.slice(qo..);
            let kv = k.as_cuda_slice::<bf16>()?.slice(ko..);
            let vv = v.as_cuda_slice::<bf16>()?.slice(vo..);
            // SAFETY: every row of every head is written by the kernel below.
            let out = unsafe { dev.alloc::<bf16>(rows * width)? };
            let func = dev.get_or_load_custom_func("zimage_flash_attention", MODULE, PTX)?;
            let cfg = LaunchConfig {
                grid_dim: (rows.div_ceil(BLOCK_ROWS) as u32, self.heads as u32, 1),
                block_dim: (BLOCK_THREADS, 1, 1),
                shared_mem_bytes: 0,
            };
            let e = self.ends;
            let mut b = func.builder();
            b.arg(&qv);
            candle_core::builder_arg!(b, qs as i32);
            b.arg(&kv);
            candle_core::builder_arg!(b, ks as i32);
            b.arg(&vv);
            candle_core::builder_arg!(b, vs as i32);
            b.arg(&out);
            candle_core::builder_arg!(
                b,
                rows as i32,
                self.heads as i32,
                self.segments as i32,
                e[0],
                e[1],
                e[2],
                e[3],
                self.scale_log2
            );
            launch(b, cfg)?;
            Ok(output(out, dev, (rows, width)))
        }
    }
}

#[cfg(test)]
#[path = "fused_tests.rs"]
mod tests;
