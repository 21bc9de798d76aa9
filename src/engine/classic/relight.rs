//! Relight: global exposure and colour temperature, read from the instruction's words.

use super::super::{EditRequest, EngineError};
use image::RgbImage;

/// What the instruction asks of the light.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LightPlan {
    /// Exposure in stops (positive is brighter).
    pub exposure: f32,
    /// Colour temperature shift in [-1, 1] (positive is warmer).
    pub warmth: f32,
}

const BRIGHTER: &[&str] = &["亮", "brighter", "brighten", "lighter", "bright", "lighten"];
const DARKER: &[&str] = &["暗", "darker", "darken", "dim", "dark"];
const WARMER: &[&str] = &["暖", "warm", "golden", "sunset", "夕阳", "阳光", "sunlight"];
const COOLER: &[&str] = &["冷", "cool", "cold", "blue hour", "moonlight", "月光"];

/// Reads the light change from the instruction; `amount` (in stops, or warmth for colour-only
/// instructions) replaces the default strength of the words.
pub fn plan_light(instruction: &str, amount: Option<f32>) -> LightPlan {
    let text = instruction.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    let mut plan = LightPlan::default();
    // "darker" contains "dark"; test darker words before brighter ones so "暗" wins over "亮" only
    // when it is the only one present.
    if has(BRIGHTER) && !has(DARKER) {
        plan.exposure = 0.5;
    } else if has(DARKER) && !has(BRIGHTER) {
        plan.exposure = -0.5;
    }
    if has(WARMER) && !has(COOLER) {
        plan.warmth = 0.3;
    } else if has(COOLER) && !has(WARMER) {
        plan.warmth = -0.3;
    }
    if let Some(a) = amount {
        if plan.exposure != 0.0 || plan.warmth == 0.0 {
            plan.exposure = a;
        } else {
            plan.warmth = a.clamp(-1.0, 1.0);
        }
    }
    plan
}

pub fn run(req: &EditRequest, mask: Option<&image::GrayImage>) -> Result<RgbImage, EngineError> {
    let plan = plan_light(&req.instruction, req.params.amount);
    if plan == LightPlan::default() {
        return Err(EngineError::BadInput(format!(
            "relight found no light change in \"{}\": say brighter, darker, warm or cool \
             (亮, 暗, 暖, 冷), or give --amount",
            req.instruction
        )));
    }
    Ok(apply(&req.image, plan, mask))
}

/// Applies exposure and white balance through per-channel lookup tables, blended by the mask.
pub fn apply(image: &RgbImage, plan: LightPlan, mask: Option<&image::GrayImage>) -> RgbImage {
    let gain = 2f32.powf(plan.exposure);
    let channel_gain = [
        gain * (1.0 + 0.25 * plan.warmth),
        gain * (1.0 + 0.05 * plan.warmth),
        gain * (1.0 - 0.25 * plan.warmth),
    ];
    let luts: Vec<[u8; 256]> = channel_gain.iter().map(|&g| lut(g)).collect();
    let mut out = image.clone();
    for (i, px) in out.pixels_mut().enumerate() {
        let m = mask.map_or(255u16, |m| m.as_raw()[i] as u16);
        for c in 0..3 {
            let new = luts[c][px.0[c] as usize] as u16;
            let old = px.0[c] as u16;
            px.0[c] = ((new * m + old * (255 - m) + 127) / 255) as u8;
        }
    }
    out
}

/// Gain in linear light, applied to sRGB values.
fn lut(gain: f32) -> [u8; 256] {
    let mut t = [0u8; 256];
    for (v, slot) in t.iter_mut().enumerate() {
        let lin = srgb_to_linear(v as f32 / 255.0) * gain;
        *slot = (linear_to_srgb(lin.clamp(0.0, 1.0)) * 255.0).round() as u8;
    }
    t
}

pub fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

pub fn linear_to_srgb(c: f32) -> f32 {
    if c <= 0.003_130_8 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_words_in_both_languages() {
        assert!(plan_light("make it brighter", None).exposure > 0.0);
        assert!(plan_light("整体提亮", None).exposure > 0.0);
        assert!(plan_light("暗一点", None).exposure < 0.0);
        assert!(plan_light("warm afternoon light", None).warmth > 0.0);
        assert!(plan_light("调成冷色调", None).warmth < 0.0);
        assert_eq!(plan_light("brighter", Some(1.0)).exposure, 1.0);
    }

    #[test]
    fn warm_raises_red_over_blue() {
        let img = RgbImage::from_pixel(4, 4, image::Rgb([120, 120, 120]));
        let out = apply(
            &img,
            LightPlan {
                exposure: 0.0,
                warmth: 0.5,
            },
            None,
        );
        let p = out.get_pixel(0, 0).0;
        assert!(p[0] > 120 && p[2] < 120, "{p:?}");
    }
}
