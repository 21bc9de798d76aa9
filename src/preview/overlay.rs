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
        Overlay::Mask { .. } => None,
    };
    let Some(mask) = drawn.as_ref().or(mask) else {
        return;
    };
    if mask.dimensions() != (w, h) {
        return;
    }
    for (p, m) in img.pixels_mut().zip(mask.pixels()) {
        if m.0[0] > 127 {
            tint(p);
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
}
