//! Exemplar-based inpainting: a membrane fill carries the low frequencies (gradients, shading)
//! and multi-scale PatchMatch synthesis of the high-pass residual carries the texture.

mod level;
mod patchmatch;
mod plane;
mod smooth;
mod synth;
mod vote;

use image::{GrayImage, RgbImage};
use plane::Plane;

/// Scale (in pixels) that splits structure from texture: detail finer than this is synthesised
/// from patches, coarser variation comes from the membrane fill. Large enough to leave whole
/// bricks and tiles to the patches, small enough to follow shading.
const BASE_SIGMA: f32 = 12.0;

/// Fills the pixels where `hole` is non-zero from the rest of `image`; every other pixel is
/// returned unchanged. The same inputs and `seed` give the same bytes on every machine.
pub fn inpaint(image: &RgbImage, hole: &GrayImage, seed: u64) -> RgbImage {
    let mut out = image.clone();
    let Some((x0, y0, x1, y1)) = bounding_box(hole) else {
        return out;
    };
    // Work on a crop around the hole: the texture to copy is near it, and the cost then
    // follows the hole's size rather than the image's.
    let side = (x1 - x0).max(y1 - y0);
    let margin = (side / 2 + 16).max(40);
    let (cx0, cy0) = (x0.saturating_sub(margin), y0.saturating_sub(margin));
    let (cx1, cy1) = (
        (x1 + margin).min(image.width()),
        (y1 + margin).min(image.height()),
    );
    let (w, h) = ((cx1 - cx0) as usize, (cy1 - cy0) as usize);

    let mut filled = Plane::new(w, h);
    let mut in_hole = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let (ix, iy) = (cx0 + x as u32, cy0 + y as u32);
            let p = image.get_pixel(ix, iy).0;
            filled.px[y * w + x] = [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])];
            in_hole[y * w + x] = hole.get_pixel(ix, iy).0[0] > 0;
        }
    }
    smooth::membrane_fill(&mut filled, &in_hole);
    let base = smooth::blur(&filled, BASE_SIGMA);
    let mut residual = filled.clone();
    for (r, b) in residual.px.iter_mut().zip(&base.px) {
        for c in 0..3 {
            r[c] = shrink(r[c] - b[c]);
        }
    }
    synth::synthesize(&mut residual, &in_hole, seed);

    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if in_hole[i] {
                let (r, b) = (residual.px[i], base.px[i]);
                let v = |c: usize| (r[c] + b[c]).round().clamp(0.0, 255.0) as u8;
                out.put_pixel(
                    cx0 + x as u32,
                    cy0 + y as u32,
                    image::Rgb([v(0), v(1), v(2)]),
                );
            }
        }
    }
    out
}

/// Soft-thresholds a residual by half a grey level. On smooth areas the residual is only the
/// 8-bit rounding of the source; copying that elsewhere would add rounding noise, not texture.
fn shrink(v: f32) -> f32 {
    let t = 0.5;
    if v > t {
        v - t
    } else if v < -t {
        v + t
    } else {
        0.0
    }
}

/// Inclusive-exclusive bounding box of the non-zero pixels.
fn bounding_box(m: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in m.enumerate_pixels() {
        if p.0[0] > 0 {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
        }
    }
    (x0 != u32::MAX).then_some((x0, y0, x1, y1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb};

    fn stripes(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            if (x + y) % 12 < 6 {
                Rgb([30, 60, 200])
            } else {
                Rgb([220, 200, 40])
            }
        })
    }

    fn square_hole(w: u32, h: u32, x0: u32, y0: u32, s: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            let inside = (x0..x0 + s).contains(&x) && (y0..y0 + s).contains(&y);
            Luma([if inside { 255 } else { 0 }])
        })
    }

    #[test]
    fn continues_a_periodic_texture_through_the_hole() {
        let truth = stripes(120, 100);
        let hole = square_hole(120, 100, 45, 35, 24);
        let mut img = truth.clone();
        for (x, y, m) in hole.enumerate_pixels() {
            if m.0[0] > 0 {
                img.put_pixel(x, y, Rgb([255, 0, 255]));
            }
        }
        let out = inpaint(&img, &hole, 5);
        let (mut se, mut n) = (0.0f64, 0.0f64);
        for (x, y, m) in hole.enumerate_pixels() {
            if m.0[0] > 0 {
                for c in 0..3 {
                    let d =
                        f64::from(out.get_pixel(x, y).0[c]) - f64::from(truth.get_pixel(x, y).0[c]);
                    se += d * d;
                    n += 1.0;
                }
            }
        }
        let psnr = 10.0 * (255.0f64 * 255.0 / (se / n).max(1e-9)).log10();
        assert!(psnr > 25.0, "PSNR inside the hole {psnr:.1} dB");
    }

    #[test]
    fn empty_hole_changes_nothing() {
        let img = stripes(20, 20);
        assert_eq!(inpaint(&img, &GrayImage::new(20, 20), 0), img);
    }

    #[test]
    fn bounding_box_is_tight() {
        let hole = square_hole(50, 40, 10, 12, 5);
        assert_eq!(bounding_box(&hole), Some((10, 12, 15, 17)));
    }
}
