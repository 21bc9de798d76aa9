//! The spine end to end through the real binary: new, edit, log, undo, checkout, export, replay.

use crate::common;
use common::*;

fn relight(root: &std::path::Path, session: &str, text: &str, seed: &str) -> String {
    let out = zedit(root)
        .args(["edit", session, text, "--op", "relight", "--seed", seed])
        .output()
        .unwrap();
    assert!(out.status.success(), "edit failed: {}", stderr_of(&out));
    stdout_of(&out).trim().to_string()
}

#[test]
fn new_edit_edit_then_replay_verifies_and_catches_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = new_session(root, "beach");
    let first = relight(root, "beach", "warm afternoon light", "1");
    let second = relight(root, "beach", "brighter", "2");
    assert!(
        std::path::Path::new(&first).is_file(),
        "prints the output path: {first}"
    );
    assert_ne!(first, second);

    assert_replay_identical(root, "beach");

    // Tamper with the first step's stored output: verify must fail and name step 1.
    let mut img = image::open(&first).unwrap().to_rgb8();
    img.put_pixel(0, 0, image::Rgb([1, 2, 3]));
    img.save(&first).unwrap();
    let out = zedit(root)
        .args(["replay", "beach", "--verify"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("step 1"), "{}", stderr_of(&out));
    assert!(dir.join("session.toml").is_file());
}

#[test]
fn undo_then_edit_makes_a_branch_and_keeps_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = new_session(root, "s");
    relight(root, "s", "warm", "1");
    relight(root, "s", "darker", "1");
    zedit(root)
        .args(["undo", "s"])
        .assert()
        .success()
        .stdout(predicates::str::contains("step 1"));
    relight(root, "s", "cool", "1");
    let out = zedit(root).args(["log", "s", "--json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[1]["parent"], 1);
    assert_eq!(steps[2]["parent"], 1, "the new edit branches from step 1");
    assert_eq!(doc["head"], 3);
    for s in steps {
        let p = s["output"]["path"].as_str().unwrap();
        assert!(dir.join(p).is_file(), "{p} kept");
    }
    zedit(root).args(["checkout", "s", "2"]).assert().success();
    let log = zedit(root).args(["log", "s"]).output().unwrap();
    let text = stdout_of(&log);
    assert!(
        text.lines().any(|l| l.starts_with('*') && l.contains("#2")),
        "{text}"
    );
    zedit(root)
        .args(["checkout", "s", "source"])
        .assert()
        .success();
    zedit(root)
        .args(["undo", "s"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("nothing to undo"));
}

#[test]
fn export_carries_the_chain_in_png_text() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    new_session(root, "e");
    relight(root, "e", "暖色调", "5");
    relight(root, "e", "brighter", "6");
    let out = root.join("out.png");
    zedit(root)
        .args(["export", "e"])
        .arg(&out)
        .assert()
        .success();
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
    let reader = decoder.read_info().unwrap();
    let texts: Vec<String> = reader
        .info()
        .utf8_text
        .iter()
        .map(|t| t.get_text().unwrap())
        .collect();
    let all = texts.join("\n");
    assert!(
        all.contains("暖色调") && all.contains("brighter") && all.contains("seed"),
        "{all}"
    );
    let exported = image::open(&out).unwrap();
    assert_eq!((exported.width(), exported.height()), (64, 48));
}

#[test]
fn batch_replay_continues_past_a_corrupt_image() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    new_session(root, "b");
    relight(root, "b", "warm", "1");
    let a = write_image(root, "a.png", &test_image(80, 60, 2));
    let c = write_image(root, "c.png", &test_image(40, 30, 3));
    let bad = root.join("corrupt.png");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\nthis is not really a png").unwrap();
    let outdir = root.join("out");
    let out = zedit(root)
        .args(["replay", "b", "--on"])
        .args([&a, &bad, &c])
        .arg("--out")
        .arg(&outdir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = stdout_of(&out);
    assert!(text.contains("2 done, 1 failed"), "{text}");
    assert!(text.contains("corrupt.png"), "{text}");
    assert!(outdir.join("a.png").is_file() && outdir.join("c.png").is_file());
    assert!(!outdir.join("corrupt.png").exists());
}

#[test]
fn sessions_lists_names_and_step_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    new_session(root, "one");
    new_session(root, "two");
    relight(root, "two", "warm", "1");
    let out = zedit(root).args(["sessions", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].clone(), s["steps"].clone()))
        .collect();
    assert!(names.contains(&("two".into(), 1.into())), "{names:?}");
    assert!(names.contains(&("one".into(), 0.into())), "{names:?}");
}

#[test]
fn the_shipped_example_session_replays_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/beach");
    let copy = tmp.path().join("beach");
    std::fs::create_dir_all(copy.join("images")).unwrap();
    std::fs::copy(example.join("session.toml"), copy.join("session.toml")).unwrap();
    for e in std::fs::read_dir(example.join("images")).unwrap().flatten() {
        std::fs::copy(e.path(), copy.join("images").join(e.file_name())).unwrap();
    }
    let out = zedit(tmp.path())
        .args(["replay", "beach", "--verify"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}
