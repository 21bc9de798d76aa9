//! Segment Anything through the real binary, on the tiny MobileSAM fixture model: `zedit
//! segment` with points, a box and both; `zedit edit --point` recording its mask spec;
//! `replay --verify` and `replay --on`; and every bad input refused with nothing changed.
#![cfg(feature = "sam")]

use crate::common;
use common::*;
use image::GenericImageView;
use std::path::{Path, PathBuf};

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sam/mobile_sam_tiny")
}

fn fixture_image() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sam/image.png")
}

fn segment(root: &Path, args: &[&str]) -> std::process::Output {
    segment_with(root, &model_dir(), args)
}

fn segment_with(root: &Path, model: &Path, args: &[&str]) -> std::process::Output {
    zedit(root)
        .arg("segment")
        .args(args)
        .arg("--model")
        .arg(model)
        .output()
        .unwrap()
}

fn last_line(out: &std::process::Output) -> String {
    stdout_of(out)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn segment_writes_masks_of_the_image_size_for_points_boxes_and_both() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = session_from(root, "s", &fixture_image());
    // MobileSAM (TinyViT) and SAM's ViT encoder, each as a tiny fixture model.
    let vit = model_dir().with_file_name("vit_tiny");
    for (model, args) in [model_dir(), vit].into_iter().flat_map(|m| {
        [
            vec!["s", "--point", "70,40"],
            vec!["s", "--point", "70,40", "--neg", "30,20"],
            vec!["s", "--box", "20,15,76,52"],
            vec!["s", "--point", "55,35", "--box", "20,15,76,52"],
        ]
        .map(|a| (m.clone(), a))
    }) {
        let out = segment_with(root, &model, &args);
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
        let path = last_line(&out);
        assert!(
            path.starts_with(dir.join("images").to_str().unwrap()),
            "{path}"
        );
        let mask = image::open(&path).unwrap().to_luma8();
        assert_eq!(mask.dimensions(), (120, 78), "{args:?}");
        assert!(mask.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
        let inside = mask.pixels().filter(|p| p.0[0] == 255).count();
        assert!(
            inside > 0 && inside < 120 * 78,
            "{args:?}: a partial mask, got {inside}"
        );
    }
}

#[test]
fn json_lists_the_candidates_best_first_and_each_is_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    session_from(root, "s", &fixture_image());
    let out = segment(root, &["s", "--point", "70,40", "--json"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let json: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let c = json["candidates"].as_array().unwrap();
    assert_eq!(c.len(), 3);
    let ious: Vec<f64> = c.iter().map(|c| c["iou"].as_f64().unwrap()).collect();
    assert!(ious.windows(2).all(|w| w[0] >= w[1]), "{ious:?}");
    for cand in c {
        assert!(Path::new(cand["mask"].as_str().unwrap()).is_file());
    }
    assert_eq!(last_line(&out), c[0]["mask"].as_str().unwrap());
    assert_eq!(json["width"], 120);
    assert_eq!(json["digest"].as_str().unwrap().len(), 64);
    let second = segment(root, &["s", "--point", "70,40", "--candidate", "1"]);
    assert_eq!(last_line(&second), c[1]["mask"].as_str().unwrap());
}

#[test]
fn bad_prompts_are_refused_by_value_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = session_from(root, "s", &fixture_image());
    let before = images_in(&dir);
    let toml_before = std::fs::read(dir.join("session.toml")).unwrap();
    for (args, want) in [
        (
            vec!["s", "--point", "500,5"],
            "--point 500,5 is outside the 120x78 image",
        ),
        (
            vec!["s", "--point", "5,5", "--neg", "5,78"],
            "--neg 5,78 is outside",
        ),
        (vec!["s", "--box", "3,4,0,5"], "--box 3,4,0,5 is empty"),
        (
            vec!["s", "--box", "100,4,40,5"],
            "--box 100,4,40,5 reaches outside",
        ),
        (vec!["s"], "no prompt"),
        (
            vec!["s", "--point", "5,5", "--candidate", "7"],
            "--candidate 7 is out of range",
        ),
    ] {
        let out = segment(root, &args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = stderr_of(&out);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    let out = zedit(root)
        .args(["segment", "s", "--point", "1,x"])
        .output()
        .unwrap();
    assert!(
        stderr_of(&out).contains("'1,x' is not a point"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(
        images_in(&dir),
        before,
        "a failed segmentation stored nothing"
    );
    assert_eq!(
        std::fs::read(dir.join("session.toml")).unwrap(),
        toml_before
    );

    let small = write_image(root, "small.png", &test_image(12, 30, 1));
    session_from(root, "tiny", &small);
    let out = segment(root, &["tiny", "--point", "3,3"]);
    assert!(
        stderr_of(&out).contains("the image is 12x30"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn missing_weights_name_the_fetch_command_and_the_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    session_from(root, "s", &fixture_image());
    let out = zedit(root)
        .args(["segment", "s", "--point", "5,5"])
        .env("HF_HUB_CACHE", root.join("empty-cache"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(err.contains("zedit models fetch mobile-sam"), "{err}");
    assert!(err.contains("models/mobile-sam.toml"), "{err}");
    let out = zedit(root)
        .args(["segment", "s", "--point", "5,5", "--model", "no-such-model"])
        .output()
        .unwrap();
    assert!(
        stderr_of(&out).contains("'no-such-model'"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn an_edit_with_points_records_its_mask_spec_and_replays() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = session_from(root, "s", &fixture_image());
    let out = zedit(root)
        .args([
            "edit", "s", "navy", "--op", "recolor", "--color", "navy", "--seed", "3",
        ])
        .args([
            "--point",
            "70,40",
            "--neg",
            "30,20",
            "--local",
            "--sam-model",
        ])
        .arg(model_dir())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let steps = steps_of(root, "s");
    let spec = &steps[0]["mask_spec"]["shape"];
    assert_eq!(spec["kind"], "points", "{spec}");
    assert_eq!(spec["points"].as_array().unwrap().len(), 2);
    assert_eq!(spec["points"][1]["positive"], false);
    let seg = &spec["segmenter"];
    assert_eq!(seg["width"], 120);
    assert_eq!(seg["digest"].as_str().unwrap().len(), 64);
    assert!(
        seg["model"].as_str().unwrap().ends_with("mobile_sam_tiny"),
        "{seg}"
    );
    let mask_path = dir.join(steps[0]["mask"]["path"].as_str().unwrap());
    let mask = image::open(&mask_path).unwrap().to_luma8();
    assert_eq!(mask.dimensions(), (120, 78));
    // Outside the mask the recolor keeps every byte.
    let src = image::open(fixture_image()).unwrap().to_rgb8();
    let done = image::open(dir.join(steps[0]["output"]["path"].as_str().unwrap()))
        .unwrap()
        .to_rgb8();
    for (x, y, m) in mask.enumerate_pixels() {
        if m.0[0] == 0 {
            assert_eq!(src.get_pixel(x, y), done.get_pixel(x, y), "({x}, {y})");
        }
    }
    assert_ne!(src, done);

    let out_dir = replay_verified_then_on_two_images(root);
    assert_eq!(image::open(out_dir.join("a.png")).unwrap().width(), 240);
    assert_eq!(image::open(out_dir.join("b.png")).unwrap().width(), 90);
    // One mask per new image, segmented on it at its own size.
    assert_eq!(
        image::open(out_dir.join("a.mask1.png"))
            .unwrap()
            .dimensions(),
        (240, 156)
    );
    assert_eq!(
        image::open(out_dir.join("b.mask1.png"))
            .unwrap()
            .dimensions(),
        (90, 60)
    );
}
