//! Pillow's bilinear resize of 8-bit RGB images, reproduced exactly: SAM's reference resizes
//! the longest side to 1024 with `PIL.Image.resize(size, BILINEAR)` (through torchvision), so
//! the encoder sees the same pixels only if this matches. Separable (horizontal, then
//! vertical); the triangle filter widens with the scale when shrinking; coefficients are
//! normalised per output pixel and rounded to 22-bit fixed point, as Pillow does for 8 bits.

use image::RgbImage;

/// Fraction bits of the fixed-point coefficients (32 − 8 − 2, as Pillow uses for 8-bit data).
const PRECISION_BITS: u32 = 22;

fn triangle(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        1.0 - x
    } else {
        0.0
    }
}

/// For each output index: the first input index, and the fixed-point weights from there.
fn coefficients(in_size: usize, out_size: usize) -> Vec<(usize, Vec<i32>)> {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = filter_scale;
    let inv = 1.0 / filter_scale;
    (0..out_size)
        .map(|o| {
            let center = (o as f64 + 0.5) * scale;
            // C's (int) truncation, then clamped to the image.
            let lo = ((center - support + 0.5) as i64).max(0) as usize;
            let hi = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let w: Vec<f64> = (lo..hi)
                .map(|x| triangle((x as f64 - center + 0.5) * inv))
                .collect();
            let total: f64 = w.iter().sum();
            let fixed = w
                .iter()
                .map(|&v| {
                    let v = if total != 0.0 { v / total } else { v };
                    let v = v * f64::from(1u32 << PRECISION_BITS);
                    (if v < 0.0 { v - 0.5 } else { v + 0.5 }) as i32
                })
                .collect();
            (lo, fixed)
        })
        .collect()
}

fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// `img` resized to `w`x`h` as Pillow's `resize((w, h), Image.BILINEAR)` does.
pub fn bilinear_resize(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    let (iw, ih) = (img.width() as usize, img.height() as usize);
    let (ow, oh) = (w as usize, h as usize);
    let src = img.as_raw();
    let half = 1i64 << (PRECISION_BITS - 1);
    // Pillow skips a pass whose size does not change.
    let horizontal: Vec<u8> = if ow == iw {
        src.clone()
    } else {
        let cx = coefficients(iw, ow);
        let mut out = vec![0u8; ow * ih * 3];
        for y in 0..ih {
            let row = &src[y * iw * 3..(y + 1) * iw * 3];
            for (x, (lo, k)) in cx.iter().enumerate() {
                for c in 0..3 {
                    let mut acc = half;
                    for (i, &kv) in k.iter().enumerate() {
                        acc += i64::from(kv) * i64::from(row[(lo + i) * 3 + c]);
                    }
                    out[(y * ow + x) * 3 + c] = clip8(acc);
                }
            }
        }
        out
    };
    let out = if oh == ih {
        horizontal
    } else {
        let cy = coefficients(ih, oh);
        let mut out = vec![0u8; ow * oh * 3];
        for (y, (lo, k)) in cy.iter().enumerate() {
            for x in 0..ow * 3 {
                let mut acc = half;
                for (i, &kv) in k.iter().enumerate() {
                    acc += i64::from(kv) * i64::from(horizontal[(lo + i) * ow * 3 + x]);
                }
                out[y * ow * 3 + x] = clip8(acc);
            }
        }
        out
    };
    RgbImage::from_raw(w, h, out).unwrap_or_else(|| RgbImage::new(w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_and_identity_is_kept() {
        for (i, o) in [(120, 1024), (1100, 1024), (7, 3)] {
            for (_, k) in coefficients(i, o) {
                let s: i32 = k.iter().sum();
                assert!(
                    (s - (1 << PRECISION_BITS)).abs() <= k.len() as i32,
                    "{i}->{o}"
                );
            }
        }
        let img = RgbImage::from_fn(5, 4, |x, y| image::Rgb([x as u8 * 40, y as u8 * 50, 7]));
        assert_eq!(bilinear_resize(&img, 5, 4), img);
    }
}
