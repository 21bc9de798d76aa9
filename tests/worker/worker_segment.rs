//! The worker's `Segment` request on the tiny MobileSAM fixture: candidates of the image's
//! size stored in the session, best first; the second click on the same image reuses the
//! kept embedding; bad prompts and paths are refused by name with nothing saved changed.
#![cfg(feature = "sam")]

use crate::common;
use common::*;
use std::path::{Path, PathBuf};
use zedit::core::{MaskPoint, MaskShape, MaskSpec};
use zedit::session::Session;
use zedit::worker::{Client, Event};

fn model_dir() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sam/mobile_sam_tiny")
        .display()
        .to_string()
}

fn points(list: &[(u32, u32, bool)]) -> MaskSpec {
    MaskSpec::new(MaskShape::Points {
        points: list
            .iter()
            .map(|&(x, y, positive)| MaskPoint { x, y, positive })
            .collect(),
        segmenter: None,
    })
}

fn session(root: &Path) -> PathBuf {
    let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sam/image.png");
    zedit(root)
        .arg("new")
        .arg(&image)
        .args(["--name", "cup"])
        .assert()
        .success();
    std::path::absolute(root.join("cup")).unwrap()
}

/// A session of the fixture image, a worker for it and a client connected to it.
fn served(root: &Path) -> (PathBuf, WorkerGuard, Client, Session) {
    let dir = session(root);
    let guard = start_worker(root, 0);
    let client = Client::connect(&socket_of(root)).unwrap();
    let s = Session::load(&dir).unwrap();
    (dir, guard, client, s)
}

#[test]
fn clicks_are_segmented_with_one_embedding_per_image() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _w, mut c, s) = served(tmp.path());
    let source = s.doc.source.clone();
    let (w, h) = image::image_dimensions(dir.join(&source.path)).unwrap();
    let model = model_dir();

    let first = c
        .segment(
            &dir,
            &source,
            &points(&[(w / 2, h / 2, true)]),
            Some(&model),
        )
        .unwrap();
    let Event::Segmented {
        candidates,
        embedded,
        digest,
        ..
    } = first
    else {
        panic!("expected candidates, got {first:?}");
    };
    assert!(embedded, "the first click embeds the image");
    assert_eq!(digest.len(), 64);
    assert_eq!(candidates.len(), 3, "the three multimask outputs");
    for pair in candidates.windows(2) {
        assert!(pair[0].iou >= pair[1].iou, "best first: {candidates:?}");
    }
    for cand in &candidates {
        let m = s.load_image(&cand.image).unwrap().to_luma8();
        assert_eq!(m.dimensions(), (w, h));
        let inside = m.pixels().filter(|p| p.0[0] > 0).count() as u64;
        assert_eq!(inside, cand.area);
    }

    let second = c
        .segment(
            &dir,
            &source,
            &points(&[(w / 2, h / 2, true), (2, 2, false)]),
            Some(&model),
        )
        .unwrap();
    assert!(
        matches!(
            second,
            Event::Segmented {
                embedded: false,
                ..
            }
        ),
        "a further click reuses the embedding: {second:?}"
    );
}

#[test]
fn bad_segment_requests_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _w, mut c, s) = served(tmp.path());
    let source = s.doc.source.clone();
    let before = std::fs::read(dir.join("session.toml")).unwrap();
    let model = model_dir();

    let outside = c
        .segment(&dir, &source, &points(&[(100_000, 3, true)]), Some(&model))
        .unwrap();
    match outside {
        Event::SegmentFailed { message, .. } => assert!(message.contains("100000,3"), "{message}"),
        e => panic!("{e:?}"),
    }
    let mut escape = source.clone();
    escape.path = "../../etc/passwd".into();
    let refused = c
        .segment(&dir, &escape, &points(&[(1, 1, true)]), Some(&model))
        .unwrap();
    assert!(
        matches!(&refused, Event::SegmentFailed { .. }),
        "{refused:?}"
    );
    let rect = MaskSpec::new(MaskShape::rect(zedit::core::Rect {
        x: 0,
        y: 0,
        w: 4,
        h: 4,
    }));
    let shape = c.segment(&dir, &source, &rect, Some(&model)).unwrap();
    match shape {
        Event::SegmentFailed { message, .. } => assert!(message.contains("'rect'"), "{message}"),
        e => panic!("{e:?}"),
    }
    let missing = c
        .segment(
            &dir,
            &source,
            &points(&[(1, 1, true)]),
            Some("/nonexistent/sam"),
        )
        .unwrap();
    match missing {
        Event::SegmentFailed { message, .. } => {
            assert!(message.contains("/nonexistent/sam"), "{message}")
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(std::fs::read(dir.join("session.toml")).unwrap(), before);
}
