//! SAM's pre- and post-processing, as the reference `SamPredictor` does it: the longest side
//! resized to the model's input size (Pillow bilinear), pixels normalised by SAM's mean and
//! std, zero-padded to a square; prompt coordinates scaled to the resized image; the decoder's
//! low-resolution logits upscaled to the square (bilinear, `align_corners=False`), the padding
//! cropped, and the rest resized to the original size the same way.

use crate::resample::{resize, Filter};
use image::RgbImage;

/// SAM's per-channel pixel mean and standard deviation (RGB, 0-255).
pub const PIXEL_MEAN: [f32; 3] = [123.675, 116.28, 103.53];
pub const PIXEL_STD: [f32; 3] = [58.395, 57.12, 57.375];

/// The reference's `get_preprocess_shape`: (height, width) with the longest side `long`.
pub fn preprocess_shape(h: usize, w: usize, long: usize) -> (usize, usize) {
    let scale = long as f64 / h.max(w) as f64;
    let nh = (h as f64 * scale + 0.5) as usize;
    let nw = (w as f64 * scale + 0.5) as usize;
    (nh, nw)
}

/// The image resized so its longest side is `long` pixels.
pub fn resize_longest(img: &RgbImage, long: usize) -> RgbImage {
    let (nh, nw) = preprocess_shape(img.height() as usize, img.width() as usize, long);
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = resize(img.as_raw(), (w, h), 3, (nw, nh), Filter::Bilinear);
    RgbImage::from_raw(nw as u32, nh as u32, raw)
        .unwrap_or_else(|| RgbImage::new(nw as u32, nh as u32))
}

/// The resized image as the encoder's input: (3, side, side) values, channel-major, normalised
/// and zero-padded at the bottom and right.
pub fn normalise_padded(resized: &RgbImage, side: usize) -> Vec<f32> {
    let (w, h) = (resized.width() as usize, resized.height() as usize);
    let mut out = vec![0f32; 3 * side * side];
    let raw = resized.as_raw();
    for c in 0..3 {
        let plane = &mut out[c * side * side..(c + 1) * side * side];
        for y in 0..h.min(side) {
            for x in 0..w.min(side) {
                let v = f32::from(raw[(y * w + x) * 3 + c]);
                plane[y * side + x] = (v - PIXEL_MEAN[c]) / PIXEL_STD[c];
            }
        }
    }
    out
}

/// A point in original pixels, in the resized image's coordinates (`apply_coords`).
pub fn scale_point(
    (x, y): (f64, f64),
    original: (usize, usize),
    input: (usize, usize),
) -> (f32, f32) {
    let (h, w) = original;
    let (nh, nw) = input;
    (
        (x * (nw as f64 / w as f64)) as f32,
        (y * (nh as f64 / h as f64)) as f32,
    )
}

/// Source indices and weights of a bilinear resize from `n_in` to `n_out`
/// (PyTorch's `upsample_bilinear2d` with `align_corners=False`, in f32).
fn linear_taps(n_in: usize, n_out: usize) -> Vec<(usize, usize, f32)> {
    let scale = n_in as f32 / n_out as f32;
    (0..n_out)
        .map(|o| {
            let real = (scale * (o as f32 + 0.5) - 0.5).max(0.0);
            let i0 = (real.floor() as usize).min(n_in - 1);
            let i1 = if i0 < n_in - 1 { i0 + 1 } else { i0 };
            let l1 = (real - i0 as f32).clamp(0.0, 1.0);
            (i0, i1, l1)
        })
        .collect()
}

/// A bilinear resize of a `(h, w)` plane to `(oh, ow)`: horizontal pass, then vertical. To
/// the same size every output is its input exactly (weight 1 on it, 0 on its neighbour).
fn resize_plane(src: &[f32], (h, w): (usize, usize), (oh, ow): (usize, usize)) -> Vec<f32> {
    if (h, w) == (oh, ow) {
        return src.to_vec();
    }
    let ty = linear_taps(h, oh);
    let tx = linear_taps(w, ow);
    let mut tmp = vec![0f32; h * ow];
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        for (x, &(i0, i1, l)) in tx.iter().enumerate() {
            tmp[y * ow + x] = (1.0 - l) * row[i0] + l * row[i1];
        }
    }
    let mut out = vec![0f32; oh * ow];
    for (y, &(i0, i1, l)) in ty.iter().enumerate() {
        let (a, b) = (&tmp[i0 * ow..(i0 + 1) * ow], &tmp[i1 * ow..(i1 + 1) * ow]);
        let dst = &mut out[y * ow..(y + 1) * ow];
        for x in 0..ow {
            dst[x] = (1.0 - l) * a[x] + l * b[x];
        }
    }
    out
}

/// The reference's `postprocess_masks` for one low-resolution mask (`low` x `low` logits):
/// upscaled to `side`, cropped to the resized image `input`, resized to `original`; logits.
pub fn postprocess(
    low_res: &[f32],
    low: usize,
    side: usize,
    input: (usize, usize),
    original: (usize, usize),
) -> Vec<f32> {
    let up = resize_plane(low_res, (low, low), (side, side));
    let (nh, nw) = input;
    let mut cropped = Vec::with_capacity(nh * nw);
    for y in 0..nh {
        cropped.extend_from_slice(&up[y * side..y * side + nw]);
    }
    resize_plane(&cropped, (nh, nw), original)
}

/// [`postprocess`] computing only the part of the `side` grid that the crop keeps.
pub fn postprocess_fast(
    low_res: &[f32],
    low: usize,
    side: usize,
    input: (usize, usize),
    original: (usize, usize),
) -> Vec<f32> {
    let (nh, nw) = input;
    let ty = linear_taps(low, side);
    let tx = linear_taps(low, side);
    // Only the rows and columns of the upsampled grid the crop keeps.
    let mut tmp = vec![0f32; low * nw];
    for y in 0..low {
        let row = &low_res[y * low..(y + 1) * low];
        for (x, &(i0, i1, l)) in tx.iter().take(nw).enumerate() {
            tmp[y * nw + x] = (1.0 - l) * row[i0] + l * row[i1];
        }
    }
    let mut cropped = vec![0f32; nh * nw];
    for (y, &(i0, i1, l)) in ty.iter().take(nh).enumerate() {
        let (a, b) = (&tmp[i0 * nw..(i0 + 1) * nw], &tmp[i1 * nw..(i1 + 1) * nw]);
        let dst = &mut cropped[y * nw..(y + 1) * nw];
        for x in 0..nw {
            dst[x] = (1.0 - l) * a[x] + l * b[x];
        }
    }
    resize_plane(&cropped, (nh, nw), original)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preprocess_shape_rounds_like_the_reference() {
        assert_eq!(preprocess_shape(78, 120, 1024), (666, 1024));
        assert_eq!(preprocess_shape(700, 1100, 1024), (652, 1024));
        assert_eq!(preprocess_shape(1024, 1024, 1024), (1024, 1024));
    }

    #[test]
    fn the_fast_path_equals_the_reference_order() {
        let low: Vec<f32> = (0..64 * 64)
            .map(|i| ((i * 37) % 101) as f32 / 7.0 - 6.0)
            .collect();
        let a = postprocess(&low, 64, 256, (170, 256), (51, 77));
        let b = postprocess_fast(&low, 64, 256, (170, 256), (51, 77));
        assert_eq!(a, b);
    }

    #[test]
    fn normalising_pads_with_zeros() {
        let img = RgbImage::from_pixel(3, 2, image::Rgb([255, 0, 128]));
        let t = normalise_padded(&img, 4);
        assert!((t[0] - (255.0 - 123.675) / 58.395).abs() < 1e-6);
        assert_eq!(t[3], 0.0);
        assert_eq!(t[2 * 4], 0.0);
    }
}
