//! The parameters of one edit, recorded with each step so that replay can re-run it exactly.

use super::{FlowEditParams, Region};
use serde::{Deserialize, Serialize};

/// Everything an engine needs besides the image, the mask and the instruction.
/// Optional fields are op-specific; absent ones take the engine's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditParams {
    /// Denoise strength in [0, 1] for generative engines.
    #[serde(serialize_with = "short::f32")]
    pub strength: f32,
    /// Denoising steps for generative engines.
    pub steps: u32,
    /// Classifier-free guidance scale (0 disables it).
    #[serde(serialize_with = "short::f32")]
    pub cfg: f32,
    pub seed: u64,
    /// Explicit amount for classic ops (relight exposure, etc.), overriding the instruction's words.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "short::opt_f32"
    )]
    pub amount: Option<f32>,
    /// Region that makes a soft rectangular mask when no mask file is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Pixels to grow the mask by before use.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub grow: u32,
    /// Pixels of soft edge added to the mask.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub feather: u32,
    /// Named colour for recolor, or text colour for add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Text to render for add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Text size in pixels for add.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "short::opt_f32"
    )]
    pub size: Option<f32>,
    /// Top-left position in pixels for add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<(i32, i32)>,
    /// Scale factor for an overlay image in add.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "short::opt_f32"
    )]
    pub scale: Option<f32>,
    /// FlowEdit numbers, for steps whose recipe is FlowEdit (absent: the defaults for the
    /// step's strength and steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flowedit: Option<FlowEditParams>,
}

/// f32 in its shortest decimal form, for other core types.
pub(super) fn short_f32<S: serde::Serializer>(v: &f32, s: S) -> Result<S::Ok, S::Error> {
    short::f32(v, s)
}

/// Writes f32 values with their shortest decimal form (0.6, not 0.6000000238418579), so session
/// files stay readable; reading them back gives the same f32.
mod short {
    use serde::Serializer;

    fn widen(v: f32) -> f64 {
        v.to_string().parse().unwrap_or(v as f64)
    }

    pub fn f32<S: Serializer>(v: &f32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(widen(*v))
    }

    pub fn opt_f32<S: Serializer>(v: &Option<f32>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&widen(*v)),
            None => s.serialize_none(),
        }
    }
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl Default for EditParams {
    fn default() -> Self {
        EditParams {
            strength: 0.6,
            steps: 8,
            cfg: 0.0,
            seed: 0,
            amount: None,
            region: None,
            grow: 0,
            feather: 0,
            color: None,
            text: None,
            size: None,
            at: None,
            scale: None,
            flowedit: None,
        }
    }
}

impl EditParams {
    /// Checks the ranges that every engine relies on; the message names the value at fault.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.strength) || self.strength.is_nan() {
            return Err(format!("strength {} is outside [0, 1]", self.strength));
        }
        if self.steps == 0 || self.steps > 1000 {
            return Err(format!("steps {} is outside 1..=1000", self.steps));
        }
        if !self.cfg.is_finite() || self.cfg < 0.0 {
            return Err(format!("cfg {} must be a finite number >= 0", self.cfg));
        }
        if let Some(a) = self.amount {
            if !a.is_finite() {
                return Err(format!("amount {a} is not a finite number"));
            }
        }
        if let Some(f) = &self.flowedit {
            f.validate(self.steps)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_ranges() {
        assert!(EditParams::default().validate().is_ok());
        let bad = EditParams {
            strength: 1.5,
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().contains("strength 1.5"));
        let bad = EditParams {
            steps: 0,
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().contains("steps 0"));
    }

    #[test]
    fn round_trips_through_toml_without_empty_fields() {
        let p = EditParams {
            amount: Some(0.5),
            region: Some(Region::Left),
            ..Default::default()
        };
        let text = toml::to_string(&p).unwrap();
        assert!(!text.contains("grow"));
        assert_eq!(toml::from_str::<EditParams>(&text).unwrap(), p);
    }
}
