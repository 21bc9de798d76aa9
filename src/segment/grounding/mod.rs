//! Words to a mask: SAM's automatic masks over the image (see `automatic`), each candidate's
//! masked crop scored against the words by Chinese-CLIP (cosine similarity of the two
//! embeddings), position words ("on the right", "左边的") adding a small bonus by where the
//! candidate's centroid lies; ranked best first. A candidate below the threshold never counts:
//! no match is an error naming the best score, never a mask of the whole image.

pub mod automatic;
pub mod clip;
pub mod crop;
pub mod models;
pub mod replay;

use crate::core::Region;
use crate::segment::sam::Embedding;
use crate::segment::{SegmentError, SegmentModel};
use automatic::{AutoMask, AutoParams};
pub use clip::ClipScorer;
use image::{GrayImage, RgbImage};

/// How candidates are found and ranked.
#[derive(Debug, Clone, PartialEq)]
pub struct GroundParams {
    pub auto: AutoParams,
    /// Candidates scored by CLIP: the best this many by predicted IoU (each costs one pass of
    /// the vision tower).
    pub max_candidates: usize,
    /// Candidates smaller than this share of the image are dropped before scoring.
    pub min_area: f64,
    /// The cosine similarity a candidate needs.
    pub min_score: f32,
    /// How much a perfect position adds to (and the opposite position takes from) the score.
    pub position_weight: f32,
    /// Crops embedded at once.
    pub crop_batch: usize,
}

impl GroundParams {
    pub fn new(min_score: f32) -> GroundParams {
        GroundParams {
            auto: AutoParams::default(),
            max_candidates: 6,
            min_area: 0.001,
            min_score,
            position_weight: 0.05,
            crop_batch: 4,
        }
    }
}

/// One scored candidate.
#[derive(Debug, Clone)]
pub struct TextCandidate {
    pub mask: GrayImage,
    /// x0, y0, x1, y1, inclusive.
    pub bbox: [u32; 4],
    pub area: u64,
    /// SAM's predicted IoU and stability score.
    pub iou: f32,
    pub stability: f32,
    /// Cosine similarity of the crop and the words.
    pub similarity: f32,
    /// The model's logit (similarity times its scale) and its softmax over the candidates.
    pub logit: f32,
    pub probability: f32,
    /// How well the centroid fits the position words, 0..1 (none without them).
    pub position: Option<f32>,
    /// What candidates are ranked by: the similarity plus the position bonus.
    pub score: f32,
}

/// The candidates for some words, best first; only those at or above the threshold.
#[derive(Debug, Clone)]
pub struct Grounding {
    pub candidates: Vec<TextCandidate>,
}

/// How well a centroid (0..1 across, 0..1 down) fits a named region, 0..1.
pub fn position_fit(region: Region, (cx, cy): (f32, f32)) -> Option<f32> {
    let fit = match region {
        Region::Left => 1.0 - cx,
        Region::Right => cx,
        Region::Top => 1.0 - cy,
        Region::Bottom => cy,
        Region::TopLeft => (2.0 - cx - cy) / 2.0,
        Region::TopRight => (1.0 + cx - cy) / 2.0,
        Region::BottomLeft => (1.0 - cx + cy) / 2.0,
        Region::BottomRight => (cx + cy) / 2.0,
        Region::Center => 1.0 - ((cx - 0.5).hypot(cy - 0.5) / 0.5f32.hypot(0.5)),
        Region::Background | Region::Rect(_) => return None,
    };
    Some(fit.clamp(0.0, 1.0))
}

fn centroid(mask: &GrayImage) -> (f32, f32) {
    let (mut sx, mut sy, mut n) = (0f64, 0f64, 0f64);
    for (x, y, p) in mask.enumerate_pixels() {
        if p.0[0] > 0 {
            sx += f64::from(x) + 0.5;
            sy += f64::from(y) + 0.5;
            n += 1.0;
        }
    }
    let (w, h) = (f64::from(mask.width()), f64::from(mask.height()));
    ((sx / n.max(1.0) / w) as f32, (sy / n.max(1.0) / h) as f32)
}

/// Both models, loaded.
#[derive(Debug)]
pub struct Grounder {
    pub sam: std::sync::Arc<SegmentModel>,
    pub clip: std::sync::Arc<ClipScorer>,
}

impl Grounder {
    /// Resolves both models (`None`: the defaults) and takes them from the process's cache,
    /// loading them on the CPU the first time (the worker keeps them between steps).
    pub fn open(sam: Option<&str>, clip: Option<&str>) -> Result<Grounder, SegmentError> {
        let clip = crate::segment::cache::scorer(clip)?;
        let sam = crate::segment::cache::model(sam)?;
        Ok(Grounder { sam, clip })
    }

    /// The words' candidates on `image`, ranked; an error when none reaches the threshold.
    pub fn ground(
        &self,
        image: &RgbImage,
        words: &str,
        region: Option<Region>,
        p: &GroundParams,
    ) -> Result<Grounding, SegmentError> {
        check_words(words)?;
        crate::segment::check_image_size(image.dimensions())?;
        let (emb, _) = crate::segment::cache::embedding(&self.sam, image)?;
        self.ground_embedded(&emb, image, words, region, p)
    }

    /// [`Grounder::ground`] with the image's SAM embedding already made.
    pub fn ground_embedded(
        &self,
        emb: &Embedding,
        image: &RgbImage,
        words: &str,
        region: Option<Region>,
        p: &GroundParams,
    ) -> Result<Grounding, SegmentError> {
        check_words(words)?;
        let found = automatic::automatic_masks(self.sam.sam(), emb, &p.auto)?;
        let total = f64::from(image.width()) * f64::from(image.height());
        let found: Vec<AutoMask> = found
            .into_iter()
            .filter(|m| m.area > 0 && m.area as f64 >= p.min_area * total)
            .take(p.max_candidates)
            .collect();
        if found.is_empty() {
            return Err(SegmentError::BadInput(format!(
                "no region matches '{words}': the segmentation model found no object in the \
                 image to score (best score: none)"
            )));
        }
        let fill = crop::fill();
        let pixels: Vec<Vec<f32>> = found
            .iter()
            .map(|m| {
                crop::pixel_values(
                    &crop::masked_crop(image, &m.mask, m.bbox, fill),
                    self.clip.image_size,
                )
            })
            .collect();
        let images = self.clip.embed_images(&pixels, p.crop_batch)?;
        let text = self.clip.embed_text(words)?;
        let sims: Vec<f32> = images.iter().map(|e| clip::cosine(e, &text)).collect();
        let logits: Vec<f32> = sims.iter().map(|s| s * self.clip.logit_scale).collect();
        let top = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let total_exp: f32 = logits.iter().map(|l| (l - top).exp()).sum();
        let mut all: Vec<TextCandidate> = found
            .into_iter()
            .zip(sims.iter().zip(&logits))
            .map(|(m, (&similarity, &logit))| {
                let position = region.and_then(|r| position_fit(r, centroid(&m.mask)));
                let bonus = position.map_or(0.0, |f| p.position_weight * (2.0 * f - 1.0));
                TextCandidate {
                    bbox: m.bbox,
                    area: m.area,
                    iou: m.iou,
                    stability: m.stability,
                    similarity,
                    logit,
                    probability: (logit - top).exp() / total_exp,
                    position,
                    score: similarity + bonus,
                    mask: m.mask,
                }
            })
            .collect();
        all.sort_by(|a, b| b.score.total_cmp(&a.score));
        let best = all
            .iter()
            .max_by(|a, b| a.similarity.total_cmp(&b.similarity))
            .map(|c| (c.similarity, c.bbox));
        all.retain(|c| c.similarity >= p.min_score);
        if all.is_empty() {
            let (s, b) = best.unwrap_or((f32::NAN, [0; 4]));
            return Err(SegmentError::BadInput(format!(
                "no region matches '{words}': the best score is {s:.3} (a candidate at {},{} \
                 {}x{}), below the threshold {:.3}; try other words, or a lower --min-score",
                b[0],
                b[1],
                b[2] - b[0] + 1,
                b[3] - b[1] + 1,
                p.min_score
            )));
        }
        Ok(Grounding { candidates: all })
    }
}

/// Words are required and bounded.
pub fn check_words(words: &str) -> Result<(), SegmentError> {
    if words.trim().is_empty() {
        return Err(SegmentError::BadInput(
            "--text is empty: name what to mask, e.g. --text \"the red cup\" or --text 杯子".into(),
        ));
    }
    if words.chars().count() > 200 {
        return Err(SegmentError::BadInput(format!(
            "--text is {} characters long; name the target in a few words (at most 200)",
            words.chars().count()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_words_favour_their_side() {
        let left = (0.1, 0.5);
        let right = (0.9, 0.5);
        let fit = |r, c| position_fit(r, c).unwrap();
        assert!(fit(Region::Left, left) > fit(Region::Left, right));
        assert!(fit(Region::Right, right) > fit(Region::Right, left));
        assert!(fit(Region::Center, (0.5, 0.5)) > fit(Region::Center, right));
        assert!(fit(Region::BottomRight, (0.9, 0.9)) > fit(Region::BottomRight, (0.1, 0.1)));
        assert_eq!(position_fit(Region::Background, left), None);
        let mut m = GrayImage::new(10, 4);
        m.put_pixel(9, 0, image::Luma([255]));
        let (cx, cy) = centroid(&m);
        assert!((cx - 0.95).abs() < 1e-6 && (cy - 0.125).abs() < 1e-6);
    }

    #[test]
    fn empty_and_long_words_are_refused() {
        assert!(check_words("  ")
            .unwrap_err()
            .to_string()
            .contains("--text is empty"));
        let long = "杯".repeat(201);
        assert!(check_words(&long).unwrap_err().to_string().contains("201"));
        assert!(check_words("杯子").is_ok());
    }
}
