//! Convolutions that candle runs slowly on the CPU, computed another way with the same
//! arithmetic: the 3x3 depthwise convolution (candle splits it into one convolution per
//! channel, thousands per TinyViT pass) as a direct loop, 1x1 convolutions (candle copies the
//! input into columns first) and the decoder's 2x2 stride-2 transposed convolution (candle's
//! is a naive loop) as matrix products.

use candle_core::{Device, Result, Tensor};

/// Lets the allocator keep and reuse large freed buffers (up to 1 GiB each) instead of
/// returning every one to the system: an image embedding allocates tensors of tens of MB per
/// layer, and fresh pages from the kernel (zeroed on first touch) cost more than the
/// arithmetic on them. Process-wide and done once; other allocators are left alone.
pub fn keep_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only changes glibc's thresholds; called once, before any of the
            // buffers it concerns are made.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
                libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
            }
        });
    }
}

thread_local! {
    static SERIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with this module's kernels (and the decoder's matrix products) on the calling
/// thread alone: for callers that already keep every core busy with work of their own.
pub fn serial<R>(f: impl FnOnce() -> R) -> R {
    let was = SERIAL.with(|s| s.replace(true));
    let out = f();
    SERIAL.with(|s| s.set(was));
    out
}

/// The threads a kernel may use here: 1 inside [`serial`], else the machine's.
pub(super) fn threads() -> usize {
    if SERIAL.with(|s| s.get()) {
        return 1;
    }
    // Read once: the standard library asks the kernel (and the cgroup files) at every call.
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Splits `out` into one run of whole planes (`plane` values each; the last plane may be
/// shorter) per thread and calls `f(first_plane, run)`.
pub(super) fn par_planes(out: &mut [f32], plane: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    let planes = out.len().div_ceil(plane.max(1));
    let threads = threads().min(planes).max(1);
    let per = planes.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for (t, chunk) in out.chunks_mut(per * plane).enumerate() {
            let f = &f;
            s.spawn(move || f(t * per, chunk));
        }
    });
}

/// A 3x3 convolution with one group per channel, padding 1: `x` (B, C, H, W), `w` (C, 1, 3, 3),
/// then `bias` (C) added and, with `act`, the exact GELU, in the same pass. On other devices,
/// candle's own operations.
pub fn depthwise3x3(
    x: &Tensor,
    w: &Tensor,
    bias: &Tensor,
    stride: usize,
    act: bool,
) -> Result<Tensor> {
    let (b, c, h, wd) = x.dims4()?;
    if !matches!(x.device(), Device::Cpu) {
        let y = x
            .conv2d(w, 1, stride, 1, c)?
            .broadcast_add(&bias.reshape((1, c, 1, 1))?)?;
        return if act { y.gelu_erf() } else { Ok(y) };
    }
    let ho = (h + 2 - 3) / stride + 1;
    let wo = (wd + 2 - 3) / stride + 1;
    let xs = x.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    let ws = w.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    let bs = bias.flatten_all()?.to_vec1::<f32>()?;
    let mut out = vec![0f32; b * c * ho * wo];
    par_planes(&mut out, ho * wo, |first, chunk| {
        for (k, dst) in chunk.chunks_mut(ho * wo).enumerate() {
            let plane = first + k;
            let ch = plane % c;
            let src = &xs[plane * h * wd..(plane + 1) * h * wd];
            let k = &ws[ch * 9..ch * 9 + 9];
            wide(|| plane3x3(src, (h, wd), k, stride, dst, (ho, wo)));
            finish(dst, bs[ch], act);
        }
    });
    Tensor::from_vec(out, (b, c, ho, wo), x.device())
}

/// Runs `f` compiled for AVX2 where the CPU has it (8 lanes instead of SSE2's 4), else as is.
/// The arithmetic is the same either way: no fused multiply-adds are formed.
#[inline(always)]
pub(super) fn wide(f: impl FnOnce()) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2(f: impl FnOnce()) {
            f()
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has the feature the function is compiled for.
            return unsafe { avx2(f) };
        }
    }
    f()
}

/// `v + bias`, then the GELU when `act`.
fn finish(dst: &mut [f32], bias: f32, act: bool) {
    wide(|| finish_lanes(dst, bias, act))
}

#[inline(always)]
fn finish_lanes(dst: &mut [f32], bias: f32, act: bool) {
    if act {
        for d in dst.iter_mut() {
            *d = gelu1(*d + bias);
        }
    } else {
        for d in dst.iter_mut() {
            *d += bias;
        }
    }
}

/// One channel: `dst[oy][ox] = Σ k[ky][kx] · src[oy·s + ky − 1][ox·s + kx − 1]`, zero outside.
/// Each kernel tap adds a shifted row over the columns where it lands inside the image, so
/// the inner loops have no branches.
#[inline(always)]
fn plane3x3(
    src: &[f32],
    (h, w): (usize, usize),
    k: &[f32],
    s: usize,
    dst: &mut [f32],
    (ho, wo): (usize, usize),
) {
    for oy in 0..ho {
        let row = &mut dst[oy * wo..(oy + 1) * wo];
        for ky in 0..3 {
            let iy = oy * s + ky;
            if iy == 0 || iy > h {
                continue;
            }
            let line = &src[(iy - 1) * w..iy * w];
            for kx in 0..3 {
                let kv = k[ky * 3 + kx];
                // Columns ox with 0 <= ox·s + kx − 1 < w.
                let lo = usize::from(kx == 0);
                let hi = ((w + 1 - kx).div_ceil(s)).min(wo);
                if lo >= hi {
                    continue;
                }
                let first = lo * s + kx - 1;
                if s == 1 {
                    let taps = &line[first..first + (hi - lo)];
                    for (d, v) in row[lo..hi].iter_mut().zip(taps) {
                        *d += kv * v;
                    }
                } else {
                    let taps = line[first..].iter().step_by(s);
                    for (d, v) in row[lo..hi].iter_mut().zip(taps) {
                        *d += kv * v;
                    }
                }
            }
        }
    }
}

/// The exact GELU, `x · (1 + erf(x / √2)) / 2`, with erf to within 1.5e-7 (Abramowitz and
/// Stegun 7.1.26) over two or more threads on the CPU; candle's own `gelu_erf` elsewhere.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if !matches!(x.device(), Device::Cpu) || x.dtype() != candle_core::DType::F32 {
        return x.gelu_erf();
    }
    let mut v = x.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    gelu_in_place(&mut v);
    Tensor::from_vec(v, x.shape(), x.device())
}

/// The exact GELU of every value, in place, over two or more threads.
pub fn gelu_in_place(v: &mut [f32]) {
    let n = v.len();
    par_planes(v, n.div_ceil(64).max(1), |_, chunk| {
        finish(chunk, 0.0, true)
    });
}

/// `e^x` for `x <= 0` in f32 arithmetic only (no calls, no branches), so loops of it
/// vectorize: `x = n·ln2 + r`, a degree-6 polynomial for `e^r`, and `2^n` from its bits.
#[inline(always)]
pub(super) fn exp_neg(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // 1.5·2^23: adding and taking it away rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 0.0);
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    // n itself, from the low bits of `shifted` (integer arithmetic, so it vectorizes where a
    // float-to-int conversion, with its saturation checks, would not); in [-126, 0].
    let ni = (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((ni + 127) << 23) as u32)
}

#[inline(always)]
pub(super) fn gelu1(x: f32) -> f32 {
    let z = x * std::f32::consts::FRAC_1_SQRT_2;
    let a = z.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    let erf = (1.0 - poly * exp_neg(-a * a)).copysign(z);
    0.5 * x * (1.0 + erf)
}

/// `x + bias` per channel (B, C, ...) and, with `act`, the GELU, in one pass on the CPU.
pub fn bias_act(x: &Tensor, bias: &Tensor, act: bool) -> Result<Tensor> {
    let c = bias.elem_count();
    if !matches!(x.device(), Device::Cpu) || x.dtype() != candle_core::DType::F32 {
        let mut shape = vec![1usize; x.rank()];
        shape[1] = c;
        let y = x.broadcast_add(&bias.reshape(shape)?)?;
        return if act { y.gelu_erf() } else { Ok(y) };
    }
    let plane = x.dims()[2..].iter().product::<usize>().max(1);
    let bs = bias.flatten_all()?.to_vec1::<f32>()?;
    let mut v = x.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    par_planes(&mut v, plane, |first, chunk| {
        for (k, dst) in chunk.chunks_mut(plane).enumerate() {
            finish(dst, bs[(first + k) % c], act);
        }
    });
    Tensor::from_vec(v, x.shape(), x.device())
}

/// A dense 3x3 convolution with padding 1 and no bias: `x` (B, Cin, H, W), `w` (Cout, Cin, 3, 3).
/// The input is laid out as (Cin·9, Ho·Wo) columns, one row per kernel tap, so a single matrix
/// product writes the output in (Cout, Ho·Wo) order with no transpose afterwards.
pub fn conv3x3(x: &Tensor, w: &Tensor, stride: usize) -> Result<Tensor> {
    let (b, ci, h, wd) = x.dims4()?;
    let co = w.dim(0)?;
    if !matches!(x.device(), Device::Cpu) || x.dtype() != candle_core::DType::F32 {
        return x.conv2d(w, 1, stride, 1, 1);
    }
    let ho = (h + 2 - 3) / stride + 1;
    let wo = (wd + 2 - 3) / stride + 1;
    let xs = x.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    let n = ho * wo;
    let mut cols = vec![0f32; b * ci * 9 * n];
    par_planes(&mut cols, n, |first, chunk| {
        for (k, dst) in chunk.chunks_mut(n).enumerate() {
            let row = first + k;
            let (plane, tap) = (row / 9, row % 9);
            let src = &xs[plane * h * wd..(plane + 1) * h * wd];
            wide(|| tap_rows(src, (h, wd), (tap / 3, tap % 3), stride, dst, (ho, wo)));
        }
    });
    let cols = Tensor::from_vec(cols, (b, ci * 9, n), x.device())?;
    let w = w.reshape((1, co, ci * 9))?.broadcast_as((b, co, ci * 9))?;
    w.matmul(&cols)?.reshape((b, co, ho, wo))
}

/// One tap's column row: `dst[oy][ox] = src[oy·s + ky − 1][ox·s + kx − 1]`, zero outside.
#[inline(always)]
fn tap_rows(
    src: &[f32],
    (h, w): (usize, usize),
    (ky, kx): (usize, usize),
    s: usize,
    dst: &mut [f32],
    (ho, wo): (usize, usize),
) {
    let lo = usize::from(kx == 0);
    let hi = ((w + 1 - kx).div_ceil(s)).min(wo);
    for oy in 0..ho {
        let iy = oy * s + ky;
        if iy == 0 || iy > h || lo >= hi {
            continue;
        }
        let line = &src[(iy - 1) * w..iy * w];
        let row = &mut dst[oy * wo + lo..oy * wo + hi];
        let first = lo * s + kx - 1;
        if s == 1 {
            row.copy_from_slice(&line[first..first + (hi - lo)]);
        } else {
            for (d, v) in row.iter_mut().zip(line[first..].iter().step_by(s)) {
                *d = *v;
            }
        }
    }
}

/// A 1x1 convolution without bias: `x` (B, Cin, H, W), `w` (Cout, Cin, 1, 1).
pub fn pointwise(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (b, ci, h, wd) = x.dims4()?;
    let co = w.dim(0)?;
    let w = w.reshape((1, co, ci))?.broadcast_as((b, co, ci))?;
    w.matmul(&x.reshape((b, ci, h * wd))?)?
        .reshape((b, co, h, wd))
}

/// A transposed convolution with a 2x2 kernel and stride 2 (no overlap, so each input pixel
/// writes its own 2x2 block): `x` (B, Cin, H, W), `w` (Cin, Cout, 2, 2), `bias` (Cout).
pub fn conv_transpose2x2(x: &Tensor, w: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let (b, ci, h, wd) = x.dims4()?;
    let co = w.dim(1)?;
    let rows = x
        .flatten_from(2)?
        .transpose(1, 2)?
        .reshape((b * h * wd, ci))?;
    let y = rows
        .matmul(&w.reshape((ci, co * 4))?)?
        .reshape((b, h, wd, co, 2, 2))?
        .permute((0, 3, 1, 4, 2, 5))?
        .reshape((b, co, 2 * h, 2 * wd))?;
    match bias {
        Some(bias) => y.broadcast_add(&bias.reshape((1, co, 1, 1))?),
        None => Ok(y),
    }
}
