//! SAM's automatic masks over a whole image, as the reference `SamAutomaticMaskGenerator`
//! makes them with one crop (`crop_n_layers=0`, `min_mask_region_area=0`): a grid of positive
//! points, each decoded into its three multimask outputs; those filtered by predicted IoU and
//! stability score, thresholded at 0, boxed, and de-duplicated by box NMS, best IoU first.
//!
//! One departure, for speed on photos: the reference scores masks at the original size; an
//! image larger than the model's input (1024 on its longest side) is scored at the resized
//! size instead, and only the kept masks are made at the original size. Images up to the input
//! size, as the parity fixtures are, get exactly the reference's steps.

use crate::segment::sam::{serial, Embedding, Prediction, Sam};
use crate::segment::SegmentError;
use image::GrayImage;
use std::cmp::Ordering;

/// The generator's parameters (the reference's names and defaults, but for the grid: 8 points
/// a side rather than 32, since each point costs a pass of the mask decoder, about 60 ms of
/// one CPU core at full size, and words-to-mask must stay within seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct AutoParams {
    pub points_per_side: usize,
    /// Prompts decoded at once; the results do not depend on it (one at a time measured
    /// fastest on a CPU: the batch's image-sized tensors outgrow the caches).
    pub points_per_batch: usize,
    /// Kept: predicted IoU above this (0 or below: no filter).
    pub pred_iou_thresh: f32,
    /// Kept: stability at or above this (0 or below: no filter).
    pub stability_score_thresh: f32,
    pub stability_score_offset: f32,
    pub box_nms_thresh: f64,
}

impl Default for AutoParams {
    fn default() -> Self {
        AutoParams {
            points_per_side: 8,
            points_per_batch: 1,
            pred_iou_thresh: crate::core::DEFAULT_MIN_IOU,
            stability_score_thresh: crate::core::DEFAULT_MIN_STABILITY,
            stability_score_offset: 1.0,
            box_nms_thresh: 0.7,
        }
    }
}

/// One automatic mask.
#[derive(Debug, Clone)]
pub struct AutoMask {
    /// 255 inside (logit above 0), 0 outside; the image's size.
    pub mask: GrayImage,
    /// x0, y0, x1, y1: the first and last rows and columns inside, both inclusive (all 0 for an
    /// empty mask), as the reference's `batched_mask_to_box`.
    pub bbox: [u32; 4],
    pub area: u64,
    pub iou: f32,
    pub stability: f32,
    /// The grid point that made it, in the image's pixels.
    pub point: (f64, f64),
}

/// The reference's `build_point_grid(n)` scaled to a `w` x `h` image: row by row, x fastest.
pub fn point_grid(n: usize, (w, h): (u32, u32)) -> Vec<(f64, f64)> {
    let offset = 1.0 / (2.0 * n as f64);
    // numpy's linspace: start + i * step, the last exactly the stop.
    let stop = 1.0 - offset;
    let step = if n > 1 {
        (stop - offset) / (n - 1) as f64
    } else {
        0.0
    };
    let side: Vec<f64> = (0..n)
        .map(|i| {
            if i + 1 == n && n > 1 {
                stop
            } else {
                offset + i as f64 * step
            }
        })
        .collect();
    let mut out = Vec::with_capacity(n * n);
    for &y in &side {
        for &x in &side {
            out.push((x * f64::from(w), y * f64::from(h)));
        }
    }
    out
}

/// Pixels above `offset` over pixels above `-offset` (the reference's
/// `calculate_stability_score` at mask threshold 0); NaN when none is above `-offset`.
pub fn stability_score(logits: &[f32], offset: f32) -> f32 {
    let inter = logits.iter().filter(|&&v| v > offset).count();
    let union = logits.iter().filter(|&&v| v > -offset).count();
    inter as f32 / union as f32
}

/// The reference's `batched_mask_to_box` for one mask (`w` wide, row-major).
pub fn mask_box(inside: impl Fn(usize) -> bool, (w, h): (usize, usize)) -> [u32; 4] {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if inside(y * w + x) {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
        }
    }
    if x0 == usize::MAX {
        return [0; 4];
    }
    [x0 as u32, y0 as u32, x1 as u32, y1 as u32]
}

/// Box IoU as torchvision's `nms` computes it (areas from corner differences, no +1).
pub fn box_iou(a: [u32; 4], b: [u32; 4]) -> f32 {
    let f = |v: u32| v as f32;
    let area = |r: [u32; 4]| (f(r[2]) - f(r[0])) * (f(r[3]) - f(r[1]));
    let iw = (f(a[2].min(b[2])) - f(a[0].max(b[0]))).max(0.0);
    let ih = (f(a[3].min(b[3])) - f(a[1].max(b[1]))).max(0.0);
    let inter = iw * ih;
    inter / (area(a) + area(b) - inter)
}

/// Greedy NMS, highest score first (ties in input order): the kept indices, best first.
pub fn nms(boxes: &[[u32; 4]], scores: &[f32], thresh: f64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut gone = vec![false; boxes.len()];
    let mut keep = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if gone[i] {
            continue;
        }
        keep.push(i);
        for &j in &order[k + 1..] {
            // A NaN IoU (two empty boxes) suppresses nothing, as in torchvision.
            if !gone[j] && f64::from(box_iou(boxes[i], boxes[j])) > thresh {
                gone[j] = true;
            }
        }
    }
    keep
}

fn model_error(e: candle_core::Error) -> SegmentError {
    SegmentError::Model(e.to_string())
}

/// What survives the filters before NMS: which point and token, and its scores and box.
struct Kept {
    point: usize,
    token: usize,
    iou: f32,
    stability: f32,
    /// In the pixels masks are scored at.
    bbox: [u32; 4],
}

/// The automatic masks of the embedded image, best predicted IoU first.
pub fn automatic_masks(
    sam: &Sam,
    emb: &Embedding,
    p: &AutoParams,
) -> Result<Vec<AutoMask>, SegmentError> {
    let (h, w) = emb.original;
    let points = point_grid(p.points_per_side, (w as u32, h as u32));
    // Where masks are scored: the original size, or the resized one when that is smaller.
    let (eh, ew) = if emb.input.0 * emb.input.1 < h * w {
        emb.input
    } else {
        (h, w)
    };
    let side = sam.config().image_size;
    let scored = |pred: &Prediction, token: usize| {
        crate::segment::sam::transform::postprocess_fast(
            &pred.low_res[token],
            pred.low,
            side,
            emb.input,
            (eh, ew),
        )
    };
    // Which of a point's multimask outputs pass the filters.
    let keep = |i: usize, pred: &Prediction| -> Vec<Kept> {
        let mut kept = Vec::new();
        // Tokens 1..: the multimask outputs.
        for token in 1..pred.iou.len() {
            let iou = pred.iou[token];
            // A NaN never passes a filter, as in the reference.
            if p.pred_iou_thresh > 0.0
                && iou.partial_cmp(&p.pred_iou_thresh) != Some(Ordering::Greater)
            {
                continue;
            }
            let logits = scored(pred, token);
            let stability = stability_score(&logits, p.stability_score_offset);
            if p.stability_score_thresh > 0.0
                && stability
                    .partial_cmp(&p.stability_score_thresh)
                    .is_none_or(Ordering::is_lt)
            {
                continue;
            }
            let bbox = mask_box(|k| logits[k] > 0.0, (ew, eh));
            kept.push(Kept {
                point: i,
                token,
                iou,
                stability,
                bbox,
            });
        }
        kept
    };
    let work = |first: usize, chunk: &[(f64, f64)]| {
        let preds = sam
            .predict_points(emb, chunk, p.points_per_batch)
            .map_err(model_error)?;
        let kept: Vec<Kept> = preds
            .iter()
            .enumerate()
            .flat_map(|(j, pred)| keep(first + j, pred))
            .collect();
        Ok::<_, SegmentError>((preds, kept))
    };
    // The first point with every core (it also makes the decoder's per-image work once),
    // then the rest shared out, each core running its share alone; results in point order.
    let (mut preds, mut kept) = work(0, &points[..points.len().min(1)])?;
    let rest = &points[preds.len()..];
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, rest.len().max(1));
    let per = rest.len().div_ceil(threads).max(1);
    let parts = std::thread::scope(|s| {
        let handles: Vec<_> = rest
            .chunks(per)
            .enumerate()
            .map(|(t, chunk)| {
                let work = &work;
                s.spawn(move || serial(|| work(1 + t * per, chunk)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(SegmentError::Model("a segmentation thread panicked".into()))
                })
            })
            .collect::<Vec<_>>()
    });
    for part in parts {
        let (p, k) = part?;
        preds.extend(p);
        kept.extend(k);
    }
    let boxes: Vec<[u32; 4]> = kept.iter().map(|k| k.bbox).collect();
    let scores: Vec<f32> = kept.iter().map(|k| k.iou).collect();
    // Masks are made again for the few NMS keeps, rather than held for every candidate.
    Ok(nms(&boxes, &scores, p.box_nms_thresh)
        .into_iter()
        .map(|i| {
            let k = &kept[i];
            let logits = sam.upscale(emb, &preds[k.point], k.token);
            let raw: Vec<u8> = logits
                .iter()
                .map(|&v| if v > 0.0 { 255 } else { 0 })
                .collect();
            let area = raw.iter().filter(|&&v| v > 0).count() as u64;
            let bbox = if (eh, ew) == (h, w) {
                k.bbox
            } else {
                mask_box(|i| raw[i] > 0, (w, h))
            };
            let mask = GrayImage::from_raw(w as u32, h as u32, raw)
                .unwrap_or_else(|| GrayImage::new(w as u32, h as u32));
            AutoMask {
                mask,
                bbox,
                area,
                iou: k.iou,
                stability: k.stability,
                point: points[k.point],
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_the_references() {
        let g = point_grid(2, (100, 80));
        assert_eq!(
            g,
            vec![(25.0, 20.0), (75.0, 20.0), (25.0, 60.0), (75.0, 60.0)]
        );
        assert_eq!(point_grid(16, (10, 10)).len(), 256);
    }

    #[test]
    fn boxes_stability_and_nms() {
        let m = [0u8, 1, 1, 0, 0, 1, 0, 0, 0];
        assert_eq!(mask_box(|k| m[k] > 0, (3, 3)), [1, 0, 2, 1]);
        assert_eq!(mask_box(|_| false, (3, 3)), [0; 4]);
        assert_eq!(stability_score(&[2.0, 0.5, -0.5, -2.0], 1.0), 1.0 / 3.0);
        assert!(stability_score(&[-2.0], 1.0).is_nan());
        let boxes = [
            [0, 0, 10, 10],
            [1, 1, 10, 10],
            [20, 20, 30, 30],
            [0; 4],
            [0; 4],
        ];
        assert!((box_iou(boxes[0], boxes[1]) - 0.81).abs() < 1e-6);
        let keep = nms(&boxes, &[0.5, 0.9, 0.7, 0.1, 0.2], 0.7);
        assert_eq!(keep, vec![1, 2, 4, 3]);
    }
}
