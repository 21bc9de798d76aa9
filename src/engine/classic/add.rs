//! Add: composites an overlay image (with alpha) or renders text onto the image, placed by
//! `--at x,y` (top-left) or centred in `--region`. New things described only in words need a
//! generative engine and are refused.

use super::super::{EditRequest, EngineError};
use super::colors::parse_color;
use super::relight::blend;
use super::text;
use image::imageops::{resize, FilterType};
use image::{GrayImage, RgbImage, RgbaImage};

pub fn run(req: &EditRequest, mask: Option<&GrayImage>) -> Result<RgbImage, EngineError> {
    let words = req.params.text.as_deref().filter(|t| !t.trim().is_empty());
    if req.overlay.is_none() && words.is_none() {
        return Err(EngineError::Unsupported(format!(
            "the classic engine can add only an image (--overlay FILE) or text (--text \"...\"); \
             adding \"{}\" from words needs a generative model: run it with `--engine zimage`",
            req.instruction
        )));
    }
    let (w, h) = req.image.dimensions();
    let mut out = req.image.clone();
    if let Some(ov) = &req.overlay {
        let ov = scaled(ov, req.params.scale)?;
        let (x, y) = place(req, ov.width(), ov.height());
        let on_image =
            x < w as i64 && y < h as i64 && x + ov.width() as i64 > 0 && y + ov.height() as i64 > 0;
        if !on_image {
            return Err(EngineError::BadInput(format!(
                "the {}x{} overlay placed at ({x}, {y}) lies outside the {w}x{h} image; give \
                 --at inside it",
                ov.width(),
                ov.height()
            )));
        }
        composite(&mut out, x, y, ov.width(), ov.height(), |ox, oy| {
            let p = ov.get_pixel(ox, oy).0;
            ([p[0], p[1], p[2]], p[3])
        });
    }
    if let Some(t) = words {
        let size = req.params.size.unwrap_or_else(|| default_size(w, h));
        let ink = text::render(t, size)?;
        let (tw, th) = ink.dimensions();
        if tw > w || th > h {
            return Err(EngineError::BadInput(format!(
                "text \"{t}\" needs {tw}x{th} px at size {size} but the image is {w}x{h}; give a \
                 smaller --size or shorter text"
            )));
        }
        let (mut x, mut y) = place(req, tw, th);
        if let Some((ax, ay)) = req.params.at {
            if ax < 0
                || ay < 0
                || ax as i64 + tw as i64 > w as i64
                || ay as i64 + th as i64 > h as i64
            {
                return Err(EngineError::BadInput(format!(
                    "text \"{t}\" ({tw}x{th} px) at ({ax}, {ay}) runs off the {w}x{h} image; \
                     move --at or give a smaller --size"
                )));
            }
        } else {
            // A region near the border may not hold the text; slide it inside the image.
            x = x.clamp(0, (w - tw) as i64);
            y = y.clamp(0, (h - th) as i64);
        }
        let color = match &req.params.color {
            Some(c) => parse_color(c).map_err(EngineError::BadInput)?.rgb,
            None => contrasting(&out, x as u32, y as u32, tw, th),
        };
        composite(&mut out, x, y, tw, th, |ox, oy| {
            (color, ink.get_pixel(ox, oy).0[0])
        });
    }
    // A mask file limits where the addition shows; a region only placed it.
    if let (Some(m), Some(_)) = (mask, &req.mask) {
        blend(&mut out, &req.image, m);
    }
    Ok(out)
}

/// The overlay at `scale` (default 1). Triangle filtering uses only arithmetic, so the bytes
/// are the same everywhere.
fn scaled(ov: &RgbaImage, scale: Option<f32>) -> Result<RgbaImage, EngineError> {
    let s = scale.unwrap_or(1.0);
    if !s.is_finite() || s <= 0.0 || s > 16.0 {
        return Err(EngineError::BadInput(format!(
            "scale {s} is outside (0, 16]; give --scale such as 0.5 or 2"
        )));
    }
    if s == 1.0 {
        return Ok(ov.clone());
    }
    let nw = (ov.width() as f32 * s).round().max(1.0) as u32;
    let nh = (ov.height() as f32 * s).round().max(1.0) as u32;
    Ok(resize(ov, nw, nh, FilterType::Triangle))
}

/// Top-left corner for a `ow` x `oh` box: `--at`, else centred in `--region`, else centred.
fn place(req: &EditRequest, ow: u32, oh: u32) -> (i64, i64) {
    let (w, h) = req.image.dimensions();
    if let Some((x, y)) = req.params.at {
        return (x as i64, y as i64);
    }
    let r = req
        .params
        .region
        .map_or(crate::core::Rect { x: 0, y: 0, w, h }, |r| r.rect_in(w, h));
    let cx = r.x as i64 + (r.w as i64 - ow as i64) / 2;
    let cy = r.y as i64 + (r.h as i64 - oh as i64) / 2;
    (cx, cy)
}

/// Default text size: a tenth of the shorter side, readable on a phone photo and a poster.
fn default_size(w: u32, h: u32) -> f32 {
    (w.min(h) as f32 / 10.0).clamp(12.0, 200.0)
}

/// Near-black on light backgrounds, near-white on dark ones.
fn contrasting(img: &RgbImage, x: u32, y: u32, w: u32, h: u32) -> [u8; 3] {
    let mut sum = 0u64;
    for yy in y..y + h {
        for xx in x..x + w {
            let p = img.get_pixel(xx, yy).0;
            sum += (2 * p[0] as u64 + 5 * p[1] as u64 + p[2] as u64) / 8;
        }
    }
    let mean = sum / (w as u64 * h as u64).max(1);
    if mean > 140 {
        [20, 20, 20]
    } else {
        [245, 245, 245]
    }
}

/// Alpha-composites a `bw` x `bh` box at (`x`, `y`), clipped to the image; `src` gives each box
/// pixel's colour and alpha.
fn composite(
    out: &mut RgbImage,
    x: i64,
    y: i64,
    bw: u32,
    bh: u32,
    src: impl Fn(u32, u32) -> ([u8; 3], u8),
) {
    let (w, h) = (out.width() as i64, out.height() as i64);
    for oy in 0..bh {
        let ty = y + oy as i64;
        if ty < 0 || ty >= h {
            continue;
        }
        for ox in 0..bw {
            let tx = x + ox as i64;
            if tx < 0 || tx >= w {
                continue;
            }
            let (rgb, a) = src(ox, oy);
            if a == 0 {
                continue;
            }
            let a = a as u16;
            let px = out.get_pixel_mut(tx as u32, ty as u32);
            for (dst, &new) in px.0.iter_mut().zip(rgb.iter()) {
                *dst = ((new as u16 * a + *dst as u16 * (255 - a) + 127) / 255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{EditParams, Op};

    fn req(overlay: Option<RgbaImage>, params: EditParams) -> EditRequest {
        EditRequest {
            op: Op::Add,
            instruction: "add a logo".into(),
            image: RgbImage::from_pixel(100, 80, image::Rgb([10, 10, 10])),
            mask: None,
            overlay,
            params,
            recipe: None,
        }
    }

    #[test]
    fn places_the_overlay_at_the_given_point_with_alpha() {
        let mut ov = RgbaImage::from_pixel(10, 10, image::Rgba([200, 0, 0, 255]));
        ov.put_pixel(0, 0, image::Rgba([200, 0, 0, 0]));
        let p = EditParams {
            at: Some((30, 20)),
            ..Default::default()
        };
        let out = run(&req(Some(ov), p), None).unwrap();
        assert_eq!(out.get_pixel(35, 25).0, [200, 0, 0]);
        assert_eq!(out.get_pixel(30, 20).0, [10, 10, 10], "transparent pixel");
        assert_eq!(out.get_pixel(29, 25).0, [10, 10, 10]);
    }

    #[test]
    fn scales_and_refuses_overlays_off_the_image() {
        let ov = RgbaImage::from_pixel(10, 10, image::Rgba([0, 200, 0, 255]));
        let p = EditParams {
            at: Some((0, 0)),
            scale: Some(2.0),
            ..Default::default()
        };
        let out = run(&req(Some(ov.clone()), p), None).unwrap();
        assert_eq!(out.get_pixel(19, 19).0, [0, 200, 0]);
        let p = EditParams {
            at: Some((500, 0)),
            ..Default::default()
        };
        let err = run(&req(Some(ov), p), None).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
    }

    #[test]
    fn picks_a_contrasting_text_colour() {
        let p = EditParams {
            text: Some("Hi".into()),
            size: Some(20.0),
            ..Default::default()
        };
        let out = run(&req(None, p), None).unwrap();
        assert!(
            out.pixels().any(|p| p.0[0] > 200),
            "white text on a dark image"
        );
    }
}
