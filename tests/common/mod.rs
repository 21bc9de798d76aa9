//! Helpers shared by the integration tests: temp session roots, test images, the binary.
#![allow(dead_code)]

use assert_cmd::Command;
use image::{Rgb, RgbImage};
use std::path::{Path, PathBuf};

/// The zedit binary with `--sessions root`, and no engine configured from the environment.
pub fn zedit(root: &Path) -> Command {
    let mut cmd = Command::cargo_bin("zedit").expect("binary built");
    cmd.arg("--sessions")
        .arg(root)
        .env_remove("ZEDIT_ENGINE")
        .env("ZEDIT_HOME", root);
    cmd
}

/// A small photo-like test image: gradients plus texture, so edits change real content.
pub fn test_image(w: u32, h: u32, seed: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let n = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729) ^ seed.wrapping_mul(31)) % 23;
        Rgb([
            (40 + x * 150 / w + n) as u8,
            (60 + y * 120 / h + n) as u8,
            (90 + (x + y) * 60 / (w + h) + n) as u8,
        ])
    })
}

pub fn write_image(dir: &Path, name: &str, img: &RgbImage) -> PathBuf {
    let p = dir.join(name);
    img.save(&p).expect("write test image");
    p
}

/// Creates a session named `name` from a fresh test image and returns its folder.
pub fn new_session(root: &Path, name: &str) -> PathBuf {
    let img = write_image(root, &format!("{name}-src.png"), &test_image(64, 48, 1));
    zedit(root)
        .arg("new")
        .arg(&img)
        .arg("--name")
        .arg(name)
        .assert()
        .success();
    root.join(name)
}

pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
