//! Images in and out of the model, as the reference's `VaeImageProcessor` prepares them: sides
//! floored to whole latent patches, Pillow's Lanczos resize, [−1, 1] NCHW tensors, and masks
//! resized the same way then binarized at one half.
//!
//! What zedit adds, outside the compared stages: the model's output, made at the floored size,
//! is resized back to the caller's original size by [`restore_size`].

use super::EngineError;

fn err(e: candle_core::Error) -> EngineError {
    super::candle_error("decoded image", e)
}
use crate::resample::{resize, Filter};
use candle_core::{DType, Device, Tensor};
use image::imageops::FilterType;
use image::{GrayImage, RgbImage};

/// Pixels per transformer patch: VAE factor 8 times patch size 2.
pub const PATCH_PIXELS: u32 = 16;

/// The size the model runs at for an image of `w`×`h`: each side floored to a multiple of 16,
/// as the reference's `get_default_height_width` does. Sides below 16 are refused.
pub fn model_size(w: u32, h: u32) -> Result<(u32, u32), EngineError> {
    if w < PATCH_PIXELS || h < PATCH_PIXELS {
        return Err(EngineError::BadInput(format!(
            "image is {w}x{h}; zimage needs at least {PATCH_PIXELS}x{PATCH_PIXELS} pixels (one latent patch)"
        )));
    }
    let floor = |v: u32| v - v % PATCH_PIXELS;
    Ok((floor(w), floor(h)))
}

/// Pillow's LANCZOS resize of `raw` (`channels` per pixel) when the size changes.
fn resized(raw: &[u8], from: (u32, u32), channels: usize, to: (u32, u32)) -> Vec<u8> {
    if from == to {
        return raw.to_vec();
    }
    let dims = |(w, h): (u32, u32)| (w as usize, h as usize);
    resize(raw, dims(from), channels, dims(to), Filter::Lanczos)
}

/// RGB image (resized to `size` when needed) → [1, 3, H, W] in [−1, 1]: png/255·2 − 1.
pub fn image_tensor(
    img: &RgbImage,
    size: (u32, u32),
    device: &Device,
) -> Result<Tensor, EngineError> {
    let px = resized(img.as_raw(), img.dimensions(), 3, size);
    let (w, h) = (size.0 as usize, size.1 as usize);
    let mut v = vec![0f32; 3 * h * w];
    for (i, p) in px.chunks_exact(3).enumerate() {
        for c in 0..3 {
            v[c * h * w + i] = p[c] as f32 / 255.0 * 2.0 - 1.0;
        }
    }
    Tensor::from_vec(v, (1, 3, h, w), device)
        .map_err(|e| EngineError::Internal(format!("image: {e}")))
}

/// Grayscale mask (resized to `size` like the image) → [1, 1, H, W] of 0/1, 1 where
/// value/255 ≥ 0.5. The reference resizes before converting to grayscale; zedit's masks are
/// grayscale already, so the two orders agree.
pub fn mask_tensor(
    mask: &GrayImage,
    size: (u32, u32),
    device: &Device,
) -> Result<Tensor, EngineError> {
    let px = resized(mask.as_raw(), mask.dimensions(), 1, size);
    let v: Vec<f32> = px
        .iter()
        .map(|&p| if p as f32 / 255.0 >= 0.5 { 1.0 } else { 0.0 })
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

/// zedit's own last stage: resizes the model's output back to the caller's size.
pub fn restore_size(img: RgbImage, size: (u32, u32)) -> RgbImage {
    if img.dimensions() == size {
        img
    } else {
        image::imageops::resize(&img, size.0, size.1, FilterType::Lanczos3)
    }
}

/// clamp(x/2 + 0.5, 0, 1) of a decoder output [1, 3, H, W], as [3, H, W] f32 on the CPU.
pub fn unit_image(decoded: &Tensor) -> Result<Tensor, EngineError> {
    ((decoded.to_dtype(DType::F32).map_err(err)? / 2.0).map_err(err)? + 0.5)
        .and_then(|t| t.clamp(0f32, 1f32))
        .and_then(|t| t.squeeze(0))
        .and_then(|t| t.to_device(&Device::Cpu))
        .map_err(err)
}

/// A decoder output as an RGB image of u8 = round(255·clamp(x/2 + 0.5, 0, 1)).
pub fn decoded_rgb(decoded: &Tensor) -> Result<RgbImage, EngineError> {
    let img = unit_image(decoded)?;
    let (_, h, w) = img.dims3().map_err(err)?;
    let v: Vec<f32> = img
        .permute((1, 2, 0))
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1())
        .map_err(err)?;
    let bytes = v.iter().map(|x| (x * 255.0).round() as u8).collect();
    RgbImage::from_raw(w as u32, h as u32, bytes)
        .ok_or_else(|| EngineError::Internal("decoded image has the wrong size".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_floor_to_patches_and_tiny_images_are_refused() {
        assert_eq!(model_size(64, 64).unwrap(), (64, 64));
        assert_eq!(model_size(100, 57).unwrap(), (96, 48));
        assert_eq!(model_size(100, 60).unwrap(), (96, 48));
        assert_eq!(model_size(16, 31).unwrap(), (16, 16));
        let e = model_size(15, 64).unwrap_err();
        assert!(e.to_string().contains("15x64"), "{e}");
    }
}
