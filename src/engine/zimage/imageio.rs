//! Images in and out of the model: sizes rounded to whole latent patches, [−1, 1] NCHW tensors,
//! masks binarized at one half as the reference's mask processor does.

use super::EngineError;
use candle_core::{Device, Tensor};
use image::imageops::FilterType;
use image::{GrayImage, RgbImage};

/// Pixels per transformer patch: VAE factor 8 times patch size 2.
pub const PATCH_PIXELS: u32 = 16;

/// The size the model runs at for an image of `w`×`h`: each side rounded to the nearest multiple
/// of 16 (at least 16). Sides below 16 are refused.
pub fn model_size(w: u32, h: u32) -> Result<(u32, u32), EngineError> {
    if w < PATCH_PIXELS || h < PATCH_PIXELS {
        return Err(EngineError::BadInput(format!(
            "image is {w}x{h}; zimage needs at least {PATCH_PIXELS}x{PATCH_PIXELS} pixels (one latent patch)"
        )));
    }
    let round = |v: u32| ((v + PATCH_PIXELS / 2) / PATCH_PIXELS).max(1) * PATCH_PIXELS;
    Ok((round(w), round(h)))
}

/// RGB image (resized to `size` when needed) → [1, 3, H, W] in [−1, 1]: png/255·2 − 1.
pub fn image_tensor(
    img: &RgbImage,
    size: (u32, u32),
    device: &Device,
) -> Result<Tensor, EngineError> {
    let resized;
    let img = if img.dimensions() != size {
        resized = image::imageops::resize(img, size.0, size.1, FilterType::Lanczos3);
        &resized
    } else {
        img
    };
    let (w, h) = (size.0 as usize, size.1 as usize);
    let mut v = vec![0f32; 3 * h * w];
    for (x, y, p) in img.enumerate_pixels() {
        for c in 0..3 {
            v[c * h * w + y as usize * w + x as usize] = p[c] as f32 / 255.0 * 2.0 - 1.0;
        }
    }
    Tensor::from_vec(v, (1, 3, h, w), device)
        .map_err(|e| EngineError::Internal(format!("image: {e}")))
}

/// Mask (nearest-resized to `size`) → [1, 1, H, W] of 0/1, 1 where value/255 ≥ 0.5.
pub fn mask_tensor(
    mask: &GrayImage,
    size: (u32, u32),
    device: &Device,
) -> Result<Tensor, EngineError> {
    let resized;
    let mask = if mask.dimensions() != size {
        resized = image::imageops::resize(mask, size.0, size.1, FilterType::Nearest);
        &resized
    } else {
        mask
    };
    let v: Vec<f32> = mask
        .pixels()
        .map(|p| if p[0] as f32 / 255.0 >= 0.5 { 1.0 } else { 0.0 })
        .collect();
    Tensor::from_vec(v, (1, 1, size.1 as usize, size.0 as usize), device)
        .map_err(|e| EngineError::Internal(format!("mask: {e}")))
}

/// Checks a mask against its image: same size and something to repaint.
pub fn check_mask(img: &RgbImage, mask: &GrayImage) -> Result<(), EngineError> {
    if img.dimensions() != mask.dimensions() {
        return Err(EngineError::BadInput(format!(
            "mask is {}x{} but the image is {}x{}; give a mask of the image's size",
            mask.width(),
            mask.height(),
            img.width(),
            img.height()
        )));
    }
    if !mask.pixels().any(|p| p[0] >= 128) {
        return Err(EngineError::BadInput(
            "mask has no pixel at or above 50% white, so nothing would be repainted; \
             paint the area to change in white"
                .into(),
        ));
    }
    Ok(())
}

/// Resizes the model's output back to the caller's size.
pub fn restore_size(img: RgbImage, size: (u32, u32)) -> RgbImage {
    if img.dimensions() == size {
        img
    } else {
        image::imageops::resize(&img, size.0, size.1, FilterType::Lanczos3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_to_patches_and_tiny_images_are_refused() {
        assert_eq!(model_size(64, 64).unwrap(), (64, 64));
        assert_eq!(model_size(100, 57).unwrap(), (96, 64));
        assert_eq!(model_size(16, 23).unwrap(), (16, 16));
        let e = model_size(15, 64).unwrap_err();
        assert!(e.to_string().contains("15x64"), "{e}");
    }
}
