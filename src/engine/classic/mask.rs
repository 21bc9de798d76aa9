//! The mask an op works inside: the request's mask file, or a soft rectangle from `--region`,
//! grown and feathered as the params ask. Every filter is separable with running windows, so the
//! cost does not depend on the radius (1 MP in a few milliseconds).

use super::super::{EditRequest, EngineError};
use crate::core::Rect;
use image::GrayImage;
use std::collections::VecDeque;

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

/// Dilates the mask by `radius` pixels (square neighbourhood), keeping soft values.
pub fn grow(mask: &mut GrayImage, radius: u32) {
    if radius == 0 {
        return;
    }
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let r = radius as usize;
    let data: &mut [u8] = mask.as_mut();
    let mut line = Vec::with_capacity(w.max(h));
    for row in data.chunks_exact_mut(w) {
        line.clear();
        line.extend_from_slice(row);
        max_filter(&line, row, r);
    }
    let mut col = vec![0u8; h];
    for x in 0..w {
        line.clear();
        line.extend((0..h).map(|y| data[y * w + x]));
        max_filter(&line, &mut col, r);
        for (y, &v) in col.iter().enumerate() {
            data[y * w + x] = v;
        }
    }
}

/// Sliding-window maximum over `[i - r, i + r]` with a monotonic queue: O(n) for any `r`.
fn max_filter(src: &[u8], dst: &mut [u8], r: usize) {
    let n = src.len();
    let mut q: VecDeque<usize> = VecDeque::with_capacity(2 * r + 2);
    let mut next = 0;
    for (i, out) in dst.iter_mut().enumerate().take(n) {
        while next < n && next <= i + r {
            while q.back().is_some_and(|&j| src[j] <= src[next]) {
                q.pop_back();
            }
            q.push_back(next);
            next += 1;
        }
        while q.front().is_some_and(|&j| j + r < i) {
            q.pop_front();
        }
        *out = q.front().map_or(0, |&j| src[j]);
    }
}

/// Softens the mask edges over about `radius` pixels: three box blurs approximate a Gaussian.
/// Integer running sums keep it exact and platform independent.
pub fn feather(mask: &mut GrayImage, radius: u32) {
    if radius == 0 {
        return;
    }
    // Three passes of a box of half-width b give a Gaussian of sigma ~ b; feathering by `radius`
    // should fade over roughly the radius on each side, so sigma ~ radius / 2.
    let b = (radius as usize).div_ceil(2).max(1);
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let data: &mut [u8] = mask.as_mut();
    let mut line = vec![0u8; w.max(h)];
    let mut tmp = vec![0u8; w.max(h)];
    for row in data.chunks_exact_mut(w) {
        for _ in 0..3 {
            line[..w].copy_from_slice(row);
            box_blur(&line[..w], row, b);
        }
    }
    for x in 0..w {
        for (y, v) in tmp[..h].iter_mut().enumerate() {
            *v = data[y * w + x];
        }
        for _ in 0..3 {
            line[..h].copy_from_slice(&tmp[..h]);
            box_blur(&line[..h], &mut tmp[..h], b);
        }
        for (y, &v) in tmp[..h].iter().enumerate() {
            data[y * w + x] = v;
        }
    }
}

/// Mean over `[i - b, i + b]`, with the edge values repeated past the ends.
fn box_blur(src: &[u8], dst: &mut [u8], b: usize) {
    let n = src.len() as i64;
    let at = |i: i64| src[i.clamp(0, n - 1) as usize] as u32;
    let win = 2 * b as u32 + 1;
    let mut sum: u32 = (-(b as i64)..=b as i64).map(at).sum();
    for (i, out) in dst.iter_mut().enumerate() {
        *out = ((sum + win / 2) / win) as u8;
        let i = i as i64;
        sum = sum + at(i + b as i64 + 1) - at(i - b as i64);
    }
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
    use image::{Luma, RgbImage};

    fn req(mask: Option<GrayImage>, params: EditParams) -> EditRequest {
        EditRequest {
            op: Op::Relight,
            instruction: String::new(),
            image: RgbImage::new(40, 30),
            mask,
            overlay: None,
            params,
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
    fn grow_and_feather_widen_and_soften() {
        let mut m = GrayImage::new(21, 21);
        m.put_pixel(10, 10, Luma([255]));
        grow(&mut m, 3);
        assert_eq!(m.get_pixel(13, 13).0[0], 255);
        assert_eq!(m.get_pixel(14, 10).0[0], 0);
        feather(&mut m, 4);
        let (c, e) = (m.get_pixel(10, 10).0[0], m.get_pixel(15, 10).0[0]);
        assert!(c > e && e > 0, "centre {c} edge {e}");
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

    #[test]
    fn max_filter_matches_brute_force() {
        let src: Vec<u8> = (0..50u32).map(|i| ((i * 37) % 101) as u8).collect();
        let mut dst = vec![0; 50];
        max_filter(&src, &mut dst, 4);
        for i in 0..50usize {
            let lo = i.saturating_sub(4);
            let hi = (i + 4).min(49);
            assert_eq!(dst[i], *src[lo..=hi].iter().max().unwrap());
        }
    }
}
