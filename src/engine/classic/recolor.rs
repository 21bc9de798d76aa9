//! Recolor: gives what is inside the mask a named colour while keeping its texture and shading.
//! Works in OkLab: hue and chroma go to the target, the mean lightness moves most of the way to
//! the target's, and local lightness detail (folds, grain, shadows) is kept.

use super::super::{EditRequest, EngineError};
use super::colors::{find_color, parse_color, NamedColor};
use super::mask::coverage;
use super::num::{encode_table, linear_table, linear_to_oklab, oklab_to_linear, Lab};
use image::{GrayImage, RgbImage};

/// How far the mean lightness moves toward the target's: all the way would flatten a white
/// shirt dyed navy into a cut-out; none would leave a "black" dress mid-grey.
const LIGHTNESS_SHIFT: f32 = 0.8;
/// Fixed-point steps per unit of linear light when encoding back to bytes.
const ONE: u32 = 1 << 15;

/// Recolors inside the mask. A mask (or `--region`) is required: recoloring a whole photo is a
/// colour grade, which is relight's job, and no object can be told apart without one.
pub fn run(req: &EditRequest, mask: Option<&GrayImage>) -> Result<RgbImage, EngineError> {
    let target = match &req.params.color {
        Some(c) => parse_color(c).map_err(EngineError::BadInput)?,
        None => find_color(&req.instruction).ok_or_else(|| {
            EngineError::BadInput(format!(
                "recolor found no colour in \"{}\": name one (red, navy, light grey, 深棕色, \
                 浅绿色) or give --color",
                req.instruction
            ))
        })?,
    };
    let mask = mask.ok_or_else(|| {
        EngineError::BadInput(
            "recolor needs --mask or --region to say what to recolor; for a colour cast over \
             the whole image use relight (warm, cool)"
                .into(),
        )
    })?;
    let (inside, all) = coverage(mask);
    if inside == all {
        return Err(EngineError::BadInput(
            "the mask covers the whole image, so recolor would paint the photo one colour; mask \
             only the object to recolor, or use relight for a colour cast"
                .into(),
        ));
    }
    let amount = req.params.amount.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&amount) {
        return Err(EngineError::BadInput(format!(
            "amount {amount} is outside 0..1 for recolor (1 is the full colour change)"
        )));
    }
    Ok(apply(&req.image, mask, &target, amount))
}

/// Recolors `image` toward `target` inside `mask`, by `amount` in [0, 1]. Pixels where the mask
/// is 0 keep their exact bytes.
pub fn apply(image: &RgbImage, mask: &GrayImage, target: &NamedColor, amount: f32) -> RgbImage {
    let lin = linear_table();
    let mut out = image.clone();
    let (src, m) = (image.as_raw(), mask.as_raw());
    // The two halves run on two threads. The split is fixed (not the machine's core count) and
    // the halves' sums are added in a fixed order, so the bytes never depend on scheduling.
    let half = m.len() / 2;
    let (m1, m2) = m.split_at(half);
    let (s1, s2) = src.split_at(3 * half);
    let (first, second) = both(|| lightness(s1, m1, &lin), || lightness(s2, m2, &lin));
    let (sum_l, sum_w) = (first.1 + second.1, first.2 + second.2);
    if sum_w == 0.0 {
        return out;
    }
    let mean = (sum_l / sum_w) as f32;
    let new_mean = mean + LIGHTNESS_SHIFT * (target.lab.l - mean);
    let paint = Paint {
        mean,
        new_mean,
        // Shading scales with the light falling on the surface, so a darker target keeps
        // proportionally smaller lightness swings; the bounds stop noise in near-black areas
        // from being blown up when going light.
        detail: if mean > 1e-3 {
            (new_mean / mean).clamp(0.5, 1.5)
        } else {
            1.0
        },
        target: target.lab,
        weight: (amount.clamp(0.0, 1.0) * 256.0 + 0.5) as u32,
        enc: encode_table(ONE, ONE as usize + 1),
    };
    let (d1, d2) = out.as_mut().split_at_mut(3 * half);
    both(
        || paint.run(d1, m1, &first.0),
        || paint.run(d2, m2, &second.0),
    );
    out
}

/// Runs `a` here and `b` on a second thread; a panic in either is passed on.
fn both<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    std::thread::scope(|s| {
        let hb = s.spawn(b);
        let ra = a();
        (
            ra,
            hb.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
        )
    })
}

/// OkLab lightness of every masked pixel (hue and chroma come from the target, so only
/// lightness is kept), with the mask-weighted sum of lightness and of weights.
fn lightness(src: &[u8], m: &[u8], lin: &[f32; 256]) -> (Vec<f32>, f64, f64) {
    let mut lights = Vec::new();
    let (mut sum_l, mut sum_w) = (0f64, 0f64);
    for (p, &mv) in src.chunks_exact(3).zip(m) {
        if mv == 0 {
            continue;
        }
        let l = linear_to_oklab(lin[p[0] as usize], lin[p[1] as usize], lin[p[2] as usize]).l;
        sum_l += l as f64 * mv as f64;
        sum_w += mv as f64;
        lights.push(l);
    }
    (lights, sum_l, sum_w)
}

/// The second pass: new colour per masked pixel, blended by the mask.
struct Paint {
    mean: f32,
    new_mean: f32,
    detail: f32,
    target: Lab,
    weight: u32,
    enc: Vec<u8>,
}

impl Paint {
    fn run(&self, dst: &mut [u8], m: &[u8], lights: &[f32]) {
        let masked = dst.chunks_exact_mut(3).zip(m).filter(|(_, &mv)| mv > 0);
        for ((px, &mv), &l0) in masked.zip(lights) {
            let l = (self.new_mean + (l0 - self.mean) * self.detail).clamp(0.0, 1.0);
            // Chroma follows lightness: shaded parts of a coloured surface are less saturated.
            let ratio = if self.new_mean > 1e-3 {
                (l / self.new_mean).clamp(0.5, 1.3)
            } else {
                1.0
            };
            let t = self.target;
            let rgb = in_gamut(Lab {
                l,
                a: t.a * ratio,
                b: t.b * ratio,
            });
            let mv = (mv as u32 * self.weight + 128) >> 8;
            for c in 0..3 {
                let new = self.enc[(rgb[c] * ONE as f32 + 0.5) as usize] as u32;
                let old = px[c] as u32;
                px[c] = ((new * mv + old * (255 - mv) + 127) / 255) as u8;
            }
        }
    }
}

/// Linear RGB for `lab`, with chroma reduced step by step until it fits the sRGB gamut, so
/// strong targets on bright or dark areas keep their hue instead of clipping to another one.
fn in_gamut(lab: Lab) -> [f32; 3] {
    let fits = |c: &[f32; 3]| c.iter().all(|v| (-1e-4..=1.0001).contains(v));
    let mut rgb = oklab_to_linear(lab);
    let mut k = 1.0f32;
    while !fits(&rgb) && k > 0.0 {
        k -= 0.125;
        rgb = oklab_to_linear(Lab {
            l: lab.l,
            a: lab.a * k,
            b: lab.b * k,
        });
    }
    rgb.map(|v| v.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::classic::num::srgb8_to_oklab;
    use image::{Luma, Rgb};

    fn half_mask(w: u32, h: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, _| Luma([if x < w / 2 { 255 } else { 0 }]))
    }

    #[test]
    fn changes_hue_inside_and_keeps_outside_bytes() {
        let img = RgbImage::from_fn(40, 20, |x, y| Rgb([180, 40 + (x * 3) as u8, 30 + y as u8]));
        let blue = parse_color("blue").unwrap();
        let out = apply(&img, &half_mask(40, 20), &blue, 1.0);
        let p = out.get_pixel(5, 5).0;
        assert!(p[2] > p[0], "inside should turn blue: {p:?}");
        for x in 20..40 {
            for y in 0..20 {
                assert_eq!(out.get_pixel(x, y), img.get_pixel(x, y));
            }
        }
    }

    #[test]
    fn keeps_lightness_detail() {
        let img = RgbImage::from_fn(40, 20, |x, _| Rgb([if x % 2 == 0 { 200 } else { 120 }; 3]));
        let red = parse_color("red").unwrap();
        let out = apply(&img, &half_mask(40, 20), &red, 1.0);
        let (a, b) = (
            srgb8_to_oklab(out.get_pixel(0, 0).0),
            srgb8_to_oklab(out.get_pixel(1, 0).0),
        );
        assert!(
            a.l - b.l > 0.08,
            "stripes should survive: {} vs {}",
            a.l,
            b.l
        );
        assert!(a.a > 0.05 && b.a > 0.05, "both stripes red");
    }
}
