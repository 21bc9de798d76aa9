//! Image input that is damaged or not a file: truncated JPEGs and PNGs are errors (never rows of
//! grey), FIFOs and devices are refused before reading, EXIF orientation is applied and recorded,
//! and a colour mask is reported when it is converted to strength.

use crate::common;

use common::*;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn jpeg_bytes(w: u32, h: u32) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(test_image(w, h, 4));
    let mut out = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    out
}

/// Runs `zedit new PATH` with a deadline, killing it when it blocks.
fn new_within(root: &Path, path: &Path, secs: u64) -> (bool, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("zedit"))
        .arg("--sessions")
        .arg(root)
        .arg("new")
        .arg(path)
        .env("ZEDIT_SOCKET", socket_of(root))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (status.success(), err);
        }
        if Instant::now() > end {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("zedit new {} still running after {secs} s", path.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn truncated_images_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let jpeg = jpeg_bytes(96, 64);
    let cut = root.join("cut.jpg");
    fs::write(&cut, &jpeg[..jpeg.len() * 2 / 3]).unwrap();
    let (ok, err) = new_within(root, &cut, 20);
    assert!(!ok, "a truncated JPEG must not import");
    assert!(
        err.contains("cut.jpg") && err.contains("truncated"),
        "{err}"
    );

    let png = write_image(root, "full.png", &test_image(96, 64, 3));
    let bytes = fs::read(&png).unwrap();
    let cut = root.join("cut.png");
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (ok, err) = new_within(root, &cut, 20);
    assert!(!ok, "a truncated PNG must not import: {err}");

    let whole = root.join("whole.jpg");
    fs::write(&whole, &jpeg).unwrap();
    let (ok, err) = new_within(root, &whole, 20);
    assert!(ok, "an intact JPEG imports: {err}");
}

#[test]
fn fifos_and_devices_are_refused_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let fifo = root.join("pipe.png");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string naming a path in our temp folder.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (ok, err) = new_within(root, &fifo, 10);
    assert!(!ok && err.contains("not a regular file"), "{err}");
    let (ok, err) = new_within(root, Path::new("/dev/zero"), 10);
    assert!(!ok && err.contains("not a regular file"), "{err}");
}

/// A JPEG with an EXIF APP1 segment saying "rotate 90° clockwise" (orientation 6).
fn rotated_jpeg(w: u32, h: u32) -> Vec<u8> {
    let jpeg = jpeg_bytes(w, h);
    // Little-endian TIFF: header, one IFD with one entry (0x0112 orientation, SHORT, 1, 6).
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&6u16.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn exif_orientation_is_applied_on_import_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let phone = root.join("phone.jpg");
    fs::write(&phone, rotated_jpeg(80, 48)).unwrap();
    let (ok, err) = new_within(root, &phone, 20);
    assert!(ok, "{err}");
    let session = zedit::session::Session::load(&root.join("phone")).unwrap();
    let source = session.load_image(&session.doc.source).unwrap();
    assert_eq!(
        (source.width(), source.height()),
        (48, 80),
        "turned upright"
    );
    let text = fs::read_to_string(root.join("phone/session.toml")).unwrap();
    assert!(text.contains("orientation"), "recorded: {text}");
}

#[test]
fn a_colour_mask_is_reported_when_converted() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    new_session(root, "s");
    let red = image::RgbImage::from_fn(64, 48, |x, _| {
        image::Rgb(if x < 32 { [255, 0, 0] } else { [0, 0, 0] })
    });
    let mask = write_image(root, "red.png", &red);
    let out = zedit(root)
        .args([
            "edit", "s", "navy", "--op", "recolor", "--local", "--seed", "1",
        ])
        .arg("--mask")
        .arg(&mask)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(err.contains("warning") && err.contains("red.png"), "{err}");
    let grey =
        image::GrayImage::from_fn(64, 48, |x, _| image::Luma([if x < 32 { 255 } else { 0 }]));
    let mask = root.join("grey.png");
    grey.save(&mask).unwrap();
    let out = zedit(root)
        .args([
            "edit", "s", "navy", "--op", "recolor", "--local", "--seed", "1",
        ])
        .arg("--mask")
        .arg(&mask)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!stderr_of(&out).contains("warning"), "{}", stderr_of(&out));
}
