//! The mask an op works inside: the request's mask file, or a soft rectangle from `--region`,
//! grown and feathered as the params ask. Every filter is separable with running windows, so the
//! cost does not depend on the radius (1 MP in a few milliseconds).

use super::super::{EditRequest, EngineError};
use crate::core::Rect;
use crate::mask::{feather, grow};
use image::GrayImage;

/// The effective mask for `req`, or `None` when the op applies to the whole image.
pub fn resolve(req: &EditRequest) -> Result<Option<GrayImage>, EngineError> {
    let (w, h) = req.image.dimensions();
    let mut mask = match (&req.mask, req.params.region) {
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
            if r.w == 0 || r.h == 0 {
                return Err(EngineError::BadInput(format!(
                    "region '{region}' lies outside the {w}x{h} image; give a region inside it"
                )));
            }
            soft_rect(w, h, r)
        }
        (None, None) => return Ok(None),
    };
    grow(&mut mask, req.params.grow);
    feather(&mut mask, req.params.feather);
    if mask.as_raw().iter().all(|&v| v == 0) {
        return Err(EngineError::BadInput(
            "the mask is empty (all black), so nothing would change; paint white where the edit \
             goes"
                .into(),
        ));
    }
    Ok(Some(mask))
}

/// A rectangle mask whose inner edges fade over a width proportional to the rectangle, so a
/// region edit never leaves a visible seam. Edges on the image border stay hard.
pub fn soft_rect(width: u32, height: u32, r: Rect) -> GrayImage {
    let soft = (r.w.min(r.h) / 8).clamp(1, 48);
    let px = profile(width, r.x, r.w, soft);
    let py = profile(height, r.y, r.h, soft);
    let mut m = GrayImage::new(width, height);
    for (row, &vy) in m.as_mut().chunks_exact_mut(width as usize).zip(&py) {
        for (out, &vx) in row.iter_mut().zip(&px) {
            *out = ((vx as u32 * vy as u32 + 127) / 255) as u8;
        }
    }
    m
}

/// One axis of a soft rectangle: 255 inside `[start, start + len)`, a linear ramp `soft` pixels
/// wide centred on each inner edge, 0 beyond.
fn profile(size: u32, start: u32, len: u32, soft: u32) -> Vec<u8> {
    let end = start + len;
    let ramp = |d: i64| -> u32 {
        // d: signed distance (in half-pixels) inside the edge; the ramp spans [-soft, soft].
        let s = soft as i64;
        ((d + s).clamp(0, 2 * s) * 255 / (2 * s)) as u32
    };
    (0..size)
        .map(|x| {
            let c = 2 * x as i64 + 1;
            let lo = if start == 0 {
                255
            } else {
                ramp(c - 2 * start as i64)
            };
            let hi = if end >= size {
                255
            } else {
                ramp(2 * end as i64 - c)
            };
            lo.min(hi) as u8
        })
        .collect()
}

/// How much of the image the mask covers, as (pixels fully or partly inside, all pixels).
pub fn coverage(mask: &GrayImage) -> (usize, usize) {
    let inside = mask.as_raw().iter().filter(|&&v| v > 0).count();
    (inside, mask.as_raw().len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{EditParams, Op, Region};
    use image::RgbImage;

    fn req(mask: Option<GrayImage>, params: EditParams) -> EditRequest {
        EditRequest {
            op: Op::Relight,
            instruction: String::new(),
            image: RgbImage::new(40, 30),
            mask,
            overlay: None,
            params,
            recipe: None,
        }
    }

    #[test]
    fn region_makes_a_soft_rectangle() {
        let p = EditParams {
            region: Some(Region::Left),
            ..Default::default()
        };
        let m = resolve(&req(None, p)).unwrap().unwrap();
        assert_eq!(m.get_pixel(0, 15).0[0], 255);
        assert_eq!(m.get_pixel(39, 15).0[0], 0);
        let mid = m.get_pixel(20, 15).0[0];
        assert!(mid > 0 && mid < 255, "edge should be soft, got {mid}");
        let r: Region = "10,10,10,10".parse().unwrap();
        let m = resolve(&req(
            None,
            EditParams {
                region: Some(r),
                ..Default::default()
            },
        ))
        .unwrap();
        let m = m.unwrap();
        assert_eq!(m.get_pixel(15, 15).0[0], 255);
        assert_eq!(m.get_pixel(2, 2).0[0], 0);
    }

    #[test]
    fn rejects_wrong_size_and_empty_masks() {
        let err = resolve(&req(Some(GrayImage::new(5, 5)), EditParams::default())).unwrap_err();
        assert!(err.to_string().contains("5x5") && err.to_string().contains("40x30"));
        let err = resolve(&req(Some(GrayImage::new(40, 30)), EditParams::default())).unwrap_err();
        assert!(err.to_string().contains("empty"));
        let far: Region = "100,100,5,5".parse().unwrap();
        let err = resolve(&req(
            None,
            EditParams {
                region: Some(far),
                ..Default::default()
            },
        ));
        assert!(err.unwrap_err().to_string().contains("100,100,5,5"));
    }
}
