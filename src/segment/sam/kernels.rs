//! The two convolutions that candle runs slowly on the CPU, computed another way with the same
//! arithmetic: the 3x3 depthwise convolution (candle splits it into one convolution per
//! channel, thousands per TinyViT pass) as a direct loop, and the decoder's 2x2 stride-2
//! transposed convolution (candle's is a naive loop) as one matrix product.

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
