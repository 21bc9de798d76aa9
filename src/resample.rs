//! Pillow's resize of 8-bit images, reproduced exactly, with its Lanczos, bilinear and bicubic
//! filters: Z-Image's reference resizes inputs and masks with `PIL.Image.resize(size, LANCZOS)`,
//! SAM's resizes the longest side to 1024 with `BILINEAR` and CLIP's image processors resize
//! crops with `BICUBIC`, so a model's input pixels match only if
//! the resize does. Separable (one pass per side that changes); the filter widens with the
//! scale when shrinking; coefficients are normalised per output pixel and rounded to 22-bit
//! fixed point, as Pillow does for 8 bits.

/// Fraction bits of the fixed-point coefficients (32 − 8 − 2, as Pillow uses for 8-bit data).
const PRECISION_BITS: u32 = 22;
/// Pillow's filters that the models' references use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// `Image.BILINEAR`: the triangle filter, support 1.
    Bilinear,
    /// `Image.LANCZOS`: Lanczos-3, support 3.
    Lanczos,
    /// `Image.BICUBIC`: the cubic convolution with a = -0.5, support 2 (CLIP's image
    /// processors).
    Bicubic,
}

impl Filter {
    /// Support radius in input pixels at scale 1.
    fn support(self) -> f64 {
        match self {
            Filter::Bilinear => 1.0,
            Filter::Lanczos => 3.0,
            Filter::Bicubic => 2.0,
        }
    }

    fn weight(self, x: f64) -> f64 {
        match self {
            Filter::Bilinear => {
                let x = x.abs();
                if x < 1.0 {
                    1.0 - x
                } else {
                    0.0
                }
            }
            Filter::Bicubic => {
                const A: f64 = -0.5;
                let x = x.abs();
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
            Filter::Lanczos => {
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let x = x * std::f64::consts::PI;
        x.sin() / x
    }
}

/// For each output index: the first input index, and the fixed-point weights from there.
fn coefficients(in_size: usize, out_size: usize, filter: Filter) -> Vec<(usize, Vec<i32>)> {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = filter.support() * filter_scale;
    let inv_scale = 1.0 / filter_scale;
    (0..out_size)
        .map(|o| {
            let center = (o as f64 + 0.5) * scale;
            // C's (int) truncation, then clamped to the image.
            let lo = ((center - support + 0.5) as i64).max(0) as usize;
            let hi = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            // Pillow multiplies by the reciprocal, which rounds differently from dividing.
            let w: Vec<f64> = (lo..hi)
                .map(|x| filter.weight((x as f64 - center + 0.5) * inv_scale))
                .collect();
            let total: f64 = w.iter().sum();
            let fixed = w
                .iter()
                .map(|&v| {
                    let v = if total != 0.0 { v / total } else { v };
                    let v = v * (1u32 << PRECISION_BITS) as f64;
                    (if v < 0.0 { v - 0.5 } else { v + 0.5 }) as i32
                })
                .collect();
            (lo, fixed)
        })
        .collect()
}

fn clip8(acc: i32) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// The weighted sum of one output sample from `taps` input samples read through `get`.
fn sample(taps: &(usize, Vec<i32>), get: impl Fn(usize) -> u8) -> u8 {
    let (lo, w) = taps;
    let mut acc: i32 = 1 << (PRECISION_BITS - 1);
    for (i, k) in w.iter().enumerate() {
        acc += get(lo + i) as i32 * k;
    }
    clip8(acc)
}

/// Resamples every row of `src` (`w`×`h`, `ch` channels) to `ow` samples.
fn horizontal(src: &[u8], (w, h): (usize, usize), ch: usize, ow: usize, f: Filter) -> Vec<u8> {
    let coeffs = coefficients(w, ow, f);
    let mut out = vec![0u8; ow * h * ch];
    for y in 0..h {
        let row = &src[y * w * ch..(y + 1) * w * ch];
        for (x, taps) in coeffs.iter().enumerate() {
            for c in 0..ch {
                out[(y * ow + x) * ch + c] = sample(taps, |i| row[i * ch + c]);
            }
        }
    }
    out
}

/// Resamples every column of `src` (`w`×`h`, `ch` channels) to `oh` samples.
fn vertical(src: &[u8], (w, h): (usize, usize), ch: usize, oh: usize, f: Filter) -> Vec<u8> {
    let coeffs = coefficients(h, oh, f);
    let mut out = vec![0u8; w * oh * ch];
    for (y, taps) in coeffs.iter().enumerate() {
        for x in 0..w {
            for c in 0..ch {
                out[(y * w + x) * ch + c] = sample(taps, |i| src[(i * w + x) * ch + c]);
            }
        }
    }
    out
}

/// Resizes interleaved 8-bit pixels (`channels` per pixel, row-major) from `w`×`h` to
/// `ow`×`oh` as Pillow's resize with `filter` does. A side that keeps its size skips its pass. When
/// both change, Pillow (13) runs the vertical pass first if it shrinks the height by more than
/// twice what the horizontal pass takes off the width, and the horizontal pass first otherwise;
/// the 8-bit rounding between the passes makes the order visible, so it is kept.
pub fn resize(
    src: &[u8],
    (w, h): (usize, usize),
    channels: usize,
    (ow, oh): (usize, usize),
    filter: Filter,
) -> Vec<u8> {
    match (ow != w, oh != h) {
        (false, false) => src.to_vec(),
        (true, false) => horizontal(src, (w, h), channels, ow, filter),
        (false, true) => vertical(src, (w, h), channels, oh, filter),
        (true, true) => {
            let shrink_h = h as i64 - oh as i64;
            let shrink_w = w as i64 - ow as i64;
            if shrink_h > 0 && shrink_h > 2 * shrink_w {
                let t = vertical(src, (w, h), channels, oh, filter);
                horizontal(&t, (w, oh), channels, ow, filter)
            } else {
                let t = horizontal(src, (w, h), channels, ow, filter);
                vertical(&t, (ow, h), channels, oh, filter)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_and_same_size_is_identity() {
        let sizes = [
            (100, 96),
            (60, 48),
            (7, 19),
            (1024, 16),
            (120, 1024),
            (1100, 1024),
        ];
        for ((i, o), f) in sizes.into_iter().flat_map(|s| {
            [
                (s, Filter::Lanczos),
                (s, Filter::Bilinear),
                (s, Filter::Bicubic),
            ]
        }) {
            for (_, w) in coefficients(i, o, f) {
                let s: i64 = w.iter().map(|&k| k as i64).sum();
                assert!(
                    (s - (1 << PRECISION_BITS)).abs() <= w.len() as i64,
                    "{i}->{o}"
                );
            }
        }
        let px: Vec<u8> = (0..60).map(|v| (v * 4) as u8).collect();
        for f in [Filter::Lanczos, Filter::Bilinear, Filter::Bicubic] {
            assert_eq!(resize(&px, (5, 4), 3, (5, 4), f), px);
        }
    }
}
