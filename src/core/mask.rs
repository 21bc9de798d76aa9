//! What a step changes: a mask described as data (a drawn shape, a stored image, or the prompt a
//! segmentation model turns into a mask), grown and feathered. Rasterised by `crate::mask`.

use super::{ImageRef, Rect, Region};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A point given to a segmentation model; `positive` false marks what to leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MaskPoint {
    pub x: u32,
    pub y: u32,
    #[serde(default = "yes")]
    pub positive: bool,
}

fn yes() -> bool {
    true
}

/// The segmentation model a points or box prompt was resolved with, recorded so replay
/// resolves it the same way: which model (a name from `models/*.toml` or a weights path), the
/// blake3 of its weights, the candidate taken (0: the best by predicted IoU), and the image
/// size the prompt's pixels refer to (replay on another image scales them).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segmenter {
    pub model: String,
    pub digest: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub candidate: u32,
    pub width: u32,
    pub height: u32,
}

/// A score recorded with a mask spec; compared and hashed by its bits, so specs stay `Eq`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Score(pub f32);

impl PartialEq for Score {
    fn eq(&self, other: &Score) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Score {}

impl std::hash::Hash for Score {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

/// The models words were turned into a mask with, recorded so replay finds the same: the
/// segmentation model proposing candidates and the model scoring them against the words (names
/// from `models/*.toml` or paths), the blake3 of each one's files, the similarity a candidate
/// needed, the predicted IoU and stability its automatic mask needed, and the rank taken (0:
/// the best).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grounder {
    pub segmenter: String,
    pub segmenter_digest: String,
    pub scorer: String,
    pub scorer_digest: String,
    pub min_score: Score,
    #[serde(default = "default_min_iou")]
    pub min_iou: Score,
    #[serde(default = "default_min_stability")]
    pub min_stability: Score,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub candidate: u32,
}

/// The reference automatic mask generator's `pred_iou_thresh`.
pub const DEFAULT_MIN_IOU: f32 = 0.88;
/// The reference automatic mask generator's `stability_score_thresh`.
pub const DEFAULT_MIN_STABILITY: f32 = 0.95;

fn default_min_iou() -> Score {
    Score(DEFAULT_MIN_IOU)
}

fn default_min_stability() -> Score {
    Score(DEFAULT_MIN_STABILITY)
}

/// The shape of a mask, in the pixels of the image the step edits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MaskShape {
    /// A hard-edged rectangle.
    Rect { x: u32, y: u32, w: u32, h: u32 },
    /// An ellipse inscribed in the rectangle.
    Ellipse { x: u32, y: u32, w: u32, h: u32 },
    /// A mask image stored in the session (white marks what to change).
    File { image: ImageRef },
    /// Clicks for a segmentation model.
    Points {
        points: Vec<MaskPoint>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        segmenter: Option<Segmenter>,
    },
    /// A box prompt for a segmentation model (the object inside it, not the box itself),
    /// optionally with clicks that refine it.
    Box {
        x: u32,
        y: u32,
        w: u32,
        h: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        points: Vec<MaskPoint>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        segmenter: Option<Segmenter>,
    },
    /// Words naming what to mask ("the red shirt"), found by scoring a segmentation model's
    /// candidates against them; `region` (position words) favours candidates on that side.
    Text {
        target: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        region: Option<Region>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grounder: Option<Grounder>,
    },
}

impl MaskShape {
    pub fn rect(r: Rect) -> MaskShape {
        MaskShape::Rect {
            x: r.x,
            y: r.y,
            w: r.w,
            h: r.h,
        }
    }

    pub fn ellipse(r: Rect) -> MaskShape {
        MaskShape::Ellipse {
            x: r.x,
            y: r.y,
            w: r.w,
            h: r.h,
        }
    }

    /// A prompt for a segmentation model: a box (with any refining clicks) or clicks alone.
    pub fn prompt(
        points: Vec<MaskPoint>,
        bbox: Option<Rect>,
        segmenter: Option<Segmenter>,
    ) -> MaskShape {
        match bbox {
            Some(b) => MaskShape::Box {
                x: b.x,
                y: b.y,
                w: b.w,
                h: b.h,
                points,
                segmenter,
            },
            None => MaskShape::Points { points, segmenter },
        }
    }

    /// The bounding rectangle of a drawn shape or box prompt.
    pub fn bounds(&self) -> Option<Rect> {
        match *self {
            MaskShape::Rect { x, y, w, h }
            | MaskShape::Ellipse { x, y, w, h }
            | MaskShape::Box { x, y, w, h, .. } => Some(Rect { x, y, w, h }),
            _ => None,
        }
    }

    /// The kind's name, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            MaskShape::Rect { .. } => "rect",
            MaskShape::Ellipse { .. } => "ellipse",
            MaskShape::File { .. } => "file",
            MaskShape::Points { .. } => "points",
            MaskShape::Box { .. } => "box",
            MaskShape::Text { .. } => "text",
        }
    }

    /// True for the prompts that a segmentation model must turn into a mask.
    pub fn needs_model(&self) -> bool {
        matches!(
            self,
            MaskShape::Points { .. } | MaskShape::Box { .. } | MaskShape::Text { .. }
        )
    }
}

/// A mask to apply to a step: its shape, then grown and feathered by so many pixels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskSpec {
    pub shape: MaskShape,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub grow: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub feather: u32,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl MaskSpec {
    pub fn new(shape: MaskShape) -> MaskSpec {
        MaskSpec {
            shape,
            grow: 0,
            feather: 0,
        }
    }
}

impl fmt::Display for MaskSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.shape {
            MaskShape::Rect { x, y, w, h } => write!(f, "rect {x},{y} {w}x{h}")?,
            MaskShape::Ellipse { x, y, w, h } => write!(f, "ellipse {x},{y} {w}x{h}")?,
            MaskShape::Box {
                x, y, w, h, points, ..
            } => {
                write!(f, "box {x},{y} {w}x{h}")?;
                if !points.is_empty() {
                    write!(f, " + {} points", points.len())?;
                }
            }
            MaskShape::File { image } => {
                let name = image.path.rsplit('/').next().unwrap_or(&image.path);
                write!(f, "file {}", name.chars().take(12).collect::<String>())?
            }
            MaskShape::Points { points, .. } => write!(f, "{} points", points.len())?,
            MaskShape::Text { target, region, .. } => {
                write!(f, "\"{target}\"")?;
                if let Some(r) = region {
                    write!(f, " ({r})")?;
                }
            }
        }
        if self.grow > 0 {
            write!(f, " +{}", self.grow)?;
        }
        if self.feather > 0 {
            write!(f, " ~{}", self.feather)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Holder {
        mask_spec: MaskSpec,
    }

    #[test]
    fn every_shape_round_trips_through_toml() {
        let shapes = [
            MaskShape::Rect {
                x: 1,
                y: 2,
                w: 3,
                h: 4,
            },
            MaskShape::Ellipse {
                x: 1,
                y: 2,
                w: 3,
                h: 4,
            },
            MaskShape::File {
                image: ImageRef {
                    path: "images/ab.png".into(),
                    blake3: "ab".into(),
                },
            },
            MaskShape::Points {
                points: vec![MaskPoint {
                    x: 5,
                    y: 6,
                    positive: false,
                }],
                segmenter: Some(Segmenter {
                    model: "mobile-sam".into(),
                    digest: "cafe".into(),
                    candidate: 2,
                    width: 640,
                    height: 480,
                }),
            },
            MaskShape::Box {
                x: 0,
                y: 0,
                w: 9,
                h: 9,
                points: vec![],
                segmenter: None,
            },
            MaskShape::Text {
                target: "the red shirt".into(),
                region: None,
                grounder: None,
            },
            MaskShape::Text {
                target: "左边的杯子".into(),
                region: Some(Region::Left),
                grounder: Some(Grounder {
                    segmenter: "mobile-sam".into(),
                    segmenter_digest: "cafe".into(),
                    scorer: "chinese-clip-vit-b-16".into(),
                    scorer_digest: "f00d".into(),
                    min_score: Score(0.2),
                    min_iou: Score(0.5),
                    min_stability: Score(DEFAULT_MIN_STABILITY),
                    candidate: 1,
                }),
            },
        ];
        for shape in shapes {
            let h = Holder {
                mask_spec: MaskSpec {
                    shape,
                    grow: 4,
                    feather: 0,
                },
            };
            let text = toml::to_string(&h).unwrap();
            assert!(!text.contains("feather"), "{text}");
            assert_eq!(toml::from_str::<Holder>(&text).unwrap(), h, "{text}");
        }
        let bad = "[mask_spec.shape]\nkind = \"blob\"\n";
        assert!(toml::from_str::<Holder>(bad).is_err());
    }
}
