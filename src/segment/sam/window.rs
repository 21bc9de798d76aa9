//! TinyViT's attention block on the CPU, over one image's tokens as rows (L × C), computing
//! what the reference `TinyViTBlock` computes: LayerNorm and the query-key-value projection
//! once for every token, attention inside each window (the zero padding's tokens are the
//! norm of zero, so one fixed projected row), the output projection onto the residual, the
//! 3x3 depthwise convolution directly on the rows, then the MLP onto its residual.

use super::dense::{matmul, softmax_rows, values, Dense, Norm, View};
use super::kernels::{gelu_in_place, par_planes};
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

#[derive(Debug)]
pub(super) struct WindowBlock {
    norm: Norm,
    qkv: Dense,
    /// The projection of a padding token: `norm(0) · W + b`.
    pad_qkv: Vec<f32>,
    proj: Dense,
    /// (heads × N × N) biases of the window's token pairs.
    bias: Vec<f32>,
    /// The depthwise convolution's weights as (tap × C), and its bias (the batch norm folded).
    conv_w: Vec<f32>,
    conv_b: Vec<f32>,
    mlp_norm: Norm,
    fc1: Dense,
    fc2: Dense,
    dim: usize,
    heads: usize,
    window: usize,
    resolution: usize,
}

impl WindowBlock {
    /// The block's weights under `vb` (the reference's names), with the attention biases
    /// `bias` (heads, N, N) and the local convolution's folded `conv_w` (C, 1, 3, 3) and
    /// `conv_b` as the candle block holds them.
    pub fn load(
        (dim, heads, window, resolution, mlp_ratio): (usize, usize, usize, usize, usize),
        bias: &Tensor,
        (conv_w, conv_b): (&Tensor, &Tensor),
        vb: VarBuilder,
    ) -> Result<WindowBlock> {
        let va = vb.pp("attn");
        let vm = vb.pp("mlp");
        let norm = Norm::load(dim, 1e-5, va.pp("norm"))?;
        let qkv = Dense::load(dim, 3 * dim, va.pp("qkv"))?;
        let mut zero = vec![0f32; dim];
        norm.rows(&mut zero);
        let pad_qkv = qkv.apply(&zero, 1);
        let w = values(conv_w)?;
        let conv_w = (0..9)
            .flat_map(|tap| (0..dim).map(move |c| (tap, c)))
            .map(|(tap, c)| w[c * 9 + tap])
            .collect();
        Ok(WindowBlock {
            norm,
            qkv,
            pad_qkv,
            proj: Dense::load(dim, dim, va.pp("proj"))?,
            bias: values(bias)?,
            conv_w,
            conv_b: values(conv_b)?,
            mlp_norm: Norm::load(dim, 1e-5, vm.pp("norm"))?,
            fc1: Dense::load(dim, dim * mlp_ratio, vm.pp("fc1"))?,
            fc2: Dense::load(dim * mlp_ratio, dim, vm.pp("fc2"))?,
            dim,
            heads,
            window,
            resolution,
        })
    }

    /// The block on one image's tokens (resolution² × dim).
    pub fn forward(&self, mut x: Vec<f32>) -> Vec<f32> {
        let l = self.resolution * self.resolution;
        let a = self.attention(&x);
        self.proj.residual(&a, l, &mut x);
        let mut y = self.local_conv(&x);
        let mut h = y.clone();
        self.mlp_norm.rows(&mut h);
        let mut h = self.fc1.apply(&h, l);
        gelu_in_place(&mut h);
        self.fc2.residual(&h, l, &mut y);
        y
    }

    /// Windowed attention before the output projection: (L × dim), heads side by side.
    fn attention(&self, x: &[f32]) -> Vec<f32> {
        let (r, ws, c, heads) = (self.resolution, self.window, self.dim, self.heads);
        let kd = c / heads;
        let mut xn = x.to_vec();
        self.norm.rows(&mut xn);
        let qkv = self.qkv.apply(&xn, r * r);
        let nw = (r + (ws - r % ws) % ws) / ws;
        let n = ws * ws;
        let scale = 1.0 / (kd as f32).sqrt();
        let mut out = vec![0f32; r * r * c];
        // Each band of windows writes the image rows it covers.
        par_planes(&mut out, ws * r * c, |first, rows| {
            let mut win = vec![0f32; n * 3 * c];
            let mut scores = vec![0f32; n * n];
            let mut o = vec![0f32; n * c];
            for wy in first..first + rows.len().div_ceil(ws * r * c) {
                for wx in 0..nw {
                    for (i, dst) in win.chunks_exact_mut(3 * c).enumerate() {
                        let (y, xx) = (wy * ws + i / ws, wx * ws + i % ws);
                        let src = if y < r && xx < r {
                            &qkv[(y * r + xx) * 3 * c..(y * r + xx + 1) * 3 * c]
                        } else {
                            &self.pad_qkv[..]
                        };
                        dst.copy_from_slice(src);
                    }
                    let wv = View::rows(&win, 3 * c);
                    for h in 0..heads {
                        let base = h * 3 * kd;
                        scores.copy_from_slice(&self.bias[h * n * n..(h + 1) * n * n]);
                        let (q, k, v) = (wv.at(base), wv.at(base + kd), wv.at(base + 2 * kd));
                        matmul(&mut scores, n, true, q, k.t(), (n, n, kd), scale);
                        softmax_rows(&mut scores, n);
                        let p = View::rows(&scores, n);
                        matmul(&mut o[h * kd..], c, false, p, v, (n, kd, n), 1.0);
                    }
                    for (i, src) in o.chunks_exact(c).enumerate() {
                        let (y, xx) = (wy * ws + i / ws, wx * ws + i % ws);
                        let y = y - first * ws;
                        if xx < r && (y * r + xx + 1) * c <= rows.len() {
                            rows[(y * r + xx) * c..(y * r + xx + 1) * c].copy_from_slice(src);
                        }
                    }
                }
            }
        });
        out
    }

    /// The 3x3 depthwise convolution (padding 1) and its bias, on the rows.
    fn local_conv(&self, x: &[f32]) -> Vec<f32> {
        let (r, c) = (self.resolution, self.dim);
        let mut out = vec![0f32; r * r * c];
        par_planes(&mut out, r * c, |first, rows| {
            for (k, line) in rows.chunks_exact_mut(r * c).enumerate() {
                let y = first + k;
                for (xx, o) in line.chunks_exact_mut(c).enumerate() {
                    o.copy_from_slice(&self.conv_b);
                    for tap in 0..9 {
                        let (iy, ix) = (
                            (y + tap / 3).wrapping_sub(1),
                            (xx + tap % 3).wrapping_sub(1),
                        );
                        if iy >= r || ix >= r {
                            continue;
                        }
                        let src = &x[(iy * r + ix) * c..(iy * r + ix + 1) * c];
                        let w = &self.conv_w[tap * c..(tap + 1) * c];
                        for ((o, s), w) in o.iter_mut().zip(src).zip(w) {
                            *o += s * w;
                        }
                    }
                }
            }
        });
        out
    }
}
