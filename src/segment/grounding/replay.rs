//! The mask a recorded text spec makes on an image: both recorded models resolved again (their
//! files must still have the recorded digests), the recorded thresholds, the recorded rank.

use crate::segment::SegmentError;
use image::{GrayImage, RgbImage};

/// The mask words make on `image` with the recorded models (whose files must still have the
/// recorded digests), threshold and rank; without a record, the default models.
pub fn text_mask(
    words: &str,
    region: Option<crate::core::Region>,
    grounder: Option<&crate::core::Grounder>,
    image: &RgbImage,
) -> Result<GrayImage, SegmentError> {
    super::check_words(words)?;
    let g = super::Grounder::open(
        grounder.map(|g| g.segmenter.as_str()),
        grounder.map(|g| g.scorer.as_str()),
    )?;
    if let Some(r) = grounder {
        let short = |d: &str| d.chars().take(16).collect::<String>();
        for (what, name, had, now) in [
            (
                "segmentation",
                &r.segmenter,
                &r.segmenter_digest,
                &g.sam.digest,
            ),
            ("words-scoring", &r.scorer, &r.scorer_digest, &g.clip.digest),
        ] {
            if had != now {
                return Err(SegmentError::Unavailable(format!(
                    "{what} model '{name}' has files of digest {} but the mask was made with {}; \
                     restore those files or ground the words again",
                    short(now),
                    short(had)
                )));
            }
        }
    }
    let mut params = super::GroundParams::new(g.clip.min_score);
    if let Some(r) = grounder {
        params.min_score = r.min_score.0;
        params.auto.pred_iou_thresh = r.min_iou.0;
        params.auto.stability_score_thresh = r.min_stability.0;
    }
    let found = g.ground(image, words, region, &params)?;
    let pick = grounder.map_or(0, |r| r.candidate as usize);
    let masks = found.candidates.into_iter().map(|c| c.mask).collect();
    crate::segment::take_candidate(
        masks,
        pick,
        &format!("matches of '{words}' on this image are"),
    )
}
