//! Convolutions that candle runs slowly on the CPU, computed another way with the same
//! arithmetic: the 3x3 depthwise convolution (candle splits it into one convolution per
//! channel, thousands per TinyViT pass) as a direct loop, 1x1 convolutions (candle copies the
//! input into columns first) and the decoder's 2x2 stride-2 transposed convolution (candle's
//! is a naive loop) as matrix products.

use candle_core::{Device, Result, Tensor};

/// A 3x3 convolution with one group per channel, padding 1, no bias: `x` (B, C, H, W),
/// `w` (C, 1, 3, 3). On other devices, candle's own convolution.
pub fn depthwise3x3(x: &Tensor, w: &Tensor, stride: usize) -> Result<Tensor> {
    let (b, c, h, wd) = x.dims4()?;
    if !matches!(x.device(), Device::Cpu) {
        return x.conv2d(w, 1, stride, 1, c);
    }
    let ho = (h + 2 - 3) / stride + 1;
    let wo = (wd + 2 - 3) / stride + 1;
    let xs = x.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    let ws = w.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    let mut out = vec![0f32; b * c * ho * wo];
    let planes = b * c;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(planes)
        .max(1);
    let per = planes.div_ceil(threads);
    std::thread::scope(|s| {
        for (t, chunk) in out.chunks_mut(per * ho * wo).enumerate() {
            let (xs, ws) = (&xs, &ws);
            s.spawn(move || {
                for (k, dst) in chunk.chunks_mut(ho * wo).enumerate() {
                    let plane = t * per + k;
                    let ch = plane % c;
                    let src = &xs[plane * h * wd..(plane + 1) * h * wd];
                    let kern = &ws[ch * 9..ch * 9 + 9];
                    plane3x3(src, (h, wd), kern, stride, dst, (ho, wo));
                }
            });
        }
    });
    Tensor::from_vec(out, (b, c, ho, wo), x.device())
}

/// One channel: `dst[oy][ox] = Σ k[ky][kx] · src[oy·s + ky − 1][ox·s + kx − 1]`, zero outside.
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
            let iy = (oy * s + ky) as isize - 1;
            if iy < 0 || iy >= h as isize {
                continue;
            }
            let line = &src[iy as usize * w..(iy as usize + 1) * w];
            for kx in 0..3 {
                let kv = k[ky * 3 + kx];
                for (ox, d) in row.iter_mut().enumerate() {
                    let ix = (ox * s + kx) as isize - 1;
                    if ix >= 0 && (ix as usize) < w {
                        *d += kv * line[ix as usize];
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
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = v.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for chunk in v.chunks_mut(per) {
            s.spawn(move || {
                for e in chunk.iter_mut() {
                    *e = gelu1(*e);
                }
            });
        }
    });
    Tensor::from_vec(v, x.shape(), x.device())
}

fn gelu1(x: f32) -> f32 {
    let z = f64::from(x) * std::f64::consts::FRAC_1_SQRT_2;
    let a = z.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-a * a).exp();
    let erf = if z < 0.0 { -erf } else { erf };
    (0.5 * f64::from(x) * (1.0 + erf)) as f32
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_match_candles_convolutions() {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (2, 5, 9, 8), &dev).unwrap();
        let w = Tensor::randn(0f32, 1.0, (5, 1, 3, 3), &dev).unwrap();
        for stride in [1, 2] {
            let ours = depthwise3x3(&x, &w, stride).unwrap();
            let theirs = x.conv2d(&w, 1, stride, 1, 5).unwrap();
            let d = (ours - theirs).unwrap().abs().unwrap().max_all().unwrap();
            assert!(d.to_scalar::<f32>().unwrap() < 1e-5, "stride {stride}");
        }
        let w1 = Tensor::randn(0f32, 1.0, (7, 5, 1, 1), &dev).unwrap();
        let d = (pointwise(&x, &w1).unwrap() - x.conv2d(&w1, 0, 1, 1, 1).unwrap()).unwrap();
        let d = d
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(d < 1e-5, "pointwise {d}");
        let g = (gelu(&x).unwrap() - x.gelu_erf().unwrap()).unwrap();
        let g = g
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(g < 1e-6, "gelu {g}");
        let wt = Tensor::randn(0f32, 1.0, (5, 3, 2, 2), &dev).unwrap();
        let bias = Tensor::randn(0f32, 1.0, 3, &dev).unwrap();
        let ours = conv_transpose2x2(&x, &wt, Some(&bias)).unwrap();
        let theirs = x
            .conv_transpose2d(&wt, 0, 0, 2, 1)
            .unwrap()
            .broadcast_add(&bias.reshape((1, 3, 1, 1)).unwrap())
            .unwrap();
        let d = (ours - theirs).unwrap().abs().unwrap().max_all().unwrap();
        assert!(d.to_scalar::<f32>().unwrap() < 1e-5);
    }
}
