//! Each op's recipe end to end through the CLI on the tiny Z-Image (CPU): `zedit edit --engine
//! zimage` derives and records the recipe, `zedit log` shows the prompt a step ran with,
//! `--prompt` / `--source-prompt` override it, a missing mask is refused with the ways to give
//! one, and `replay --verify` reproduces every output byte for byte.
#![cfg(feature = "zimage")]

use crate::common;

use common::{new_session, stderr_of, stdout_of, zedit};
use image::{GrayImage, Luma};
use std::path::{Path, PathBuf};

fn model() -> PathBuf {
    common::zimage_fixtures().join("tiny-zimage")
}

fn mask_file(root: &Path) -> PathBuf {
    let m = GrayImage::from_fn(64, 48, |x, y| {
        Luma([if (16..48).contains(&x) && (8..40).contains(&y) {
            255
        } else {
            0
        }])
    });
    let p = root.join("mask.png");
    m.save(&p).unwrap();
    p
}

fn edit(root: &Path, session: &str, text: &str, extra: &[&str]) -> std::process::Output {
    zedit(root)
        .args([
            "edit", session, text, "--engine", "zimage", "--local", "--steps", "4",
        ])
        .args(["--seed", "7", "--model"])
        .arg(model())
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn every_op_runs_its_recipe_is_recorded_and_replays_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    new_session(root, "s");
    let mask = mask_file(root);
    let mask = mask.to_str().unwrap();
    // (instruction, flags, mode, a word of the prompt)
    let runs: &[(&str, &[&str], &str, &str)] = &[
        (
            "删除男人,保留沙发",
            &["--mask", mask],
            "classic_prefill_inpaint",
            "沙发",
        ),
        ("在桌子上放一盆绿植", &["--mask", mask], "inpaint", "绿植"),
        ("把狗换成猫", &[], "flowedit", "猫"),
        (
            "make the shirt black",
            &["--mask", mask],
            "flowedit",
            "black",
        ),
        ("窗外阳光洒入", &[], "flowedit", "阳光"),
        ("改成吉卜力动画风", &[], "flowedit", "吉卜力"),
        ("让她笑一笑", &[], "img2img", "笑"),
    ];
    for (text, flags, _, _) in runs {
        let out = edit(root, "s", text, flags);
        assert!(out.status.success(), "{text}: {}", stderr_of(&out));
    }
    let steps = common::steps_of(root, "s");
    assert_eq!(steps.len(), runs.len());
    for (step, (text, _, mode, word)) in steps.iter().zip(runs) {
        let r = &step["recipe"];
        assert_eq!(step["status"], "done", "{text}: {step}");
        assert_eq!(r["mode"], *mode, "{text}: {r}");
        assert!(r["prompt"].as_str().unwrap().contains(word), "{text}: {r}");
        assert_eq!(r["steps"], 4);
        if *mode == "flowedit" {
            assert!(
                step["params"]["flowedit"]["n_max"].as_u64().unwrap() >= 1,
                "{step}"
            );
            assert!(r["source_prompt"].is_string(), "{r}");
        }
    }
    let log = stdout_of(&zedit(root).args(["log", "s"]).output().unwrap());
    assert!(
        log.contains("classic_prefill_inpaint prompt \"沙发\""),
        "{log}"
    );
    assert!(log.contains("flowedit prompt \"猫\""), "{log}");
    let out = zedit(root)
        .args(["replay", "s", "--verify", "--model"])
        .arg(model())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let said = stdout_of(&out);
    assert!(said.contains("all outputs identical"), "{said}");
    assert_eq!(said.matches(": identical").count(), runs.len(), "{said}");
}

#[test]
fn prompts_can_be_overridden_and_a_missing_mask_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    new_session(root, "s");
    let out = edit(
        root,
        "s",
        "把狗换成猫",
        &[
            "--prompt",
            "一只橘猫",
            "--source-prompt",
            "一只黑狗",
            "--n-avg",
            "2",
        ],
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let steps = common::steps_of(root, "s");
    assert_eq!(steps[0]["recipe"]["prompt"], "一只橘猫");
    assert_eq!(steps[0]["recipe"]["source_prompt"], "一只黑狗");
    assert_eq!(steps[0]["params"]["flowedit"]["n_avg"], 2);

    let out = edit(root, "s", "删除垃圾桶", &[]);
    assert!(!out.status.success());
    let err = stderr_of(&out);
    for way in ["--mask", "--region", "draw"] {
        assert!(err.contains(way), "{err}");
    }
    assert_eq!(
        common::steps_of(root, "s").len(),
        1,
        "nothing recorded for the refused step"
    );

    let out = edit(root, "s", "删除垃圾桶,然后提亮", &["--prompt", "地面"]);
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("one step"), "{}", stderr_of(&out));
}

#[test]
fn a_bad_cudnn_algorithm_is_refused_by_name_and_a_good_one_is_noted_where_unused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    new_session(root, "s");
    let run = |value: &str| {
        zedit(root)
            .args(["edit", "s", "让她笑一笑", "--engine", "zimage", "--local"])
            .args(["--steps", "2", "--seed", "7", "--model"])
            .arg(model())
            .env("ZEDIT_CUDNN_ALGO", value)
            .output()
            .unwrap()
    };
    let out = run("winograd-fast");
    assert!(!out.status.success());
    let err = stderr_of(&out);
    for word in ["ZEDIT_CUDNN_ALGO", "winograd-fast", "implicit-precomp-gemm"] {
        assert!(err.contains(word), "{word}: {err}");
    }
    assert!(common::steps_of(root, "s").is_empty(), "nothing recorded");

    let out = run("implicit-precomp-gemm");
    assert!(out.status.success(), "{}", stderr_of(&out));
    if !cfg!(feature = "cudnn") {
        let err = stderr_of(&out);
        assert!(err.contains("ZEDIT_CUDNN_ALGO is ignored"), "{err}");
    }
    assert_eq!(common::steps_of(root, "s").len(), 1);
}
