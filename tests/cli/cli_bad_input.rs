//! Every bad input gets a clear one-line error naming the file or value, a non-zero exit, and
//! leaves existing files as they were.

use crate::common;
use common::*;
use std::path::Path;

/// Runs zedit, expects failure, and returns stderr.
fn fails(root: &Path, args: &[&str]) -> String {
    let out = zedit(root).args(args).output().unwrap();
    assert!(!out.status.success(), "expected failure for {args:?}");
    let err = stderr_of(&out);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = walk(dir)
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A PNG whose header claims `w` x `h` but which holds almost no data.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        let mut crc = 0xffff_ffffu32;
        for b in &body {
            crc ^= *b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        out.extend((!crc).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn bad_source_images_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let missing = root.join("missing.png");
    let err = fails(root, &["new", missing.to_str().unwrap()]);
    assert!(err.contains("missing.png"), "{err}");

    let good = write_image(root, "good.png", &test_image(64, 48, 1));
    let bytes = std::fs::read(&good).unwrap();
    let truncated = root.join("truncated.png");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = fails(root, &["new", truncated.to_str().unwrap()]);
    assert!(err.contains("truncated.png"), "{err}");

    let text = root.join("notes.png");
    std::fs::write(&text, "just some words").unwrap();
    let err = fails(root, &["new", text.to_str().unwrap()]);
    assert!(
        err.contains("notes.png") && err.contains("not an image"),
        "{err}"
    );

    let bomb = root.join("bomb.png");
    std::fs::write(&bomb, png_claiming(60_000, 60_000)).unwrap();
    let err = fails(root, &["new", bomb.to_str().unwrap()]);
    assert!(
        err.contains("bomb.png") && err.contains("megapixels"),
        "{err}"
    );

    let huge = root.join("huge.png");
    image::GrayImage::new(8200, 8000).save(&huge).unwrap();
    let err = fails(root, &["new", huge.to_str().unwrap()]);
    assert!(
        err.contains("huge.png") && err.contains("65.6 megapixels"),
        "{err}"
    );

    assert!(
        !root.join("sessions").exists() || walk(root).iter().all(|p| !p.ends_with("session.toml"))
    );
}

#[test]
fn bad_edit_arguments_leave_the_session_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = new_session(root, "s");
    zedit(root)
        .args(["edit", "s", "warm", "--op", "relight"])
        .assert()
        .success();
    let before = snapshot(&dir);

    let mask = write_image(root, "mask.png", &test_image(32, 32, 1));
    let err = fails(
        root,
        &[
            "edit",
            "s",
            "warm",
            "--op",
            "relight",
            "--mask",
            mask.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("mask.png") && err.contains("32x32") && err.contains("64x48"),
        "{err}"
    );

    let err = fails(root, &["edit", "s", "warm", "--op", "paint"]);
    assert!(err.contains("paint"), "{err}");
    let err = fails(
        root,
        &["edit", "s", "warm", "--op", "relight", "--engine", "magic"],
    );
    assert!(err.contains("unknown engine 'magic'"), "{err}");
    let err = fails(root, &["edit", "s", "  ", "--op", "relight"]);
    assert!(err.contains("instruction is empty"), "{err}");
    let err = fails(
        root,
        &["edit", "s", "warm", "--op", "relight", "--strength", "3"],
    );
    assert!(err.contains("strength 3"), "{err}");
    assert_eq!(before, snapshot(&dir), "nothing changed");
}

#[test]
fn bad_session_names_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let img = write_image(root, "i.png", &test_image(16, 16, 1));
    for name in ["a/b", "..", "../escape", "x..y"] {
        let err = fails(root, &["new", img.to_str().unwrap(), "--name", name]);
        assert!(err.contains("invalid session name"), "{err}");
    }
    let err = fails(root, &["log", ".."]);
    assert!(err.contains("session"), "{err}");
    assert!(!root.parent().unwrap().join("escape").exists());
}

#[test]
fn malformed_future_and_unsafe_session_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = new_session(root, "s");
    let file = dir.join("session.toml");
    let good = std::fs::read_to_string(&file).unwrap();

    std::fs::write(&file, "format = 1\nname = [broken").unwrap();
    let err = fails(root, &["log", "s"]);
    assert!(
        err.contains("session.toml") && err.contains("not a valid session file"),
        "{err}"
    );

    std::fs::write(&file, good.replace("format = 2", "format = 7")).unwrap();
    let err = fails(root, &["log", "s"]);
    assert!(err.contains("format 7") && err.contains("upgrade"), "{err}");

    let escaped = good.replacen("path = \"images/", "path = \"../../images/", 1);
    std::fs::write(&file, escaped).unwrap();
    let err = fails(root, &["log", "s"]);
    assert!(err.contains("outside the session folder"), "{err}");
    std::fs::write(&file, &good).unwrap();
    zedit(root).args(["log", "s"]).assert().success();
}

#[test]
fn a_second_writer_is_told_who_has_the_session() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = new_session(root, "s");
    let _held = zedit::session::SessionLock::acquire(&dir, "s", std::time::Duration::ZERO).unwrap();
    let err = fails(root, &["edit", "s", "warm", "--op", "relight"]);
    let pid = std::process::id().to_string();
    assert!(
        err.contains("is open in process") && err.contains(&pid),
        "{err}"
    );
}
