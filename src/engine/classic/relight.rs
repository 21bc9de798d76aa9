//! Relight: exposure, contrast, shadows/highlights, white balance and a soft directional light,
//! all through lookup tables and a 2-D light map, so 1 MP takes a few milliseconds.

use super::super::{EditRequest, EngineError};
use super::light_words::plan_light;
use super::num::{exp2, linear_table, pow, srgb_to_linear, table_from_thresholds};
use crate::core::{Rect, Region};
use image::{GrayImage, RgbImage};

/// What `relight` can do on the CPU, for the CLI's help.
pub const RELIGHT_HELP: &str = "\
relight (classic engine, CPU): global exposure (brighter, darker, 提亮, 压暗), contrast (more/less \
contrast, 对比度), shadows and highlights (lift shadows, recover highlights, 提亮暗部, 压高光), \
colour temperature (warm, cool, 暖色调, 冷白光) and auto white balance (fix white balance, \
自动白平衡). Directional light (\"sunlight from the window on the left\", 窗外阳光洒入, 傍晚, \
golden hour, light from the top right) adds a soft 2-D light map: the side the light comes from \
brightens (tinted warm for sun, orange for golden hour, blue-white for cool light) and the far \
side falls a little darker. It has no depth and casts no shadows. With directional light, \
--region names where the light comes from (a side, a corner, or x,y,w,h for a window); a --mask \
limits the change to the mask. Amount words: a bit/slightly/一点/稍 halve it, much/very/很/大幅 \
nearly double it; --amount sets the main change (light strength 0..1.5, else exposure in stops, \
else warmth in -1..1).";

/// What the instruction asks of the light. Zero fields change nothing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LightPlan {
    /// Exposure in stops (positive is brighter).
    pub exposure: f32,
    /// Contrast change in [-0.8, 0.8].
    pub contrast: f32,
    /// Colour temperature shift in [-1, 1] (positive is warmer).
    pub warmth: f32,
    /// Shadow lift in [-0.3, 0.6] (negative deepens).
    pub shadows: f32,
    /// Highlight change in [-0.6, 0.3] (negative recovers).
    pub highlights: f32,
    /// Neutralise the image's average colour cast (grey world) before the other changes.
    pub auto_white_balance: bool,
    /// A soft light falling from one side or a window.
    pub light: Option<SideLight>,
}

/// A directional light: where it comes from, how strong, and its colour (per-channel weights).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SideLight {
    pub from: LightSource,
    /// 0 is none, 0.6 the default, 1.5 the most.
    pub strength: f32,
    pub color: [f32; 3],
}

/// The light's origin: a side or corner of the frame, or a window rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LightSource {
    Side(Region),
    Window(Rect),
}

impl LightPlan {
    /// Multiplies every amount by `k` (amount words such as "a bit" or "很").
    pub(super) fn scale(&mut self, k: f32) {
        self.exposure *= k;
        self.contrast *= k;
        self.warmth *= k;
        self.shadows *= k;
        self.highlights *= k;
        if let Some(l) = &mut self.light {
            l.strength *= k;
        }
    }

    /// Sets the main adjustment to `a` (see [`plan_light`]).
    pub(super) fn set_amount(&mut self, a: f32) {
        if let Some(l) = &mut self.light {
            l.strength = a;
        } else if self.exposure != 0.0 || self.warmth == 0.0 {
            self.exposure = a;
        } else {
            self.warmth = a;
        }
    }

    fn is_noop(&self) -> bool {
        *self == LightPlan::default()
    }

    /// The plan with every amount inside the range where its curve stays monotonic.
    fn clamped(&self) -> LightPlan {
        LightPlan {
            exposure: self.exposure.clamp(-3.0, 3.0),
            contrast: self.contrast.clamp(-0.8, 0.8),
            warmth: self.warmth.clamp(-1.0, 1.0),
            shadows: self.shadows.clamp(-0.3, 0.6),
            highlights: self.highlights.clamp(-0.6, 0.3),
            auto_white_balance: self.auto_white_balance,
            light: self.light.map(|l| SideLight {
                strength: l.strength.clamp(0.0, 1.5),
                ..l
            }),
        }
    }
}

pub fn run(req: &EditRequest, mask: Option<&GrayImage>) -> Result<RgbImage, EngineError> {
    let mut plan = plan_light(&req.instruction, req.params.amount);
    if plan.is_noop() {
        return Err(EngineError::BadInput(format!(
            "relight found no light change in \"{}\": say brighter, darker, warm, cool, more \
             contrast, lift shadows, or light from the left (亮, 暗, 暖, 冷, 对比, 窗外阳光), or \
             give --amount",
            req.instruction
        )));
    }
    let mut mask = mask;
    // With a directional light, the region says where the light comes from (a window, a side)
    // rather than what to limit the change to; light falls on the whole room. A mask (drawn or
    // a file) still limits where the change shows.
    if let (Some(light), Some(region)) = (&mut plan.light, req.params.region) {
        let (w, h) = req.image.dimensions();
        let from = match region {
            Region::Background => None,
            Region::Rect(_) | Region::Center => Some(LightSource::Window(region.rect_in(w, h))),
            side => Some(LightSource::Side(side)),
        };
        if let Some(from) = from {
            light.from = from;
            if req.mask.is_none() {
                mask = None;
            }
        }
    }
    Ok(apply(&req.image, &plan, mask))
}

/// Fixed-point linear light: 1.0 is `ONE`.
const ONE: u32 = 1 << 15;
/// Light gains are fixed point with this many fraction bits.
const GAIN_BITS: u32 = 12;
/// Steps of the light map's falloff value.
const MAP_STEPS: usize = 1024;

/// Applies `plan` to `image`, blended by `mask` (white is the full change).
pub fn apply(image: &RgbImage, plan: &LightPlan, mask: Option<&GrayImage>) -> RgbImage {
    let p = plan.clamped();
    let lin = linear_table();
    let wb = white_balance(image, &p, &lin);
    let gain = exp2(p.exposure as f64);
    // Per channel: byte -> tone curve -> linear light with exposure and white balance.
    let global: Vec<Vec<u32>> = (0..3)
        .map(|c| {
            (0..256)
                .map(|v| {
                    let y = tone(v as f64 / 255.0, &p);
                    (srgb_to_linear(y) * gain * wb[c] * ONE as f64).round() as u32
                })
                .collect()
        })
        .collect();
    let light_gain = p.light.map(|l| light_gains(&l));
    let max_light = light_gain.as_ref().map_or(1.0, |g| {
        let top = (0..3)
            .flat_map(|c| g[c].iter())
            .copied()
            .max()
            .unwrap_or(1 << GAIN_BITS);
        top as f64 / (1u32 << GAIN_BITS) as f64
    });
    let peak = (0..3).map(|c| global[c][255]).max().unwrap_or(ONE) as f64 / ONE as f64;
    let top = (peak * max_light.max(1.0)).max(1.0);
    let enc = encode_with_shoulder(top);
    let last = enc.len() - 1;
    let mut out = image.clone();
    let (w, h) = image.dimensions();
    match (p.light, light_gain) {
        (Some(light), Some(g)) => {
            let map = LightMap::new(light.from, w, h);
            let src = image.as_raw();
            let dst: &mut [u8] = out.as_mut();
            for y in 0..h as usize {
                let dy2 = map.dy2[y];
                for x in 0..w as usize {
                    let f = 1.0 - (map.dx2[x] + dy2).sqrt() * map.inv_reach;
                    let fi = if f > 0.0 {
                        (f * f * MAP_STEPS as f32 + 0.5) as usize
                    } else {
                        0
                    };
                    let i = 3 * (y * w as usize + x);
                    for c in 0..3 {
                        let l = global[c][src[i + c] as usize] as u64 * g[c][fi] as u64;
                        dst[i + c] = enc[((l >> GAIN_BITS) as usize).min(last)];
                    }
                }
            }
        }
        _ => {
            let luts: Vec<Vec<u8>> = global
                .iter()
                .map(|t| t.iter().map(|&v| enc[(v as usize).min(last)]).collect())
                .collect();
            for px in out.as_mut().chunks_exact_mut(3) {
                for c in 0..3 {
                    px[c] = luts[c][px[c] as usize];
                }
            }
        }
    }
    if let Some(m) = mask {
        blend(&mut out, image, m);
    }
    out
}

/// Per-channel linear gains for colour temperature and, when asked, grey-world balance.
fn white_balance(image: &RgbImage, p: &LightPlan, lin: &[f32; 256]) -> [f64; 3] {
    let w = p.warmth as f64;
    let mut g = [1.0 + 0.2 * w, 1.0 + 0.03 * w, 1.0 - 0.22 * w];
    if p.auto_white_balance && !image.as_raw().is_empty() {
        let mut sum = [0f64; 3];
        for px in image.as_raw().chunks_exact(3) {
            for c in 0..3 {
                sum[c] += lin[px[c] as usize] as f64;
            }
        }
        let grey = (sum[0] + sum[1] + sum[2]) / 3.0;
        for c in 0..3 {
            g[c] *= if sum[c] > 0.0 {
                (grey / sum[c]).clamp(0.5, 2.0)
            } else {
                1.0
            };
        }
    }
    g
}

/// Contrast and shadow/highlight curves on an sRGB value in [0, 1]; each keeps 0 and 1 fixed.
fn tone(y: f64, p: &LightPlan) -> f64 {
    let mut y = y;
    let inv = 1.0 - y;
    y += p.shadows as f64 * 3.0 * y * inv * inv * inv;
    y += p.highlights as f64 * 3.0 * y * y * y * (1.0 - y);
    y += p.contrast as f64 * (y - 0.5) * (1.0 - (2.0 * y - 1.0).abs());
    y.clamp(0.0, 1.0)
}

/// Gain of each channel for each falloff step: the lit side rises by the light's colour, and
/// the far side falls a little so the light reads as direction rather than a brighter image.
fn light_gains(l: &SideLight) -> [Vec<u32>; 3] {
    let ambient = 1.0 - 0.35 * l.strength;
    let fix = |g: f32| (g * (1u32 << GAIN_BITS) as f32 + 0.5) as u32;
    std::array::from_fn(|c| {
        (0..=MAP_STEPS)
            .map(|i| fix(ambient + l.strength * l.color[c] * i as f32 / MAP_STEPS as f32))
            .collect()
    })
}

/// Squared distances from each column and row to the light source, for a falloff that is
/// 1 at the source and 0 at the farthest corner.
struct LightMap {
    dx2: Vec<f32>,
    dy2: Vec<f32>,
    inv_reach: f32,
}

impl LightMap {
    fn new(from: LightSource, w: u32, h: u32) -> LightMap {
        let (wf, hf) = (w as f32, h as f32);
        // The source as a rectangle [x0, x1] x [y0, y1]; a side is a line, a corner a point.
        let (x0, x1, y0, y1) = match from {
            LightSource::Window(r) => (
                r.x as f32,
                (r.x + r.w) as f32,
                r.y as f32,
                (r.y + r.h) as f32,
            ),
            LightSource::Side(side) => match side {
                Region::Left => (0.0, 0.0, 0.0, hf),
                Region::Right => (wf, wf, 0.0, hf),
                Region::Top => (0.0, wf, 0.0, 0.0),
                Region::Bottom => (0.0, wf, hf, hf),
                Region::TopLeft => (0.0, 0.0, 0.0, 0.0),
                Region::TopRight => (wf, wf, 0.0, 0.0),
                Region::BottomLeft => (0.0, 0.0, hf, hf),
                Region::BottomRight => (wf, wf, hf, hf),
                other => {
                    let r = other.rect_in(w, h);
                    (
                        r.x as f32,
                        (r.x + r.w) as f32,
                        r.y as f32,
                        (r.y + r.h) as f32,
                    )
                }
            },
        };
        let d = |p: f32, lo: f32, hi: f32| (lo - p).max(p - hi).max(0.0);
        let dx2: Vec<f32> = (0..w).map(|x| d(x as f32 + 0.5, x0, x1).powi(2)).collect();
        let dy2: Vec<f32> = (0..h).map(|y| d(y as f32 + 0.5, y0, y1).powi(2)).collect();
        let far_x = dx2
            .first()
            .copied()
            .unwrap_or(0.0)
            .max(dx2.last().copied().unwrap_or(0.0));
        let far_y = dy2
            .first()
            .copied()
            .unwrap_or(0.0)
            .max(dy2.last().copied().unwrap_or(0.0));
        let reach = (far_x + far_y).sqrt().max(1.0);
        LightMap {
            dx2,
            dy2,
            inv_reach: 1.0 / reach,
        }
    }
}

/// Maps fixed-point linear light in `[0, top]` to sRGB bytes. When `top > 1`, values above a
/// knee roll off smoothly so that `top` lands on white instead of clipping a flat patch.
fn encode_with_shoulder(top: f64) -> Vec<u8> {
    let len = (top * ONE as f64).ceil() as usize + 1;
    let knee = 0.75;
    let m = (top - knee) / (1.0 - knee);
    // Inverse of the shoulder y = knee + (1 - knee) * (1 - (1 - t)^m), t = (x - knee)/(top - knee).
    let unshoulder = |y: f64| {
        if top <= 1.0 || y <= knee {
            y
        } else {
            let t = 1.0 - pow(1.0 - (y - knee) / (1.0 - knee), 1.0 / m);
            knee + t * (top - knee)
        }
    };
    let thresholds: Vec<f64> = (0..255)
        .map(|v| unshoulder(srgb_to_linear((v as f64 + 0.5) / 255.0)) * ONE as f64)
        .collect();
    table_from_thresholds(&thresholds, len)
}

/// `out = out * m + orig * (1 - m)` per pixel, in exact integer arithmetic.
pub fn blend(out: &mut RgbImage, orig: &RgbImage, mask: &GrayImage) {
    let src = orig.as_raw();
    for ((px, o), &m) in out
        .as_mut()
        .chunks_exact_mut(3)
        .zip(src.chunks_exact(3))
        .zip(mask.as_raw())
    {
        let m = m as u16;
        for c in 0..3 {
            px[c] = ((px[c] as u16 * m + o[c] as u16 * (255 - m) + 127) / 255) as u8;
        }
    }
}

#[cfg(test)]
#[path = "relight_tests.rs"]
mod tests;
