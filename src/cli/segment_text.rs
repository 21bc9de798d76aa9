//! Words to a mask on the command line: `zedit segment --text WORDS` (every matching candidate
//! stored, the chosen one's path last on stdout) and the text mask spec of `zedit edit
//! --mask-text` and `--mask-from target`, with both models' names and digests recorded.

use crate::core::{MaskShape, MaskSpec, Region};
use crate::session::Session;
use anyhow::bail;
use std::process::ExitCode;

/// The models and threshold a text mask is resolved with.
#[derive(Debug, Clone, Default)]
#[cfg_attr(not(feature = "sam"), allow(dead_code))]
pub struct TextModels<'a> {
    pub sam: Option<&'a str>,
    pub clip: Option<&'a str>,
    pub min_score: Option<f32>,
    /// The automatic masks' filters (predicted IoU, stability); the reference's by default.
    pub min_iou: Option<f32>,
    pub min_stability: Option<f32>,
}

/// The words-scoring options `zedit edit` and `zedit segment` share.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WordsArgs {
    /// Words-scoring model for masks from words: chinese-clip-vit-b-16 (default) or a folder
    /// with config.json, vocab.txt and the weights
    #[arg(long, value_name = "M")]
    pub clip_model: Option<String>,
    /// The similarity a candidate needs to match the words (default: the scoring model's)
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub min_score: Option<f32>,
    /// The predicted IoU an automatic mask needs to be a candidate for the words (default 0.88)
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub min_iou: Option<f32>,
    /// The stability score an automatic mask needs to be a candidate (default 0.95)
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub min_stability: Option<f32>,
}

impl WordsArgs {
    /// These options with the segmentation model `sam`.
    pub fn models<'a>(&'a self, sam: Option<&'a str>) -> TextModels<'a> {
        TextModels {
            sam,
            clip: self.clip_model.as_deref(),
            min_score: self.min_score,
            min_iou: self.min_iou,
            min_stability: self.min_stability,
        }
    }
}

/// The position words of a phrase, as the planner reads them.
pub fn region_of(words: &str) -> Option<Region> {
    crate::plan::find_region(words)
}

/// The mask spec of `words` (position words `region`), both models resolved now so the step
/// records their names and digests.
pub fn text_mask_spec(
    words: &str,
    region: Option<Region>,
    models: &TextModels,
    grow: u32,
    feather: u32,
) -> anyhow::Result<MaskSpec> {
    let grounder = resolve(words, models)?;
    Ok(MaskSpec {
        shape: MaskShape::Text {
            target: words.trim().to_string(),
            region,
            grounder: Some(grounder),
        },
        grow,
        feather,
    })
}

#[cfg(feature = "sam")]
fn resolve(words: &str, m: &TextModels) -> anyhow::Result<crate::core::Grounder> {
    use crate::segment::{grounding, models};
    grounding::check_words(words)?;
    let sam = models::resolve(m.sam)?;
    let clip = grounding::models::resolve(m.clip)?;
    Ok(crate::core::Grounder {
        segmenter_digest: models::digest(&sam.weights)?,
        segmenter: sam.id,
        scorer_digest: grounding::models::digest(&clip)?,
        min_score: crate::core::Score(m.min_score.unwrap_or(clip.min_score)),
        min_iou: crate::core::Score(m.min_iou.unwrap_or(crate::core::DEFAULT_MIN_IOU)),
        min_stability: crate::core::Score(
            m.min_stability
                .unwrap_or(crate::core::DEFAULT_MIN_STABILITY),
        ),
        scorer: clip.id,
        candidate: 0,
    })
}

#[cfg(not(feature = "sam"))]
fn resolve(_: &str, _: &TextModels) -> anyhow::Result<crate::core::Grounder> {
    bail!("this zedit is built without segmentation: rebuild with `--features sam`")
}

/// `zedit segment SESSION --text WORDS`.
pub fn run(
    session: &Session,
    image: &image::RgbImage,
    words: &str,
    models: &TextModels,
    candidate: u32,
    json: bool,
) -> anyhow::Result<ExitCode> {
    ground_and_store(session, image, words, models, candidate, json)
}

#[cfg(feature = "sam")]
fn ground_and_store(
    session: &Session,
    image: &image::RgbImage,
    words: &str,
    models: &TextModels,
    candidate: u32,
    json: bool,
) -> anyhow::Result<ExitCode> {
    use super::absolute;
    use crate::printable::printable;
    use crate::segment::grounding::{self, GroundParams, Grounder};
    // Refused before any model loads.
    grounding::check_words(words)?;
    let (w, h) = image.dimensions();
    crate::segment::check_image_size((w, h))?;
    let g = Grounder::open(models.sam, models.clip)?;
    let region = region_of(words);
    let mut params = GroundParams::new(models.min_score.unwrap_or(g.clip.min_score));
    if let Some(v) = models.min_iou {
        params.auto.pred_iou_thresh = v;
    }
    if let Some(v) = models.min_stability {
        params.auto.stability_score_thresh = v;
    }
    // A failure here leaves the session as it was: nothing is stored before it succeeds.
    let found = g.ground(image, words, region, &params)?;
    let n = found.candidates.len();
    if candidate as usize >= n {
        bail!(
            "--candidate {candidate} is out of range: {n} candidates match '{words}' (0 to {})",
            n.saturating_sub(1)
        );
    }
    let mut stored = Vec::with_capacity(n);
    for c in &found.candidates {
        stored.push(session.put_image(&image::DynamicImage::ImageLuma8(c.mask.clone()))?);
    }
    let path = |i: usize| {
        absolute(&session.dir().join(&stored[i].path))
            .display()
            .to_string()
    };
    if json {
        let candidates: Vec<serde_json::Value> = found
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| {
                serde_json::json!({
                    "rank": i,
                    "score": c.score,
                    "similarity": c.similarity,
                    "logit": c.logit,
                    "probability": c.probability,
                    "position": c.position,
                    "iou": c.iou,
                    "stability": c.stability,
                    "area": c.area,
                    "box": [c.bbox[0], c.bbox[1], c.bbox[2] - c.bbox[0] + 1, c.bbox[3] - c.bbox[1] + 1],
                    "mask": path(i),
                    "blake3": stored[i].blake3,
                })
            })
            .collect();
        let out = serde_json::json!({
            "text": words,
            "region": region.map(|r| r.to_string()),
            "model": g.sam.id,
            "digest": g.sam.digest,
            "scorer": g.clip.id,
            "scorer_digest": g.clip.digest,
            "min_score": params.min_score,
            "width": w,
            "height": h,
            "chosen": candidate,
            "candidates": candidates,
        });
        println!("{out}");
    }
    println!("{}", printable(&path(candidate as usize)));
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "sam"))]
fn ground_and_store(
    _: &Session,
    _: &image::RgbImage,
    _: &str,
    _: &TextModels,
    _: u32,
    _: bool,
) -> anyhow::Result<ExitCode> {
    bail!("this zedit is built without segmentation: rebuild with `--features sam`")
}
