//! Words to a mask against the reference implementation: SAM's automatic candidates (every
//! generator case the manifest lists, from `segment_anything`'s `SamAutomaticMaskGenerator`),
//! Chinese-CLIP's crops, token ids, embeddings and scores (from `transformers`), at the
//! tolerances the manifest states. Written by scripts/make_grounding_fixtures.py. Fixture root:
//! `ZEDIT_GROUNDING_FIXTURES`, else tests/fixtures/grounding.
#![cfg(feature = "sam")]

use crate::common;

use candle_core::{DType, Device, Tensor};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use zedit::segment::grounding::automatic::{self, AutoParams};
use zedit::segment::grounding::{clip, crop, GroundParams, Grounder};

fn root() -> PathBuf {
    common::fixtures::root("ZEDIT_GROUNDING_FIXTURES", "grounding")
}

fn manifest() -> Value {
    common::fixtures::manifest(&root())
}

fn expected() -> HashMap<String, Tensor> {
    candle_core::safetensors::load(root().join("expected.safetensors"), &Device::Cpu).unwrap()
}

fn image() -> image::RgbImage {
    image::open(root().join(manifest()["image"].as_str().unwrap()))
        .unwrap()
        .to_rgb8()
}

fn grounder(m: &Value) -> Grounder {
    let dir = |k: &str| root().join(m[k].as_str().unwrap()).display().to_string();
    Grounder::open(Some(&dir("sam")), Some(&dir("clip"))).unwrap()
}

fn tol(m: &Value, k: &str) -> f64 {
    m["tolerance"][k].as_f64().unwrap()
}

/// `|ours - reference| <= atol + rtol * |reference|` for every element (NaN equals NaN).
fn close(what: &str, ours: &[f32], theirs: &[f32], atol: f64, rtol: f64) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        if a.is_nan() && b.is_nan() {
            continue;
        }
        let d = (f64::from(a) - f64::from(b)).abs();
        assert!(
            d <= atol + rtol * f64::from(b).abs(),
            "{what}[{i}]: ours {a}, reference {b} (difference {d:e})"
        );
    }
}

fn params(case: &Value) -> AutoParams {
    let f = |k: &str| case[k].as_f64().unwrap();
    AutoParams {
        points_per_side: manifest()["points_per_side"].as_u64().unwrap() as usize,
        points_per_batch: 16,
        pred_iou_thresh: f("pred_iou_thresh") as f32,
        stability_score_thresh: f("stability_score_thresh") as f32,
        stability_score_offset: f("stability_score_offset") as f32,
        box_nms_thresh: f("box_nms_thresh"),
    }
}

#[test]
fn every_grid_points_predictions_and_stability_match() {
    let m = manifest();
    let exp = expected();
    let g = grounder(&m);
    let img = image();
    let emb = g.sam.embed(&img).unwrap();
    let n = m["points_per_side"].as_u64().unwrap() as usize;
    let grid = automatic::point_grid(n, img.dimensions());
    let flat: Vec<f32> = grid
        .iter()
        .flat_map(|&(x, y)| [x as f32, y as f32])
        .collect();
    close(
        "grid points",
        &flat,
        &common::fixtures::f32s(&exp["grid.points"]),
        1e-5,
        0.0,
    );
    let preds = g.sam.sam().predict_points(&emb, &grid, 16).unwrap();
    let iou: Vec<f32> = preds.iter().flat_map(|p| p.iou[1..].to_vec()).collect();
    let (atol, rtol) = (tol(&m, "atol"), tol(&m, "rtol"));
    close(
        "grid iou",
        &iou,
        &common::fixtures::f32s(&exp["grid.iou"]),
        atol,
        rtol,
    );
    for off in ["1.0", "0.05"] {
        let o: f32 = off.parse().unwrap();
        let ours: Vec<f32> = preds
            .iter()
            .flat_map(|p| {
                (1..p.iou.len())
                    .map(|t| automatic::stability_score(&g.sam.sam().upscale(&emb, p, t), o))
                    .collect::<Vec<_>>()
            })
            .collect();
        let theirs = common::fixtures::f32s(&exp[&format!("grid.stability_{off}")]);
        close(
            &format!("stability {off}"),
            &ours,
            &theirs,
            tol(&m, "stability"),
            0.0,
        );
    }
}

#[test]
fn every_generator_case_gives_the_references_candidates() {
    let m = manifest();
    let exp = expected();
    let g = grounder(&m);
    let img = image();
    let (w, h) = img.dimensions();
    let emb = g.sam.embed(&img).unwrap();
    let near = common::fixtures::f32s(&exp["grid.logits_abs_min"]);
    let margin = tol(&m, "mask_logit_margin") as f32;
    for case in m["generator_cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let found = automatic::automatic_masks(g.sam.sam(), &emb, &params(case)).unwrap();
        let count = case["count"].as_u64().unwrap() as usize;
        assert_eq!(found.len(), count, "{name}: candidates");
        let iou: Vec<f32> = found.iter().map(|c| c.iou).collect();
        close(
            &format!("{name} iou"),
            &iou,
            &common::fixtures::f32s(&exp[&format!("{name}.iou")]),
            1e-4,
            1e-4,
        );
        let st: Vec<f32> = found.iter().map(|c| c.stability).collect();
        let theirs = common::fixtures::f32s(&exp[&format!("{name}.stability")]);
        close(
            &format!("{name} stability"),
            &st,
            &theirs,
            tol(&m, "stability"),
            0.0,
        );
        let boxes = exp[&format!("{name}.boxes")].to_dtype(DType::I64).unwrap();
        let boxes: Vec<Vec<i64>> = if count > 0 {
            boxes.to_vec2().unwrap()
        } else {
            vec![]
        };
        let masks = common::fixtures::f32s(&exp[&format!("{name}.masks")]);
        let points = common::fixtures::f32s(&exp[&format!("{name}.points")]);
        for (i, c) in found.iter().enumerate() {
            let [x0, y0, x1, y1] = c.bbox.map(i64::from);
            assert_eq!(vec![x0, y0, x1 - x0, y1 - y0], boxes[i], "{name} box {i}");
            assert!(
                (c.point.0 as f32 - points[2 * i]).abs() < 1e-4,
                "{name} point {i}"
            );
            assert!(
                (c.point.1 as f32 - points[2 * i + 1]).abs() < 1e-4,
                "{name} point {i}"
            );
            let plane = &masks[i * (w * h) as usize..(i + 1) * (w * h) as usize];
            let differ = c
                .mask
                .as_raw()
                .iter()
                .zip(plane)
                .zip(&near)
                .filter(|((&a, &b), &n)| (a > 0) != (b > 0.5) && n >= margin)
                .count();
            assert_eq!(
                differ, 0,
                "{name} mask {i}: pixels differ away from the threshold"
            );
        }
    }
}

#[test]
fn crops_token_ids_embeddings_and_scores_match() {
    let m = manifest();
    let exp = expected();
    let g = grounder(&m);
    let img = image();
    let (w, h) = img.dimensions();
    let (atol, rtol) = (tol(&m, "atol"), tol(&m, "rtol"));
    let case = m["clip_case"].as_str().unwrap();
    let masks = common::fixtures::f32s(&exp[&format!("{case}.masks")]);
    let fill: Vec<u8> = m["clip_fill"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(fill, crop::fill().to_vec());
    let side = g.clip.image_size;
    let theirs_px = common::fixtures::f32s(&exp["clip.pixel_values"]);
    let plane = 3 * side * side;
    let kept: Vec<usize> = m["clip_candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let mut ours_px = Vec::new();
    for (k, &i) in kept.iter().enumerate() {
        let raw: Vec<u8> = masks[i * (w * h) as usize..(i + 1) * (w * h) as usize]
            .iter()
            .map(|&v| if v > 0.5 { 255 } else { 0 })
            .collect();
        let mask = image::GrayImage::from_raw(w, h, raw).unwrap();
        let bbox = automatic::mask_box(|p| mask.as_raw()[p] > 0, (w as usize, h as usize));
        let px = crop::pixel_values(&crop::masked_crop(&img, &mask, bbox, crop::fill()), side);
        close(
            &format!("pixels {i}"),
            &px,
            &theirs_px[k * plane..(k + 1) * plane],
            1e-5,
            0.0,
        );
        ours_px.push(px);
    }
    let image_embeds = g.clip.embed_images(&ours_px, 4).unwrap();
    let theirs_img = exp["clip.image_embeds"].to_vec2::<f32>().unwrap();
    for (k, e) in image_embeds.iter().enumerate() {
        close(
            &format!("image embedding {k}"),
            e,
            &theirs_img[k],
            atol,
            rtol,
        );
    }
    let theirs_text = exp["clip.text_embeds"].to_vec2::<f32>().unwrap();
    let cosine = exp["clip.cosine"].to_vec2::<f32>().unwrap();
    let logits = exp["clip.logits"].to_vec2::<f32>().unwrap();
    for (j, p) in m["phrases"].as_array().unwrap().iter().enumerate() {
        let text = p["text"].as_str().unwrap();
        let ids: Vec<u32> = p["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(g.clip.text_ids(text).unwrap(), ids, "ids of '{text}'");
        let t = g.clip.embed_text(text).unwrap();
        close(
            &format!("text embedding '{text}'"),
            &t,
            &theirs_text[j],
            atol,
            rtol,
        );
        let sims: Vec<f32> = image_embeds.iter().map(|e| clip::cosine(e, &t)).collect();
        close(&format!("cosine '{text}'"), &sims, &cosine[j], atol, rtol);
        let ours_logits: Vec<f32> = sims.iter().map(|s| s * g.clip.logit_scale).collect();
        close(
            &format!("logits '{text}'"),
            &ours_logits,
            &logits[j],
            atol,
            rtol,
        );
    }
}

#[test]
fn grounding_ranks_by_score_and_refuses_what_matches_nothing() {
    let m = manifest();
    let exp = expected();
    let g = grounder(&m);
    let img = image();
    let case = &m["generator_cases"][0];
    let cosine = exp["clip.cosine"].to_vec2::<f32>().unwrap();
    for (j, p) in m["phrases"].as_array().unwrap().iter().enumerate() {
        let text = p["text"].as_str().unwrap();
        let region = zedit::plan::find_region(text);
        let mut params = GroundParams::new(-1.0);
        params.auto = params_of(case);
        let found = g.ground(&img, text, region, &params).unwrap();
        let mut sims: Vec<f32> = found.candidates.iter().map(|c| c.similarity).collect();
        let mut theirs = cosine[j].clone();
        sims.sort_by(f32::total_cmp);
        theirs.sort_by(f32::total_cmp);
        close(
            &format!("similarities '{text}'"),
            &sims,
            &theirs,
            1e-4,
            1e-4,
        );
        let scores: Vec<f32> = found.candidates.iter().map(|c| c.score).collect();
        assert!(
            scores.windows(2).all(|s| s[0] >= s[1]),
            "'{text}' ranked best first"
        );
        let total: f32 = found.candidates.iter().map(|c| c.probability).sum();
        assert!((total - 1.0).abs() < 1e-4);
        for c in &found.candidates {
            let bonus = c
                .position
                .map_or(0.0, |f| params.position_weight * (2.0 * f - 1.0));
            assert!((c.score - c.similarity - bonus).abs() < 1e-6);
            assert_eq!(c.position.is_some(), region.is_some(), "'{text}'");
        }
        // Above the best similarity nothing matches, and the error says by how much.
        let best = theirs[theirs.len() - 1];
        params.min_score = best + 0.01;
        let e = g
            .ground(&img, text, region, &params)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("no region matches '{text}'")), "{e}");
        assert!(e.contains(&format!("{best:.3}")), "{e}");
    }
}

fn params_of(case: &Value) -> AutoParams {
    params(case)
}
