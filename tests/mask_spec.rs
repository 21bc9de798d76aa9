//! Masks apart from regions: a relight limited by a rectangle changes only the pixels inside it
//! (outside byte-identical), while `--region left` still says where the light comes from; the
//! mask is recorded as asked and as the image the engine got.

mod common;

use common::*;
use image::RgbImage;
use std::path::Path;
use zedit::core::{MaskShape, Rect};
use zedit::session::Session;

fn images(dir: &Path, step: usize) -> (RgbImage, RgbImage, Session) {
    let s = Session::load(dir).unwrap();
    let st = &s.doc.steps[step];
    let input = s.load_image(&st.input).unwrap().to_rgb8();
    let output = s
        .load_image(st.output.as_ref().expect("done"))
        .unwrap()
        .to_rgb8();
    (input, output, s)
}

fn relight(root: &Path, extra: &[&str]) {
    let out = zedit(root)
        .args([
            "edit",
            "s",
            "warm sunlight from the window",
            "--op",
            "relight",
            "--seed",
            "1",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn a_relight_limited_by_a_rectangle_changes_only_inside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = new_session(root, "s");
    relight(
        root,
        &["--mask-rect", "10,8,20,16", "--region", "left", "--local"],
    );
    let (input, output, session) = images(&dir, 0);
    let (mut inside_changed, mut outside_changed) = (0, 0);
    for (x, y, p) in output.enumerate_pixels() {
        let inside = (10..30).contains(&x) && (8..24).contains(&y);
        let changed = p != input.get_pixel(x, y);
        match (inside, changed) {
            (true, true) => inside_changed += 1,
            (false, true) => outside_changed += 1,
            _ => {}
        }
    }
    assert_eq!(outside_changed, 0, "pixels outside the rectangle changed");
    assert!(
        inside_changed > 300,
        "only {inside_changed} of 320 pixels inside changed"
    );
    let step = &session.doc.steps[0];
    assert_eq!(
        step.mask_spec.as_ref().map(|m| m.shape.clone()),
        Some(MaskShape::rect(Rect {
            x: 10,
            y: 8,
            w: 20,
            h: 16
        }))
    );
    assert_eq!(
        step.params.region,
        Some("left".parse().unwrap()),
        "region kept as the light's side"
    );
    let mask = session
        .load_image(step.mask.as_ref().unwrap())
        .unwrap()
        .to_luma8();
    assert_eq!(mask.get_pixel(10, 8).0[0], 255);
    assert_eq!(mask.get_pixel(9, 8).0[0], 0);
}

/// Mean brightness gain of a column band, in 1/255 units.
fn gain(input: &RgbImage, output: &RgbImage, xs: std::ops::Range<u32>) -> f64 {
    let (mut sum, mut n) = (0.0, 0.0);
    for x in xs {
        for y in 0..input.height() {
            let (a, b) = (input.get_pixel(x, y).0, output.get_pixel(x, y).0);
            sum += (0..3)
                .map(|c| f64::from(b[c]) - f64::from(a[c]))
                .sum::<f64>()
                / 3.0;
            n += 1.0;
        }
    }
    sum / n
}

#[test]
fn region_left_still_means_light_from_the_left_on_the_worker() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let _worker = start_worker(root, 0);
    let dir = new_session(root, "s");
    relight(root, &["--region", "left"]);
    let (input, output, session) = images(&dir, 0);
    let (left, right) = (gain(&input, &output, 0..16), gain(&input, &output, 48..64));
    assert!(
        left > right + 3.0,
        "left gained {left:.1}, right {right:.1}"
    );
    // The light falls on the whole room: the right side changed too.
    assert!(output.get_pixel(60, 24) != input.get_pixel(60, 24));
    assert!(session.doc.steps[0].mask_spec.is_none());
}

#[test]
fn a_text_mask_without_its_models_fails_the_step_naming_the_fetch_command() {
    let tmp = tempfile::tempdir().unwrap();
    // No model in this cache: the words cannot be grounded.
    std::env::set_var("HF_HUB_CACHE", tmp.path().join("empty-cache"));
    let dir = new_session(tmp.path(), "s");
    let runner = zedit::worker::LocalRunner::start(
        zedit::worker::default_factory(),
        Default::default(),
        None,
    )
    .unwrap();
    let mut job = relight_job(&dir, 1);
    job.request.mask_spec = Some(zedit::core::MaskSpec::new(MaskShape::Text {
        target: "the red shirt".into(),
        region: None,
        grounder: None,
    }));
    let (id, _, events) = runner.submit(job).unwrap();
    let step = zedit::worker::LocalRunner::wait_step(&events, id, &dir, &mut |_| {}).unwrap();
    let error = step.error.unwrap();
    assert!(step.output.is_none());
    if cfg!(feature = "sam") {
        assert_eq!(error.kind, zedit::core::ErrorKind::Unavailable);
        assert!(error.message.contains("zedit models fetch"), "{error}");
    } else {
        assert_eq!(error.kind, zedit::core::ErrorKind::Unsupported);
        assert!(error.message.contains("without segmentation"), "{error}");
    }
}
