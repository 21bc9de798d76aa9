//! Tiled VAE decoding: overlapping latent tiles decoded one at a time and blended linearly, so a
//! large image does not need the whole decoder activation in memory at once.

use candle_core::{Result, Tensor};

/// Latent tile side and overlap (64 latents = 512 pixels).
const TILE: usize = 64;
const OVERLAP: usize = 16;

/// Tile origins along one axis of length `n`.
fn starts(n: usize) -> Vec<usize> {
    if n <= TILE {
        return vec![0];
    }
    let stride = TILE - OVERLAP;
    let mut v: Vec<usize> = (0..)
        .map(|i| i * stride)
        .take_while(|s| s + TILE < n)
        .collect();
    v.push(n - TILE);
    v
}

/// Weight of a pixel at `i` in a tile of `len` pixels: ramps up over `ramp` pixels at edges
/// that border another tile.
fn ramp(i: usize, len: usize, ramp: usize, lead: bool, trail: bool) -> f32 {
    let mut w = 1.0f32;
    if lead && i < ramp {
        w = w.min((i as f32 + 0.5) / ramp as f32);
    }
    if trail && len - i <= ramp {
        w = w.min(((len - i) as f32 - 0.5) / ramp as f32);
    }
    w
}

pub fn decode(
    dec: impl Fn(&Tensor) -> Result<Tensor>,
    z: &Tensor,
    factor: usize,
) -> Result<Tensor> {
    let (_, _, h, w) = z.dims4()?;
    let (ys, xs) = (starts(h), starts(w));
    let mut acc: Option<Tensor> = None;
    let mut weight_sum: Option<Tensor> = None;
    for (iy, &y) in ys.iter().enumerate() {
        for (ix, &x) in xs.iter().enumerate() {
            let (th, tw) = (TILE.min(h), TILE.min(w));
            let tile = dec(&z.narrow(2, y, th)?.narrow(3, x, tw)?)?;
            let (ph, pw) = (th * factor, tw * factor);
            let r = OVERLAP * factor;
            let wy: Vec<f32> = (0..ph)
                .map(|i| ramp(i, ph, r, iy > 0, iy + 1 < ys.len()))
                .collect();
            let wx: Vec<f32> = (0..pw)
                .map(|i| ramp(i, pw, r, ix > 0, ix + 1 < xs.len()))
                .collect();
            let wmap: Vec<f32> = wy
                .iter()
                .flat_map(|a| wx.iter().map(move |b| a * b))
                .collect();
            let wmap =
                Tensor::from_vec(wmap, (1, 1, ph, pw), tile.device())?.to_dtype(tile.dtype())?;
            let (oh, ow) = (h * factor, w * factor);
            let (py, px) = (y * factor, x * factor);
            let place = |t: &Tensor| -> Result<Tensor> {
                t.pad_with_zeros(2, py, oh - py - ph)?
                    .pad_with_zeros(3, px, ow - px - pw)
            };
            let contrib = place(&tile.broadcast_mul(&wmap)?)?;
            let wfull = place(&wmap)?;
            acc = Some(match acc {
                Some(a) => (a + contrib)?,
                None => contrib,
            });
            weight_sum = Some(match weight_sum {
                Some(s) => (s + wfull)?,
                None => wfull,
            });
        }
    }
    match (acc, weight_sum) {
        (Some(a), Some(s)) => a.broadcast_div(&s),
        _ => candle_core::bail!("tiled decode of an empty latent"),
    }
}
