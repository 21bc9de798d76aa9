//! The mask decoder's output upscaling on the CPU (the reference's `output_upscaling`: a 2x2
//! stride-2 transposed convolution, `LayerNorm2d`, GELU, another, GELU) and the mask product
//! with the hypernetworks' outputs, on pixel-major buffers: the transformer's image tokens
//! are already one row per pixel, each transposed convolution is one matrix product whose
//! columns are ordered (dy, dx, channel) so every output pixel's channels lie together, and
//! the masks are put back in raster order at the end.

use super::dense::{matmul, Dense, Norm, View};
use super::kernels::gelu_in_place;
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

#[derive(Debug)]
pub(super) struct Upscale {
    conv1: Dense,
    norm: Norm,
    conv2: Dense,
    /// Channels after the second convolution.
    out: usize,
    /// The transformer's grid side.
    grid: usize,
}

/// A (cin, cout, 2, 2) transposed-convolution weight as (cin) × (dy, dx, cout) columns, the
/// bias repeated per (dy, dx).
fn conv(weight: &Tensor, bias: &Tensor) -> Result<Dense> {
    let (cin, cout, _, _) = weight.dims4()?;
    let w = weight
        .permute((0, 2, 3, 1))?
        .contiguous()?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let b = bias.to_vec1::<f32>()?.repeat(4);
    Ok(Dense::from_parts(w, b, cin, 4 * cout))
}

impl Upscale {
    /// The weights of `output_upscaling.{0,1,3}` for `dim` input channels on a `grid` side.
    pub fn load(dim: usize, grid: usize, vb: VarBuilder) -> Result<Upscale> {
        let (c1, c2) = (dim / 4, dim / 8);
        let v0 = vb.pp("0");
        let v3 = vb.pp("3");
        Ok(Upscale {
            conv1: conv(&v0.get((dim, c1, 2, 2), "weight")?, &v0.get(c1, "bias")?)?,
            norm: Norm::load(c1, 1e-6, vb.pp("1"))?,
            conv2: conv(&v3.get((c1, c2, 2, 2), "weight")?, &v3.get(c2, "bias")?)?,
            out: c2,
            grid,
        })
    }

    /// The masks of `hyper` (masks × channels) over the image tokens `keys` (g·g × dim):
    /// (masks × 4g × 4g) logits, mask by mask, row-major.
    pub fn masks(&self, keys: &[f32], hyper: &[f32]) -> Vec<f32> {
        let (g, c2) = (self.grid, self.out);
        let n = g * g;
        let count = hyper.len() / c2.max(1);
        let mut up = self.conv1.apply(keys, n);
        self.norm.rows(&mut up);
        gelu_in_place(&mut up);
        let mut up = self.conv2.apply(&up, 4 * n);
        gelu_in_place(&mut up);
        // One row per output pixel, in (token, dy1, dx1, dy2, dx2) order.
        let mut per_pixel = vec![0f32; 16 * n * count];
        matmul(
            &mut per_pixel,
            count,
            false,
            View::rows(&up, c2),
            View::rows(hyper, c2).t(),
            (16 * n, count, c2),
            1.0,
        );
        let side = 4 * g;
        let mut out = vec![0f32; count * side * side];
        for (p, values) in per_pixel.chunks_exact(count).enumerate() {
            let (token, k1, k2) = (p / 16, (p / 4) % 4, p % 4);
            let y = 4 * (token / g) + 2 * (k1 / 2) + k2 / 2;
            let x = 4 * (token % g) + 2 * (k1 % 2) + k2 % 2;
            for (m, &v) in values.iter().enumerate() {
                out[m * side * side + y * side + x] = v;
            }
        }
        out
    }
}
