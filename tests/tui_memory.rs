//! Memory with a 50-step, 1-megapixel session open (budget: < 150 MB RSS). Prints the figures;
//! see them with `cargo test --test tui_memory -- --nocapture`.

mod tui_support;

use std::path::Path;
use zedit::core::{EditParams, Op};
use zedit::engine::classic::ClassicEngine;
use zedit::engine::Flow;
use zedit::session::{Session, StepRequest};

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|v| v.parse().unwrap_or(0)))
        })
        .unwrap_or(0)
}

/// A session of `n` relight steps on a `w` x `h` gradient, each on the previous one's output.
pub fn make_session(root: &Path, name: &str, w: u32, h: u32, n: u32) -> std::path::PathBuf {
    let src = root.join(format!("{name}.png"));
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    })
    .save(&src)
    .unwrap();
    let dir = Session::create(&root.join("sessions"), name, &src)
        .unwrap()
        .dir()
        .to_path_buf();
    let mut engine = ClassicEngine::new();
    let mut parent = None;
    for i in 0..n {
        let req = StepRequest {
            parent,
            op: Op::Relight,
            instruction: if i % 2 == 0 {
                "warmer".into()
            } else {
                "cooler".into()
            },
            params: EditParams {
                amount: Some(0.01),
                ..Default::default()
            },
            mask_spec: None,
            mask: None,
            overlay: None,
            recipe: None,
        };
        let step =
            zedit::worker::execute_step(&dir, &req, &mut engine, &mut |_| Flow::Continue).unwrap();
        parent = Some(step.id);
    }
    dir
}

#[test]
fn rss_with_a_50_step_megapixel_session_open() {
    let tmp = tempfile::tempdir().unwrap();
    make_session(tmp.path(), "big", 1024, 1024, 50);
    let before = rss_kb();
    let mut h = tui_support::Harness::null(&tmp.path().join("sessions"));
    h.keys("<Enter>");
    assert_eq!(h.state().session.as_ref().unwrap().doc.steps.len(), 50);
    h.screen(100, 30);
    let open = rss_kb();
    // What a real preview adds: the head image decoded.
    let view = h.state().session.as_ref().unwrap();
    let head = image::open(view.dir.join(&view.doc.head_image().path)).unwrap();
    let with_image = rss_kb();
    println!(
        "RSS: {} KB before the studio, {} KB with the 50-step 1 MP session open, {} KB with the head image decoded ({}x{})",
        before, open, with_image, head.width(), head.height()
    );
    assert!(
        with_image < 150 * 1024,
        "RSS {with_image} KB is over the 150 MB budget"
    );
}
