//! The studio's clicks for Segment Anything, through the keys and the real in-process
//! segmentation on the tiny MobileSAM fixture: two points (one kept, one left out), a cycled
//! candidate, a recolor run with that mask, and the session on disk holding the step with its
//! points, the model that found them and the mask it made.
#![cfg(feature = "sam")]

use crate::tui_support;

use std::path::Path;
use tui_support::Harness;
use zedit::core::MaskShape;
use zedit::session::Session;
use zedit::tui::state::{ClickEdit, Focus, State};

fn clicks(h: &Harness) -> ClickEdit {
    let edit = h.state().mask_edit.as_ref().expect("in mask mode");
    edit.clicks.clone().expect("clicking")
}

fn found(s: &State, seq: u64) -> bool {
    s.mask_edit
        .as_ref()
        .and_then(|e| e.clicks.as_ref())
        .is_some_and(|c| c.seq == seq && !c.segmenting && c.found.is_some())
}

#[test]
fn two_clicks_a_cycled_candidate_and_a_recolor_land_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("sessions");
    let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sam/image.png");
    Session::create(&root, "cup", &image).unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sam/mobile_sam_tiny");
    let mut h = Harness::local(&root);
    h.app.state.segment_model = Some(model.display().to_string());
    h.keys("<Enter>m");
    assert_eq!(h.state().focus, Focus::Mask);
    h.keys("s");
    let start = clicks(&h);
    assert!(start.points.is_empty() && start.found.is_none());
    let (w, _) = start.size;
    let small = (w.max(start.size.1) / 50).max(1);

    // A kept point under the crosshair; keys still work while it segments.
    h.keys("a");
    h.wait("first candidates", |s| found(s, 1));
    h.keys("lll<C-j>x");
    h.wait("candidates for two points", |s| found(s, 2));
    let c = clicks(&h);
    assert_eq!(c.points.len(), 2);
    assert!(c.points[0].positive && !c.points[1].positive);
    assert_eq!(c.points[1].x, c.points[0].x + 3 * small);
    let reply = c.found.clone().unwrap();
    assert_eq!(reply.candidates.len(), 3);
    assert!(
        !reply.embedded,
        "the second click reuses the image's embedding"
    );
    let screen = h.screen(100, 30);
    assert!(screen.contains("1 kept 1 out"), "{screen}");

    h.keys("c");
    assert_eq!(clicks(&h).pick, 1);
    h.keys("<Enter>");
    let mask = h.state().next_mask.clone().expect("mask set");
    let MaskShape::Points { points, segmenter } = &mask.shape else {
        panic!("{mask:?}");
    };
    assert_eq!(points, &c.points);
    let seg = segmenter.clone().unwrap();
    assert_eq!(seg.candidate, 1);
    assert_eq!(seg.digest, reply.digest);

    h.keys("imake the cup blue<Enter><Enter>");
    h.wait("the recolor", |s| {
        s.run.is_none() && s.session.as_ref().is_some_and(|v| v.doc.head.is_some())
    });
    let session = Session::load(&root.join("cup")).unwrap();
    let step = &session.doc.steps[0];
    assert_eq!(step.op, zedit::core::Op::Recolor, "{step:?}");
    assert_eq!(step.mask_spec.as_ref(), Some(&mask));
    let stored = step
        .mask
        .as_ref()
        .expect("the runner stored the mask it made");
    assert_eq!(
        stored.blake3, reply.candidates[1].image.blake3,
        "the runner found the same mask as the candidate taken"
    );
}

#[test]
fn the_plan_steps_own_words_become_its_mask_with_one_key() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("sessions");
    let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sam/image.png");
    Session::create(&root, "cup", &image).unwrap();
    let mut h = Harness::local(&root);
    h.keys("<Enter>i把左边的杯子改成蓝色<Enter>");
    assert_eq!(h.state().focus, Focus::Plan);
    h.keys("mt");
    let plan = h.state().plan.clone().expect("a plan under review");
    let mask = plan.steps[0].mask.clone().expect("the step's mask");
    let MaskShape::Text { target, region, .. } = &mask.shape else {
        panic!("{mask:?}");
    };
    assert!(target.contains("杯子"), "{target}");
    assert_eq!(*region, Some(zedit::core::Region::Left));
    let screen = h.screen(120, 30);
    assert!(
        screen.contains("words \""),
        "the plan review says the mask comes from words: {screen}"
    );
}
