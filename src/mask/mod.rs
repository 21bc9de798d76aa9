//! Turning a `MaskSpec` into a mask image: the one place masks are rasterised, used by the job
//! runner (the mask an engine gets and the session stores) and by the studio's preview overlay.

mod morph;

pub use morph::{feather, grow};

use crate::core::{MaskShape, MaskSpec};
use image::{GrayImage, Luma};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaskError {
    /// A prompt that a segmentation model must resolve; none is built in yet.
    #[error(
        "a '{0}' mask needs a segmentation model, which this zedit does not have yet: draw a \
         rectangle or ellipse (m in the studio) or give --mask FILE"
    )]
    NeedsModel(&'static str),
    #[error("{0}")]
    BadInput(String),
}

/// The mask `spec` describes for an image of `size`. `file` is the decoded image of a
/// `File` shape (the caller reads it from the session). White marks what to change.
pub fn rasterise(
    spec: &MaskSpec,
    size: (u32, u32),
    file: Option<&GrayImage>,
) -> Result<GrayImage, MaskError> {
    let (w, h) = size;
    let mut mask = match &spec.shape {
        MaskShape::Rect { .. } | MaskShape::Ellipse { .. } => shape(&spec.shape, size, size),
        MaskShape::File { image } => {
            let m = file.ok_or_else(|| {
                MaskError::BadInput(format!("the mask image {} was not loaded", image.path))
            })?;
            if m.dimensions() != size {
                return Err(MaskError::BadInput(format!(
                    "mask {} is {}x{} but the image is {w}x{h}; masks must match the image size",
                    image.path,
                    m.width(),
                    m.height()
                )));
            }
            m.clone()
        }
        other => return Err(MaskError::NeedsModel(other.kind())),
    };
    grow(&mut mask, spec.grow);
    feather(&mut mask, spec.feather);
    if mask.as_raw().iter().all(|&v| v == 0) {
        return Err(MaskError::BadInput(format!(
            "the mask ({spec}) covers no pixel of the {w}x{h} image; draw it inside the image"
        )));
    }
    Ok(mask)
}

/// The drawn shape of `spec` at `out` pixels, for an image of `original` pixels, grown and
/// feathered in proportion: what the preview tints. `None` for shapes that are not drawn.
pub fn preview(spec: &MaskSpec, original: (u32, u32), out: (u32, u32)) -> Option<GrayImage> {
    if !matches!(
        spec.shape,
        MaskShape::Rect { .. } | MaskShape::Ellipse { .. }
    ) {
        return None;
    }
    let mut mask = shape(&spec.shape, original, out);
    let k = f64::from(out.0) / f64::from(original.0.max(1));
    grow(&mut mask, (f64::from(spec.grow) * k).round() as u32);
    feather(&mut mask, (f64::from(spec.feather) * k).round() as u32);
    Some(mask)
}

/// A rectangle or ellipse given in `original` pixels, drawn on an `out`-sized canvas. A pixel
/// is inside when its centre is, so the mask and its preview agree at every scale.
fn shape(s: &MaskShape, original: (u32, u32), out: (u32, u32)) -> GrayImage {
    let Some(r) = s.bounds() else {
        return GrayImage::new(out.0, out.1);
    };
    let sx = f64::from(out.0) / f64::from(original.0.max(1));
    let sy = f64::from(out.1) / f64::from(original.1.max(1));
    let (x0, y0) = (f64::from(r.x) * sx, f64::from(r.y) * sy);
    let (x1, y1) = (
        (f64::from(r.x) + f64::from(r.w)) * sx,
        (f64::from(r.y) + f64::from(r.h)) * sy,
    );
    let ellipse = matches!(s, MaskShape::Ellipse { .. });
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let (rx, ry) = (((x1 - x0) / 2.0).max(0.5), ((y1 - y0) / 2.0).max(0.5));
    GrayImage::from_fn(out.0, out.1, |x, y| {
        let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
        let inside = if ellipse {
            let (dx, dy) = ((px - cx) / rx, (py - cy) / ry);
            dx * dx + dy * dy <= 1.0
        } else {
            px >= x0 && px < x1 && py >= y0 && py < y1
        };
        Luma([if inside { 255 } else { 0 }])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{ImageRef, Rect};

    fn rect(x: u32, y: u32, w: u32, h: u32) -> MaskSpec {
        MaskSpec::new(MaskShape::rect(Rect { x, y, w, h }))
    }

    #[test]
    fn a_rectangle_is_hard_and_exact() {
        let m = rasterise(&rect(2, 3, 4, 5), (10, 10), None).unwrap();
        for (x, y, p) in m.enumerate_pixels() {
            let inside = (2..6).contains(&x) && (3..8).contains(&y);
            assert_eq!(p.0[0], if inside { 255 } else { 0 }, "({x}, {y})");
        }
    }

    #[test]
    fn an_ellipse_leaves_the_corners_and_grow_feather_widen_it() {
        let spec = MaskSpec::new(MaskShape::ellipse(Rect {
            x: 0,
            y: 0,
            w: 20,
            h: 20,
        }));
        let m = rasterise(&spec, (20, 20), None).unwrap();
        assert_eq!(m.get_pixel(0, 0).0[0], 0);
        assert_eq!(m.get_pixel(10, 10).0[0], 255);
        let grown = rasterise(
            &MaskSpec {
                grow: 3,
                feather: 2,
                ..rect(8, 8, 4, 4)
            },
            (20, 20),
            None,
        )
        .unwrap();
        assert!(grown.get_pixel(6, 10).0[0] > 0, "grown past the rectangle");
        let edge = grown.get_pixel(4, 10).0[0];
        assert!(edge < 255, "feathered edge is soft, got {edge}");
    }

    #[test]
    fn files_must_match_and_model_prompts_are_refused() {
        let image = ImageRef {
            path: "images/m.png".into(),
            blake3: "m".into(),
        };
        let spec = MaskSpec::new(MaskShape::File { image });
        let err = rasterise(&spec, (10, 10), Some(&GrayImage::new(5, 5))).unwrap_err();
        assert!(err.to_string().contains("5x5"), "{err}");
        let text = MaskSpec::new(MaskShape::Text {
            target: "shirt".into(),
            region: None,
            grounder: None,
        });
        let err = rasterise(&text, (10, 10), None).unwrap_err();
        assert_eq!(err, MaskError::NeedsModel("text"));
        assert!(err.to_string().contains("segmentation model"));
        let outside = rasterise(&rect(50, 50, 4, 4), (10, 10), None).unwrap_err();
        assert!(outside.to_string().contains("covers no pixel"), "{outside}");
    }

    #[test]
    fn the_preview_matches_the_mask_at_full_size() {
        let spec = MaskSpec::new(MaskShape::ellipse(Rect {
            x: 3,
            y: 1,
            w: 11,
            h: 7,
        }));
        let full = rasterise(&spec, (16, 12), None).unwrap();
        assert_eq!(preview(&spec, (16, 12), (16, 12)).unwrap(), full);
        let small = preview(&spec, (16, 12), (8, 6)).unwrap();
        assert_eq!(small.dimensions(), (8, 6));
        assert_eq!(small.get_pixel(4, 2).0[0], 255);
    }
}
