//! The mask an op works inside: the request's mask file, or a soft rectangle from `--region`,
//! grown and feathered as the params ask.

use super::super::{EditRequest, EngineError};
use image::GrayImage;

/// The effective mask for `req`, or `None` when the op applies to the whole image.
pub fn resolve(req: &EditRequest) -> Result<Option<GrayImage>, EngineError> {
    let (w, h) = req.image.dimensions();
    let base = match (&req.mask, req.params.region) {
        (Some(m), _) => {
            if m.dimensions() != (w, h) {
                return Err(EngineError::BadInput(format!(
                    "mask is {}x{} but the image is {w}x{h}; masks must match the image size",
                    m.width(),
                    m.height()
                )));
            }
            m.clone()
        }
        (None, Some(region)) => {
            let r = region.rect_in(w, h);
            let mut m = GrayImage::new(w, h);
            for y in r.y..r.y + r.h {
                for x in r.x..r.x + r.w {
                    m.put_pixel(x, y, image::Luma([255]));
                }
            }
            m
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(base))
}
