//! Words to a mask through the real binary, on the tiny grounding fixture models (a random ViT
//! SAM and a random Chinese-CLIP): `zedit segment --text`, `zedit edit --mask-text` and
//! `--mask-from target` recording the text mask spec, `replay --verify` and `replay --on`, and
//! words that match nothing refused with the best score and nothing saved changed.
#![cfg(feature = "sam")]

use crate::common;
use common::*;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grounding")
}

/// The fixture models, and filters open enough for random weights (the default threshold of
/// a folder model, 0.2, is above every similarity the tiny model gives).
fn models(cmd: &mut assert_cmd::Command, sam_flag: &str, open: bool) {
    cmd.arg(sam_flag)
        .arg(fixtures().join("sam_vit_tiny"))
        .arg("--clip-model")
        .arg(fixtures().join("clip_tiny"))
        .args(["--min-iou", "0", "--min-stability", "0"]);
    if open {
        cmd.args(["--min-score", "-1"]);
    }
}

fn segment_text(root: &Path, words: &str, extra: &[&str], open: bool) -> std::process::Output {
    let mut cmd = zedit(root);
    cmd.args(["segment", "s", "--text", words]).args(extra);
    models(&mut cmd, "--model", open);
    cmd.output().unwrap()
}

#[test]
fn segment_text_stores_masks_of_the_image_size_ranked_with_scores() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = session_from(root, "s", &fixtures().join("image.png"));
    let out = segment_text(root, "the blue box on the right", &["--json"], true);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let json: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(json["region"], "right");
    assert_eq!(json["scorer_digest"].as_str().unwrap().len(), 64);
    let c = json["candidates"].as_array().unwrap();
    assert!(!c.is_empty());
    let scores: Vec<f64> = c.iter().map(|c| c["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    for cand in c {
        assert!(cand["position"].as_f64().is_some(), "{cand}");
        assert!(cand["similarity"].as_f64().is_some(), "{cand}");
    }
    let path = text.lines().last().unwrap();
    assert_eq!(path, c[0]["mask"].as_str().unwrap());
    assert!(
        path.starts_with(dir.join("images").to_str().unwrap()),
        "{path}"
    );
    let mask = image::open(path).unwrap().to_luma8();
    assert_eq!(mask.dimensions(), (160, 104));
    assert!(mask.pixels().any(|p| p.0[0] == 255));
    // Chinese words and a position word too.
    let out = segment_text(root, "左边的红色圆盘", &[], true);
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn words_that_match_nothing_are_refused_with_the_best_score_and_nothing_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = session_from(root, "s", &fixtures().join("image.png"));
    let before = images_in(&dir);
    let toml_before = std::fs::read(dir.join("session.toml")).unwrap();
    let out = segment_text(root, "一只猫", &[], false);
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(err.contains("no region matches '一只猫'"), "{err}");
    assert!(err.contains("the best score is"), "{err}");
    for (words, extra, want) in [
        ("  ", vec![], "--text is empty"),
        ("cup", vec!["--point", "3,3"], "cannot be combined"),
        (
            "cup",
            vec!["--candidate", "9"],
            "--candidate 9 is out of range",
        ),
    ] {
        let out = segment_text(root, words, &extra, true);
        assert!(!out.status.success(), "{words:?} {extra:?}");
        assert!(stderr_of(&out).contains(want), "{}", stderr_of(&out));
    }
    assert_eq!(images_in(&dir), before, "a failed grounding stored nothing");
    assert_eq!(
        std::fs::read(dir.join("session.toml")).unwrap(),
        toml_before
    );
    // An edit whose words match nothing records the step as failed, with the reason, and
    // stores no image.
    let mut edit = zedit(root);
    edit.args([
        "edit", "s", "navy", "--op", "recolor", "--color", "navy", "--local",
    ])
    .args(["--mask-text", "一只猫"]);
    models(&mut edit, "--sam-model", false);
    let out = edit.output().unwrap();
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(err.contains("no region matches '一只猫'"), "{err}");
    let steps = steps_of(root, "s");
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["status"], "failed", "{}", steps[0]);
    assert!(steps[0]["output"].is_null() && steps[0]["mask"].is_null());
    assert_eq!(
        images_in(&dir),
        before,
        "a failed grounding stored no image"
    );
}

#[test]
fn missing_scoring_weights_name_the_fetch_command_and_the_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    session_from(root, "s", &fixtures().join("image.png"));
    let out = zedit(root)
        .args(["segment", "s", "--text", "cup", "--model"])
        .arg(fixtures().join("sam_vit_tiny"))
        .env("HF_HUB_CACHE", root.join("empty-cache"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(
        err.contains("zedit models fetch chinese-clip-vit-b-16"),
        "{err}"
    );
    assert!(err.contains("models/chinese-clip-vit-b-16.toml"), "{err}");
}

#[test]
fn an_edit_with_words_records_its_text_mask_and_replays_on_new_images() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = session_from(root, "s", &fixtures().join("image.png"));
    let mut edit = zedit(root);
    edit.args([
        "edit", "s", "navy", "--op", "recolor", "--color", "navy", "--seed", "3",
    ])
    .args(["--mask-text", "the blue box on the right", "--local"]);
    models(&mut edit, "--sam-model", true);
    let out = edit.output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let steps = steps_of(root, "s");
    let spec = &steps[0]["mask_spec"]["shape"];
    assert_eq!(spec["kind"], "text", "{spec}");
    assert_eq!(spec["target"], "the blue box on the right");
    assert_eq!(spec["region"], "right");
    let g = &spec["grounder"];
    assert!(
        g["segmenter"].as_str().unwrap().ends_with("sam_vit_tiny"),
        "{g}"
    );
    assert!(g["scorer"].as_str().unwrap().ends_with("clip_tiny"), "{g}");
    assert_eq!(g["segmenter_digest"].as_str().unwrap().len(), 64);
    assert_eq!(g["scorer_digest"].as_str().unwrap().len(), 64);
    assert_eq!(g["min_score"], -1.0);
    let mask = image::open(dir.join(steps[0]["mask"]["path"].as_str().unwrap()))
        .unwrap()
        .to_luma8();
    assert_eq!(mask.dimensions(), (160, 104));

    let out_dir = replay_verified_then_on_two_images(root);
    for (name, size) in [("a", (240, 156)), ("b", (90, 60))] {
        let m = image::open(out_dir.join(format!("{name}.mask1.png"))).unwrap();
        assert_eq!(
            (m.width(), m.height()),
            size,
            "{name}: one mask per image, at its size"
        );
    }
}

#[test]
fn mask_from_target_grounds_each_planned_step_from_its_own_words() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    session_from(root, "s", &fixtures().join("image.png"));
    let mut edit = zedit(root);
    edit.args([
        "edit",
        "s",
        "把左边的杯子改成蓝色",
        "--mask-from",
        "target",
        "--local",
    ]);
    models(&mut edit, "--sam-model", true);
    let out = edit.output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let steps = steps_of(root, "s");
    assert_eq!(steps.len(), 1, "{steps:?}");
    let spec = &steps[0]["mask_spec"]["shape"];
    assert_eq!(spec["kind"], "text", "{spec}");
    assert!(spec["target"].as_str().unwrap().contains("杯子"), "{spec}");
    assert_eq!(spec["region"], "left", "{spec}");
    assert!(!steps[0]["mask"].is_null());
    let out = zedit(root)
        .args(["replay", "s", "--verify"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));

    // A step with no target to find is refused before anything runs.
    let mut edit = zedit(root);
    edit.args([
        "edit",
        "s",
        "brighten",
        "--op",
        "relight",
        "--mask-from",
        "target",
        "--local",
    ]);
    models(&mut edit, "--sam-model", true);
    let out = edit.output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("names no target"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(steps_of(root, "s").len(), 1);
}
