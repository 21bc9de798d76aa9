//! Tinting a region (rectangle, ellipse or mask) over a downscaled preview.
//!
//! The overlay is applied after downscaling, so it costs a pass over the pane's pixels rather
//! than the full-size image, and one cached downscale serves every overlay of the same image.

use image::{GrayImage, Rgba, RgbaImage};

use super::Overlay;

/// The tint colour and its opacity: a saturated magenta stays visible on skin, sky and foliage.
const TINT: [u8; 3] = [255, 0, 170];
const ALPHA: u32 = 115; // of 255, about 45 %

fn tint(p: &mut Rgba<u8>) {
    for (channel, tint) in p.0.iter_mut().zip(TINT) {
        let base = u32::from(*channel);
        *channel = ((base * (255 - ALPHA) + u32::from(tint) * ALPHA + 127) / 255) as u8;
    }
}

/// Tints `overlay` onto `img`, a downscale of an image `original` pixels in size.
/// `mask` is the mask overlay's image already resized to `img`'s size.
pub(crate) fn apply(
    img: &mut RgbaImage,
    original: (u32, u32),
    overlay: &Overlay,
    mask: Option<&GrayImage>,
) {
    let (w, h) = img.dimensions();
    let drawn = match overlay {
        Overlay::Spec(spec) => crate::mask::preview(spec, original, (w, h)),
        Overlay::Mask { .. } | Overlay::Clicks { .. } => None,
    };
    if let Some(mask) = drawn.as_ref().or(mask) {
        if mask.dimensions() == (w, h) {
            for (p, m) in img.pixels_mut().zip(mask.pixels()) {
                if m.0[0] > 127 {
                    tint(p);
                }
            }
        }
    }
    if let Overlay::Clicks { points, cursor, .. } = overlay {
        let at = |(x, y): (u32, u32)| {
            (
                (u64::from(x) * u64::from(w) / u64::from(original.0.max(1))) as i64,
                (u64::from(y) * u64::from(h) / u64::from(original.1.max(1))) as i64,
            )
        };
        let arm = i64::from((w.max(h) / 40).max(2));
        for p in points {
            let colour = if p.positive {
                [40, 220, 60, 255]
            } else {
                [235, 40, 40, 255]
            };
            dot(img, at((p.x, p.y)), arm / 2, colour);
        }
        cross(img, at(*cursor), arm);
    }
}

fn put(img: &mut RgbaImage, x: i64, y: i64, colour: [u8; 4]) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, Rgba(colour));
    }
}

/// A filled square marker of half-width `r`, outlined in black so it shows on any colour.
fn dot(img: &mut RgbaImage, (cx, cy): (i64, i64), r: i64, colour: [u8; 4]) {
    let r = r.max(1);
    for dy in -r - 1..=r + 1 {
        for dx in -r - 1..=r + 1 {
            let edge = dx.abs() > r || dy.abs() > r;
            put(
                img,
                cx + dx,
                cy + dy,
                if edge { [0, 0, 0, 255] } else { colour },
            );
        }
    }
}

/// The crosshair: white arms with a black outline, open at the centre.
fn cross(img: &mut RgbaImage, (cx, cy): (i64, i64), arm: i64) {
    for d in 2..=arm {
        for (x, y) in [(cx + d, cy), (cx - d, cy), (cx, cy + d), (cx, cy - d)] {
            for (ox, oy) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
                put(img, x + ox, y + oy, [0, 0, 0, 255]);
            }
        }
    }
    for d in 2..=arm {
        for (x, y) in [(cx + d, cy), (cx - d, cy), (cx, cy + d), (cx, cy - d)] {
            put(img, x, y, [255, 255, 255, 255]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{MaskShape, MaskSpec, Rect};
    use image::Luma;

    fn blue(w: u32, h: u32) -> RgbaImage {
        RgbaImage::from_pixel(w, h, Rgba([0, 0, 255, 255]))
    }

    #[test]
    fn rect_is_scaled_to_the_preview() {
        let mut img = blue(10, 10);
        let rect = Overlay::Spec(MaskSpec::new(MaskShape::rect(Rect {
            x: 0,
            y: 0,
            w: 50,
            h: 100,
        })));
        apply(&mut img, (100, 100), &rect, None);
        assert_ne!(img.get_pixel(2, 5), &Rgba([0, 0, 255, 255]));
        assert_eq!(img.get_pixel(7, 5), &Rgba([0, 0, 255, 255]));
        assert!(img.get_pixel(2, 5).0[0] > 100, "tinted towards magenta");
    }

    #[test]
    fn ellipse_leaves_corners_alone() {
        let mut img = blue(20, 20);
        let ellipse = Overlay::Spec(MaskSpec::new(MaskShape::ellipse(Rect {
            x: 0,
            y: 0,
            w: 20,
            h: 20,
        })));
        apply(&mut img, (20, 20), &ellipse, None);
        assert_eq!(img.get_pixel(0, 0), &Rgba([0, 0, 255, 255]));
        assert_ne!(img.get_pixel(10, 10), &Rgba([0, 0, 255, 255]));
    }

    #[test]
    fn mask_tints_bright_pixels_only() {
        let mut img = blue(2, 1);
        let mut mask = GrayImage::new(2, 1);
        mask.put_pixel(1, 0, Luma([255]));
        let overlay = Overlay::Mask { blake3: [0; 32] };
        apply(&mut img, (2, 1), &overlay, Some(&mask));
        assert_eq!(img.get_pixel(0, 0), &Rgba([0, 0, 255, 255]));
        assert_ne!(img.get_pixel(1, 0), &Rgba([0, 0, 255, 255]));
    }

    #[test]
    fn clicks_draw_the_candidate_the_points_and_the_crosshair_scaled() {
        let mut img = blue(100, 50);
        let mut mask = GrayImage::new(100, 50);
        mask.put_pixel(90, 40, Luma([255]));
        let overlay = Overlay::Clicks {
            mask: Some([0; 32]),
            points: vec![
                crate::core::MaskPoint {
                    x: 180,
                    y: 20,
                    positive: true,
                },
                crate::core::MaskPoint {
                    x: 20,
                    y: 80,
                    positive: false,
                },
            ],
            cursor: (100, 50),
        };
        // The image is 200x100, the preview half that.
        apply(&mut img, (200, 100), &overlay, Some(&mask));
        assert!(img.get_pixel(90, 40).0[0] > 100, "the candidate is tinted");
        assert_eq!(img.get_pixel(90, 10).0, [40, 220, 60, 255]);
        assert_eq!(img.get_pixel(10, 40).0, [235, 40, 40, 255]);
        assert_eq!(
            img.get_pixel(52, 25).0,
            [255, 255, 255, 255],
            "crosshair arm"
        );
        assert_eq!(img.get_pixel(50, 25).0, [0, 0, 255, 255], "open centre");
        assert_eq!(img.get_pixel(5, 5).0, [0, 0, 255, 255]);
    }
}
