//! A candidate mask as CLIP sees it: the mask's box cut from the image, the pixels outside
//! the mask painted CLIP's mean grey, padded to a square with the same grey (the box centred),
//! then as the reference `ChineseCLIPImageProcessor` (Pillow backend) prepares an image:
//! resized to the model's side with Pillow's bicubic, scaled to 0..1 and normalised by
//! CLIP's mean and std.

use crate::resample::{resize, Filter};
use image::{GrayImage, RgbImage};

/// OpenAI CLIP's per-channel mean and std (0..1), which Chinese-CLIP keeps.
pub const CLIP_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
pub const CLIP_STD: [f32; 3] = [0.268_629_54, 0.261_302_6, 0.275_777_1];

/// The grey outside the mask: CLIP's mean in 8 bits (123, 117, 104).
pub fn fill() -> [u8; 3] {
    CLIP_MEAN.map(|m| (m * 255.0).round() as u8)
}

/// The square crop of the mask's box (`bbox`: x0, y0, x1, y1, inclusive) with the outside
/// painted `fill`.
pub fn masked_crop(image: &RgbImage, mask: &GrayImage, bbox: [u32; 4], fill: [u8; 3]) -> RgbImage {
    let [x0, y0, x1, y1] = bbox;
    let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
    let side = w.max(h);
    let (ox, oy) = ((side - w) / 2, (side - h) / 2);
    let mut out = RgbImage::from_pixel(side, side, image::Rgb(fill));
    for y in 0..h {
        for x in 0..w {
            let (sx, sy) = (x0 + x, y0 + y);
            if mask.get_pixel(sx, sy).0[0] > 0 {
                out.put_pixel(ox + x, oy + y, *image.get_pixel(sx, sy));
            }
        }
    }
    out
}

/// The processor's pixel values of a square crop: (3, side, side), channel-major.
pub fn pixel_values(crop: &RgbImage, side: usize) -> Vec<f32> {
    let (w, h) = (crop.width() as usize, crop.height() as usize);
    let resized = resize(crop.as_raw(), (w, h), 3, (side, side), Filter::Bicubic);
    let mut out = vec![0f32; 3 * side * side];
    for c in 0..3 {
        let plane = &mut out[c * side * side..(c + 1) * side * side];
        for (i, v) in plane.iter_mut().enumerate() {
            let x = f32::from(resized[i * 3 + c]) / 255.0;
            *v = (x - CLIP_MEAN[c]) / CLIP_STD[c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crop_is_square_with_grey_outside_the_mask() {
        let image = RgbImage::from_pixel(10, 8, image::Rgb([200, 10, 10]));
        let mut mask = GrayImage::new(10, 8);
        for x in 2..8 {
            mask.put_pixel(x, 3, image::Luma([255]));
        }
        mask.put_pixel(4, 5, image::Luma([255]));
        let crop = masked_crop(&image, &mask, [2, 3, 7, 5], fill());
        assert_eq!(crop.dimensions(), (6, 6));
        // Rows 3..=5 of the image sit at rows 1..=3 of the square.
        assert_eq!(crop.get_pixel(0, 1).0, [200, 10, 10]);
        assert_eq!(crop.get_pixel(0, 2).0, fill());
        assert_eq!(crop.get_pixel(2, 3).0, [200, 10, 10]);
        assert_eq!(crop.get_pixel(0, 0).0, [123, 117, 104]);
        let px = pixel_values(&crop, 4);
        assert_eq!(px.len(), 48);
    }
}
