//! What a text-to-image model is told for one step: the mode, the prompts, where the mask comes
//! from, and the FlowEdit numbers. Recorded with the step so replay re-runs exactly it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How the model edits the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Noise the whole image to the strength and denoise it under the prompt.
    Img2img,
    /// As img2img, but only inside the mask; the rest follows the image's own trajectory.
    Inpaint,
    /// Inversion-free editing by the difference of the velocities under a source and a target
    /// prompt (Kulikov et al. 2024); keeps the layout. Inside the mask when one is given.
    Flowedit,
    /// Fill the mask from its surroundings first (the classic engine's inpainting), then
    /// inpaint that at a moderate strength, so nothing of the removed thing is left to redraw.
    ClassicPrefillInpaint,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Img2img => "img2img",
            Mode::Inpaint => "inpaint",
            Mode::Flowedit => "flowedit",
            Mode::ClassicPrefillInpaint => "classic_prefill_inpaint",
        }
    }

    /// Whether the mode cannot run without a mask.
    pub fn needs_mask(self) -> bool {
        matches!(self, Mode::Inpaint | Mode::ClassicPrefillInpaint)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a step's mask comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskSource {
    /// Named in words: a part of the frame in the instruction or `--region`.
    Words,
    /// Picked by clicks on the image.
    Clicks,
    /// Drawn in the studio.
    Drawn,
    /// A mask image file.
    File,
    /// No mask: the whole image.
    None,
}

impl MaskSource {
    pub fn as_str(self) -> &'static str {
        match self {
            MaskSource::Words => "words",
            MaskSource::Clicks => "clicks",
            MaskSource::Drawn => "drawn",
            MaskSource::File => "file",
            MaskSource::None => "none",
        }
    }
}

impl fmt::Display for MaskSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The recipe of one step. `strength` and `steps` are the ones the step ran with (the same as
/// its `EditParams`); the FlowEdit numbers live in `EditParams::flowedit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    pub mode: Mode,
    /// What the picture should show (FlowEdit: the target prompt), in the user's language.
    pub prompt: String,
    /// FlowEdit only: what the picture shows now.
    #[serde(default)]
    pub source_prompt: Option<String>,
    /// Used only when guidance is on.
    #[serde(default)]
    pub negative_prompt: Option<String>,
    pub mask_source: MaskSource,
    #[serde(serialize_with = "super::params::short_f32")]
    pub strength: f32,
    pub steps: u32,
    /// LoRAs applied to the transformer, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loras: Vec<LoraRef>,
}

/// One LoRA of a step: the file, the weight it was applied at, and the blake3 digest of the
/// file when the step was made (replay warns when the file no longer has it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoraRef {
    pub path: std::path::PathBuf,
    #[serde(serialize_with = "super::params::short_f32")]
    pub weight: f32,
    pub digest: String,
}

/// Why a recipe cannot run as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecipeError {
    #[error(
        "{mode} of \"{what}\" needs a mask, and none was given: draw one in the studio (m), \
         give a file with --mask FILE, name a part of the frame with --region (left, \
         top-right, x,y,w,h…) or in the instruction (\"on the left\", \"右下角\"), or pick \
         the thing by words or clicks where the build offers it"
    )]
    MaskMissing { mode: Mode, what: String },
    #[error("the recipe's prompt is empty: give one with --prompt TEXT")]
    EmptyPrompt,
    #[error("a {mode} recipe needs a source prompt: give one with --source-prompt TEXT")]
    SourceMissing { mode: Mode },
}

impl Recipe {
    /// Checks the recipe can run with the mask it has; `what` names the step in the message.
    pub fn check(&self, what: &str) -> Result<(), RecipeError> {
        if self.prompt.trim().is_empty() {
            return Err(RecipeError::EmptyPrompt);
        }
        if self.mode.needs_mask() && self.mask_source == MaskSource::None {
            return Err(RecipeError::MaskMissing {
                mode: self.mode,
                what: what.to_string(),
            });
        }
        if self.mode == Mode::Flowedit
            && self
                .source_prompt
                .as_deref()
                .is_none_or(|s| s.trim().is_empty())
        {
            return Err(RecipeError::SourceMissing { mode: self.mode });
        }
        Ok(())
    }
}

/// The FlowEdit numbers (the paper's names). Of the schedule's `steps` steps, the last `n_max`
/// run; of those, the last `n_min` are plain sampling under the target prompt. Each FlowEdit
/// step averages the velocity difference over `n_avg` noise draws.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowEditParams {
    pub n_max: u32,
    #[serde(default)]
    pub n_min: u32,
    pub n_avg: u32,
    /// Guidance of the source and target velocities (0 disables CFG: one call each).
    #[serde(default, serialize_with = "super::params::short_f32")]
    pub source_guidance: f32,
    #[serde(default, serialize_with = "super::params::short_f32")]
    pub target_guidance: f32,
}

impl FlowEditParams {
    /// The defaults for `steps` steps at `strength`: the steps an img2img edit of that strength
    /// would run, no plain-sampling tail, one draw a step, no guidance (Z-Image Turbo is
    /// guidance-distilled).
    pub fn for_strength(steps: u32, strength: f32) -> Self {
        let n = steps as f64;
        let t_start = (n - (n * strength as f64).min(n)).max(0.0) as u32;
        FlowEditParams {
            n_max: steps - t_start.min(steps),
            n_min: 0,
            n_avg: 1,
            source_guidance: 0.0,
            target_guidance: 0.0,
        }
    }

    /// Checks the numbers against the schedule length; the message names the value at fault.
    pub fn validate(&self, steps: u32) -> Result<(), String> {
        if self.n_max == 0 || self.n_max > steps {
            return Err(format!(
                "flowedit n_max {} must be in 1..={steps} (the number of steps)",
                self.n_max
            ));
        }
        if self.n_min > self.n_max {
            return Err(format!(
                "flowedit n_min {} must not exceed n_max {}",
                self.n_min, self.n_max
            ));
        }
        if self.n_avg == 0 || self.n_avg > 64 {
            return Err(format!("flowedit n_avg {} must be in 1..=64", self.n_avg));
        }
        for (name, g) in [
            ("source_guidance", self.source_guidance),
            ("target_guidance", self.target_guidance),
        ] {
            if !g.is_finite() || g < 0.0 {
                return Err(format!("flowedit {name} {g} must be a finite number >= 0"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_json() {
        let r = Recipe {
            mode: Mode::ClassicPrefillInpaint,
            prompt: "沙发".into(),
            source_prompt: None,
            negative_prompt: None,
            mask_source: MaskSource::Drawn,
            strength: 0.6,
            steps: 8,
            loras: Vec::new(),
        };
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            json.contains(r#""mode":"classic_prefill_inpaint""#),
            "{json}"
        );
        assert!(json.contains(r#""mask_source":"drawn""#), "{json}");
        assert!(json.contains(r#""strength":0.6,"#), "{json}");
        assert_eq!(serde_json::from_str::<Recipe>(&json).unwrap(), r);
    }

    #[test]
    fn a_missing_mask_names_the_ways_to_give_one() {
        let r = Recipe {
            mode: Mode::Inpaint,
            prompt: "a cat".into(),
            source_prompt: None,
            negative_prompt: None,
            mask_source: MaskSource::None,
            strength: 0.8,
            steps: 8,
            loras: Vec::new(),
        };
        let e = r.check("add a cat").unwrap_err().to_string();
        for way in ["--mask", "--region", "draw", "add a cat", "inpaint"] {
            assert!(e.contains(way), "{e}");
        }
        let flow = Recipe {
            mode: Mode::Flowedit,
            ..r
        };
        assert!(matches!(
            flow.check("x"),
            Err(RecipeError::SourceMissing { .. })
        ));
    }

    #[test]
    fn flowedit_defaults_follow_the_strength() {
        let p = FlowEditParams::for_strength(8, 0.6);
        assert_eq!(p.n_max, 5);
        assert!(p.validate(8).is_ok());
        assert_eq!(FlowEditParams::for_strength(8, 1.0).n_max, 8);
        assert!(FlowEditParams::for_strength(8, 0.0).validate(8).is_err());
        let bad = FlowEditParams { n_min: 6, ..p };
        assert!(bad.validate(8).unwrap_err().contains("n_min 6"));
    }
}
