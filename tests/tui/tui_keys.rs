//! Key-sequence tests ("state in, keys, state out") against the real local backend running the
//! classic engine on a temp session, checked again from the saved session on disk.

use crate::common;
use crate::tui_support;

use ratatui::crossterm::event::Event;
use tui_support::Harness;
use zedit::core::{MaskShape, Op, Status, StepId};
use zedit::session::Session;
use zedit::tui::state::{Focus, Screen};
use zedit::tui::AppEvent;

fn root_with_session(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("sessions");
    let img = common::write_image(tmp.path(), "beach.png", &common::test_image(64, 48, 1));
    Session::create(&root, name, &img).unwrap();
    (tmp, root)
}

fn idle(s: &zedit::tui::state::State) -> bool {
    s.run.is_none()
}

#[test]
fn edit_undo_branch_and_quit_then_the_saved_session_matches() {
    let (_tmp, root) = root_with_session("beach");
    let mut h = Harness::local(&root);
    assert_eq!(h.state().sessions.items.len(), 1);

    h.keys("<Enter>");
    assert_eq!(h.state().screen, Screen::Session);

    h.keys("iwarm afternoon light<Enter>");
    let plan = h.state().plan.clone().expect("plan review");
    assert_eq!(h.state().focus, Focus::Plan);
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.steps[0].op, Op::Relight);

    h.keys("<Enter>");
    h.wait("step 1 done", |s| {
        idle(s)
            && s.session
                .as_ref()
                .is_some_and(|v| v.doc.head == Some(StepId(1)))
    });
    let doc = &h.state().session.as_ref().unwrap().doc;
    assert_eq!(doc.steps[0].status, Status::Done);
    assert!(h.state().message.as_ref().unwrap().text.contains("done"));

    h.keys("u");
    assert_eq!(
        h.state().session.as_ref().unwrap().doc.head,
        None,
        "undo moves head to the source"
    );

    // From the source: a sibling branch of #1.
    h.keys("icool evening light<Enter><Enter>");
    h.wait("step 2 done", |s| {
        idle(s)
            && s.session
                .as_ref()
                .is_some_and(|v| v.doc.head == Some(StepId(2)))
    });

    // Check out #1 (second row) and edit from there.
    h.keys("gj<Enter>");
    assert_eq!(
        h.state().session.as_ref().unwrap().doc.head,
        Some(StepId(1))
    );
    h.keys("ibrighter<Enter><Enter>");
    h.wait("step 3 done", |s| {
        idle(s)
            && s.session
                .as_ref()
                .is_some_and(|v| v.doc.head == Some(StepId(3)))
    });

    h.keys("q");
    assert!(h.state().quit);

    let shown = h.state().session.as_ref().unwrap().doc.clone();
    let saved = Session::load(&root.join("beach")).unwrap().doc;
    assert_eq!(shown, saved, "the screen shows what is saved");
    let parents: Vec<_> = saved
        .steps
        .iter()
        .map(|s| (s.id.0, s.parent.map(|p| p.0)))
        .collect();
    assert_eq!(parents, vec![(1, None), (2, None), (3, Some(1))]);
    assert_eq!(saved.head, Some(StepId(3)));
    assert!(saved.steps.iter().all(|s| s.status == Status::Done));
    assert!(saved.steps.iter().all(|s| s.op == Op::Relight));
    // The tree shows the branch: source, #1, #3 under #1, then #2.
    let rows: Vec<_> = h
        .state()
        .session
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .map(|r| (r.id.map(|i| i.0), r.depth))
        .collect();
    assert_eq!(
        rows,
        vec![(None, 0), (Some(1), 1), (Some(3), 2), (Some(2), 1)]
    );
}

#[test]
fn a_refused_step_fails_with_a_message_and_retry_records_a_new_attempt() {
    let (_tmp, root) = root_with_session("s");
    let mut h = Harness::local(&root);
    h.keys("<Enter>imake it pop<Enter>");
    assert_eq!(h.state().plan.as_ref().unwrap().steps[0].op, Op::Edit);
    h.keys("<Enter>");
    h.wait("failed step", |s| {
        idle(s)
            && s.session
                .as_ref()
                .is_some_and(|v| v.doc.steps.len() == 1 && v.doc.steps[0].status == Status::Failed)
    });
    let msg = h.state().message.clone().unwrap();
    assert!(msg.error && msg.text.contains("failed"), "{msg:?}");
    assert!(msg.text.contains("generative"), "names why: {msg:?}");
    let screen = h.screen(100, 30);
    assert!(screen.contains("error: step #1 edit failed"), "{screen}");

    h.keys("Gr");
    h.wait("retried step", |s| {
        idle(s) && s.session.as_ref().is_some_and(|v| v.doc.steps.len() == 2)
    });
    let saved = Session::load(&root.join("s")).unwrap().doc;
    assert_eq!(
        saved.steps[1].instruction, "Make it pop",
        "as the planner phrased it"
    );
    assert_eq!(
        saved.steps[1].params.seed, saved.steps[0].params.seed,
        "retry keeps the seed"
    );
    assert_eq!(saved.head, None);
}

#[test]
fn a_keyboard_mask_becomes_the_steps_mask_spec_with_grow_and_feather() {
    let (_tmp, root) = root_with_session("m");
    let mut h = Harness::local(&root);
    h.keys("<Enter>m");
    assert_eq!(h.state().focus, Focus::Mask);
    let start = h
        .state()
        .mask_edit
        .clone()
        .unwrap()
        .spec
        .shape
        .bounds()
        .unwrap();
    assert_eq!((start.x, start.y, start.w, start.h), (21, 16, 21, 16));
    // 64 px wide: small steps are 1 px, big steps (Ctrl) 6 px; Shift-Right widens.
    h.keys("lll<C-j>LLgf<Enter>");
    let mask = h.state().next_mask.clone().expect("mask set");
    let r = mask.shape.bounds().unwrap();
    assert_eq!((r.x, r.y, r.w, r.h), (24, 22, 23, 16));
    assert!(matches!(mask.shape, MaskShape::Rect { .. }));
    assert_eq!((mask.grow, mask.feather), (4, 4));
    h.keys("iwarm light<Enter><Enter>");
    h.wait("masked step", |s| {
        idle(s) && s.session.as_ref().is_some_and(|v| v.doc.head.is_some())
    });
    let session = Session::load(&root.join("m")).unwrap();
    let step = &session.doc.steps[0];
    assert_eq!(
        step.mask_spec.as_ref(),
        Some(&mask),
        "the drawn shape, as drawn"
    );
    assert_eq!(step.params.region, None, "a drawn mask is never a region");
    assert_eq!((step.params.grow, step.params.feather), (0, 0));
    // The runner rasterised it once, grown and feathered, and stored what the engine got.
    let stored = session
        .load_image(step.mask.as_ref().unwrap())
        .unwrap()
        .to_luma8();
    assert_eq!(stored.get_pixel(35, 30).0[0], 255);
    assert_eq!(stored.get_pixel(2, 2).0[0], 0);
}

#[test]
fn plan_review_edits_op_text_strength_order_and_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = Harness::null(tmp.path());
    let img = common::write_image(tmp.path(), "p.png", &common::test_image(32, 32, 2));
    zedit::session::Session::create(tmp.path(), "p", &img).unwrap();
    h.keys("R<Enter>iwarm light<Enter>");
    h.keys("o++"); // op relight -> restyle, strength 0.6 -> 0.7
    h.keys("lle<C-u>0.25<Enter>"); // field strength, typed
    h.keys("ab&w<Enter>"); // add a step after, with text
    h.keys("K"); // move it up
    let plan = h.state().plan.clone().unwrap();
    let ops: Vec<_> = plan
        .steps
        .iter()
        .map(|d| (d.op, d.instruction.clone()))
        .collect();
    assert_eq!(
        ops,
        vec![
            (Op::Edit, "b&w".to_string()),
            (Op::Restyle, "Warm light".to_string())
        ]
    );
    assert_eq!(plan.steps[1].strength, 0.25);
    h.keys("j<Tab>e<C-u>2.5<Enter>");
    let msg = h.state().message.clone().unwrap();
    assert!(msg.error && msg.text.contains("strength '2.5'"), "{msg:?}");
    h.keys("wd");
    assert_eq!(h.state().plan.as_ref().unwrap().steps.len(), 1);
    h.keys("d");
    assert!(h.state().plan.is_none());
    assert_eq!(h.state().focus, Focus::Input);
}

#[test]
fn cjk_paste_and_ime_bursts_edit_by_grapheme() {
    let tmp = tempfile::tempdir().unwrap();
    let img = common::write_image(tmp.path(), "c.png", &common::test_image(16, 16, 3));
    zedit::session::Session::create(tmp.path(), "c", &img).unwrap();
    let mut h = Harness::null(tmp.path());
    h.keys("<Enter>i");
    h.app
        .handle_events([AppEvent::Term(Event::Paste("把背景".into()))]);
    // An IME commit arrives as a burst of key events in one read.
    let burst: Vec<AppEvent> = tui_support::parse_keys("变暖一点")
        .into_iter()
        .map(AppEvent::Term)
        .collect();
    h.app.handle_events(burst);
    assert_eq!(h.state().input.text(), "把背景变暖一点");
    assert_eq!(h.state().input.cursor_column(), 14);
    h.keys("<Left><Left><Backspace>");
    assert_eq!(h.state().input.text(), "把背景变一点");
    let screen = h.screen(80, 24);
    assert!(screen.contains("> 把背景变一点"), "{screen}");
}

#[test]
fn sessions_list_filters_renames_and_deletes_with_confirmation() {
    let tmp = tempfile::tempdir().unwrap();
    let img = common::write_image(tmp.path(), "a.png", &common::test_image(16, 16, 3));
    for n in ["alpha", "beta", "海边"] {
        Session::create(&tmp.path().join("r"), n, &img).unwrap();
    }
    let root = tmp.path().join("r");
    let mut h = Harness::null(&root);
    h.keys("/海<Enter>");
    assert_eq!(h.state().sessions.visible().len(), 1);
    h.keys("<Esc>");
    assert_eq!(h.state().sessions.visible().len(), 3);
    let name = h.state().sessions.selected_item().unwrap().name.clone();
    h.keys("r<C-u>renamed<Enter>");
    assert!(root.join("renamed").is_dir() && !root.join(&name).exists());
    assert_eq!(
        Session::load(&root.join("renamed")).unwrap().doc.name,
        "renamed"
    );
    h.keys("/renamed<Enter>dn");
    assert!(root.join("renamed").is_dir(), "n keeps it");
    h.keys("dy").settle();
    assert!(!root.join("renamed").exists());
    h.keys("<Esc>");
    assert_eq!(h.state().sessions.items.len(), 2);
    // New session from an image path, completed with Tab.
    let typed = format!("n{}/a.p<Tab><Enter>", tmp.path().display());
    h.keys(&typed).settle();
    assert_eq!(h.state().screen, Screen::Session);
    assert_eq!(h.state().session.as_ref().unwrap().doc.name, "a");
}

#[test]
fn an_ellipse_mask_is_rasterised_by_the_runner_and_stored_with_the_step() {
    let (_tmp, root) = root_with_session("e");
    let mut h = Harness::local(&root);
    h.keys("<Enter>me<Enter>");
    let mask = h.state().next_mask.clone().expect("mask set");
    assert!(matches!(mask.shape, MaskShape::Ellipse { .. }), "{mask:?}");
    h.keys("iwarm light<Enter><Enter>");
    h.wait("masked step", |s| {
        idle(s) && s.session.as_ref().is_some_and(|v| v.doc.head.is_some())
    });
    let session = Session::load(&root.join("e")).unwrap();
    let step = &session.doc.steps[0];
    assert_eq!(step.status, Status::Done);
    assert_eq!(step.mask_spec.as_ref(), Some(&mask));
    let img = session
        .load_image(step.mask.as_ref().unwrap())
        .unwrap()
        .to_luma8();
    assert_eq!(img.dimensions(), (64, 48));
    assert_eq!(img.get_pixel(31, 23).0[0], 255, "centre inside");
    assert_eq!(img.get_pixel(0, 0).0[0], 0, "corner outside");
}
