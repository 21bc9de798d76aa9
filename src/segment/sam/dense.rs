//! Row-major f32 buffers for the mask decoder's CPU path: matrix products through `gemm` (the
//! kernel candle itself runs on the CPU, called here on our own buffers so that strided head
//! slices need no copies and a bias or residual already in the output is accumulated onto),
//! linear layers, layer norms, row softmax and multi-head attention. The norms and softmax are
//! compiled for AVX2 too and take it where the CPU has it (the same arithmetic, wider).

use super::kernels::exp_neg;
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

/// A matrix inside a slice: element (r, c) at `data[r * rs + c * cs]`.
#[derive(Debug, Clone, Copy)]
pub(super) struct View<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

impl<'a> View<'a> {
    /// Rows of `cols` values, one after another.
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        View {
            data,
            rs: cols,
            cs: 1,
        }
    }

    /// The same rows, starting `offset` columns in (a head's slice).
    pub fn at(self, offset: usize) -> Self {
        View {
            data: &self.data[offset.min(self.data.len())..],
            ..self
        }
    }

    /// The transpose.
    pub fn t(self) -> Self {
        View {
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    fn fits(&self, rows: usize, cols: usize) -> bool {
        rows == 0 || cols == 0 || (rows - 1) * self.rs + (cols - 1) * self.cs < self.data.len()
    }
}

/// candle's thread count for its matrix products, read once (candle reads `/proc/cpuinfo`
/// for it at every call).
fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(candle_core::utils::get_num_threads)
}

/// The sum of `v` in eight lanes, so that it vectorizes.
#[inline(always)]
fn sum(v: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for (l, x) in lanes.iter_mut().zip(c) {
            *l += x;
        }
    }
    lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// The largest of `v` in eight lanes.
#[inline(always)]
fn max(v: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for (l, x) in lanes.iter_mut().zip(c) {
            *l = l.max(*x);
        }
    }
    let rest = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    lanes.iter().fold(rest, |m, &x| m.max(x))
}

/// `dst (m × n, row stride dst_rs) = [dst +] scale · a (m × k) · b (k × n)`.
#[allow(clippy::too_many_arguments)]
pub(super) fn matmul(
    dst: &mut [f32],
    dst_rs: usize,
    accumulate: bool,
    a: View,
    b: View,
    (m, n, k): (usize, usize, usize),
    scale: f32,
) {
    if m == 0 || n == 0 {
        return;
    }
    let out = View::rows(dst, dst_rs);
    // Hard checks: the product below reads and writes through raw pointers.
    assert!(
        out.fits(m, n) && a.fits(m, k) && b.fits(k, n),
        "matmul {m}x{k} by {k}x{n} outside its buffers"
    );
    let threads = if super::kernels::threads() > 1 {
        threads()
    } else {
        1
    };
    let parallelism = if threads > 1 && m * n * k >= 1 << 18 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: every index the product touches lies inside its slice (checked above), and
    // `dst` is borrowed mutably, so it overlaps neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            if accumulate { 1.0 } else { 0.0 },
            scale,
            false,
            false,
            false,
            parallelism,
        )
    }
}

/// A linear layer with its weight stored (in × out), row-major.
#[derive(Debug, Clone)]
pub(super) struct Dense {
    w: Vec<f32>,
    pub b: Vec<f32>,
    pub din: usize,
    pub dout: usize,
}

/// Every value of `t`, as f32.
pub(super) fn values(t: &Tensor) -> Result<Vec<f32>> {
    t.to_dtype(candle_core::DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()
}

impl Dense {
    /// Reads a PyTorch `nn.Linear` (`weight` (out, in), `bias` (out)).
    pub fn load(din: usize, dout: usize, vb: VarBuilder) -> Result<Dense> {
        let w = vb.get((dout, din), "weight")?.t()?.contiguous()?;
        Ok(Dense {
            w: values(&w)?,
            b: values(&vb.get(dout, "bias")?)?,
            din,
            dout,
        })
    }

    /// A layer from its (in × out) row-major weight and its bias.
    pub fn from_parts(w: Vec<f32>, b: Vec<f32>, din: usize, dout: usize) -> Dense {
        Dense { w, b, din, dout }
    }

    /// The layers side by side: one product gives every output, in order.
    pub fn cat(parts: &[&Dense]) -> Dense {
        let din = parts.first().map_or(0, |p| p.din);
        let dout: usize = parts.iter().map(|p| p.dout).sum();
        let mut w = Vec::with_capacity(din * dout);
        for r in 0..din {
            for p in parts {
                w.extend_from_slice(&p.w[r * p.dout..(r + 1) * p.dout]);
            }
        }
        let b = parts.iter().flat_map(|p| p.b.iter().copied()).collect();
        Dense { w, b, din, dout }
    }

    /// The (in × out) weight.
    pub fn view(&self) -> View<'_> {
        View::rows(&self.w, self.dout)
    }

    /// `dst (rows × dout) += x · W`, the bias (or anything else) already in `dst`.
    pub fn onto(&self, x: &[f32], rows: usize, dst: &mut [f32]) {
        let w = View::rows(&self.w, self.dout);
        matmul(
            dst,
            self.dout,
            true,
            View::rows(x, self.din),
            w,
            (rows, self.dout, self.din),
            1.0,
        );
    }

    /// `dst += x · W + b`: a residual connection around the layer.
    pub fn residual(&self, x: &[f32], rows: usize, dst: &mut [f32]) {
        for row in dst.chunks_exact_mut(self.dout) {
            row.iter_mut().zip(&self.b).for_each(|(v, b)| *v += b);
        }
        self.onto(x, rows, dst);
    }

    /// `x · W + b` for `rows` rows of `x`.
    pub fn apply(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(rows * self.dout);
        for _ in 0..rows {
            out.extend_from_slice(&self.b);
        }
        self.onto(x, rows, &mut out);
        out
    }
}

/// A layer norm over the last dimension.
#[derive(Debug, Clone)]
pub(super) struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    eps: f32,
}

impl Norm {
    pub fn load(dim: usize, eps: f32, vb: VarBuilder) -> Result<Norm> {
        Ok(Norm {
            gamma: values(&vb.get(dim, "weight")?)?,
            beta: values(&vb.get(dim, "bias")?)?,
            eps,
        })
    }

    /// Normalises each row of `x` in place (mean and biased variance, in two passes).
    pub fn rows(&self, x: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2(norm: &Norm, x: &mut [f32]) {
                norm.rows_lanes(x)
            }
            // SAFETY: the CPU has the feature the function is compiled for.
            return unsafe { avx2(self, x) };
        }
        self.rows_lanes(x)
    }

    #[inline(always)]
    fn rows_lanes(&self, x: &mut [f32]) {
        let dim = self.gamma.len();
        let mut dev = vec![0f32; dim];
        for row in x.chunks_exact_mut(dim) {
            let mean = sum(row) / dim as f32;
            for (d, v) in dev.iter_mut().zip(row.iter()) {
                *d = (v - mean) * (v - mean);
            }
            let inv = 1.0 / (sum(&dev) / dim as f32 + self.eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *v = (*v - mean) * inv * g + b;
            }
        }
    }
}

/// Softmax of each row of `cols` values, in place.
pub(super) fn softmax_rows(x: &mut [f32], cols: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2(x: &mut [f32], cols: usize) {
            softmax_lanes(x, cols)
        }
        // SAFETY: the CPU has the feature the function is compiled for.
        return unsafe { avx2(x, cols) };
    }
    softmax_lanes(x, cols)
}

#[inline(always)]
fn softmax_lanes(x: &mut [f32], cols: usize) {
    for row in x.chunks_exact_mut(cols) {
        let m = max(row);
        for v in row.iter_mut() {
            *v = exp_neg(*v - m);
        }
        let inv = 1.0 / sum(row);
        for v in row.iter_mut() {
            *v *= inv;
        }
    }
}

/// `a + b`, element by element.
pub(super) fn add(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

/// Multi-head attention as the reference's `Attention` after its projections: `q` (nq rows),
/// `k` and `v` (nk rows) each split into `heads` column slices of `d`; the output (nq × heads·d)
/// with the heads side by side, as `recombine_heads` leaves it.
pub(super) fn attention(
    q: View,
    k: View,
    v: View,
    (nq, nk): (usize, usize),
    heads: usize,
    d: usize,
) -> Vec<f32> {
    let mut out = vec![0f32; nq * heads * d];
    let mut scores = vec![0f32; nq * nk];
    let scale = 1.0 / (d as f32).sqrt();
    for h in 0..heads {
        let o = h * d;
        matmul(
            &mut scores,
            nk,
            false,
            q.at(o),
            k.at(o).t(),
            (nq, nk, d),
            scale,
        );
        softmax_rows(&mut scores, nk);
        matmul(
            &mut out[o..],
            heads * d,
            false,
            View::rows(&scores, nk),
            v.at(o),
            (nq, d, nk),
            1.0,
        );
    }
    out
}
