//! Delete: removes what the mask covers by inpainting it from its surroundings.

use super::super::{EditRequest, EngineError, Flow, Progress};
use super::inpaint::{inpaint, Options};
use image::{GrayImage, RgbImage};

const NO_MASK: &str = "delete needs a mask: give --mask FILE or --region";

/// Inpaints every pixel the mask touches and blends the fill in by the mask's value, so a soft
/// (feathered) edge fades into the original with no seam; unmasked pixels keep their bytes.
/// Progress goes to `on_step` after every stage; `Flow::Cancel` stops the run there.
pub fn run(
    req: &EditRequest,
    mask: Option<&GrayImage>,
    on_step: &mut dyn FnMut(Progress) -> Flow,
) -> Result<RgbImage, EngineError> {
    let mask = mask.ok_or_else(|| EngineError::BadInput(NO_MASK.into()))?;
    let (w, h) = req.image.dimensions();
    if mask.dimensions() != (w, h) {
        return Err(EngineError::BadInput(format!(
            "mask is {}x{} but the image is {w}x{h}; masks must match the image size",
            mask.width(),
            mask.height()
        )));
    }
    let touched = mask.pixels().filter(|p| p.0[0] > 0).count();
    if touched == 0 {
        return Err(EngineError::BadInput(format!(
            "{NO_MASK} (the mask given is empty: every pixel is black)"
        )));
    }
    if touched == mask.pixels().len() {
        return Err(EngineError::BadInput(
            "the delete mask covers the whole image, so nothing is left to fill it from: \
             mask only the object to remove"
                .into(),
        ));
    }
    // Any non-zero value is part of the hole: the soft edge of a feathered mask often still
    // holds some of the object, so it is filled too (as partly known) and only the blend
    // weight is soft.
    let filled = inpaint(
        &req.image,
        mask,
        Options::with_seed(req.params.seed),
        &mut |step, total| on_step(Progress { step, total }) == Flow::Continue,
    )
    .map_err(|_| EngineError::Cancelled)?;
    Ok(blend(&req.image, &filled, mask))
}

/// `fill * m + image * (1 - m)` with `m` the mask in [0, 1], rounded; exact where m is 0 or 255.
fn blend(image: &RgbImage, fill: &RgbImage, mask: &GrayImage) -> RgbImage {
    let mut out = image.clone();
    for ((o, f), m) in out.pixels_mut().zip(fill.pixels()).zip(mask.pixels()) {
        let m = u32::from(m.0[0]);
        if m == 0 {
            continue;
        }
        for c in 0..3 {
            let v = (u32::from(f.0[c]) * m + u32::from(o.0[c]) * (255 - m) + 127) / 255;
            o.0[c] = v as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blend_is_exact_at_the_ends_and_mixes_between() {
        let img = RgbImage::from_pixel(3, 1, image::Rgb([0, 100, 200]));
        let fill = RgbImage::from_pixel(3, 1, image::Rgb([255, 0, 100]));
        let mask = GrayImage::from_raw(3, 1, vec![0, 255, 128]).unwrap();
        let out = blend(&img, &fill, &mask);
        assert_eq!(out.get_pixel(0, 0).0, [0, 100, 200]);
        assert_eq!(out.get_pixel(1, 0).0, [255, 0, 100]);
        assert_eq!(out.get_pixel(2, 0).0, [128, 50, 150]);
    }
}
