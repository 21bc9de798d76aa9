//! Key-sequence tests of the studio running its jobs on a real worker daemon on a temp socket:
//! edit, undo, branch and quit, then the saved session checked from disk.

use crate::common;
use crate::tui_support;

use std::path::Path;
use tui_support::Harness;
use zedit::core::{Op, Status, StepId};
use zedit::session::Session;
use zedit::tui::state::{Focus, Screen, State};
use zedit::tui::WorkerBackend;
use zedit::worker::ClientOptions;

/// Options for the worker private to `tmp`, started from the zedit binary (not this test).
fn options(tmp: &Path) -> ClientOptions {
    let mut opts = ClientOptions::new(common::socket_of(tmp));
    opts.exe = Some(assert_cmd::cargo::cargo_bin("zedit"));
    opts
}

fn worker_harness(tmp: &Path, root: &Path) -> Harness {
    let opts = options(tmp);
    Harness::with_backend(root, move |sink| {
        Box::new(WorkerBackend::connect(opts, sink).expect("worker reachable"))
    })
}

fn head_is(s: &State, id: u32) -> bool {
    s.run.is_none()
        && s.session
            .as_ref()
            .is_some_and(|v| v.doc.head == Some(StepId(id)))
}

#[test]
fn edit_undo_branch_and_quit_on_the_worker_then_the_saved_session_matches() {
    let tmp = tempfile::tempdir().unwrap();
    let _worker = common::start_worker(tmp.path(), 0);
    let root = tmp.path().join("sessions");
    let img = common::write_image(tmp.path(), "beach.png", &common::test_image(64, 48, 1));
    Session::create(&root, "beach", &img).unwrap();

    let mut h = worker_harness(tmp.path(), &root);
    assert!(
        h.app.backend.state().starts_with("worker pid "),
        "{}",
        h.app.backend.state()
    );
    h.keys("<Enter>");
    assert_eq!(h.state().screen, Screen::Session);

    h.keys("iwarm afternoon light<Enter>");
    let plan = h.state().plan.clone().expect("plan review");
    assert_eq!(h.state().focus, Focus::Plan);
    assert_eq!(plan.steps[0].op, Op::Relight);

    h.keys("<Enter>");
    h.wait("step 1 done", |s| head_is(s, 1));
    let doc = &h.state().session.as_ref().unwrap().doc;
    assert_eq!(doc.steps[0].status, Status::Done);
    let msg = &h.state().message.as_ref().unwrap().text;
    assert!(msg.contains("step #1") && msg.contains("done"), "{msg}");

    h.keys("u");
    assert_eq!(h.state().session.as_ref().unwrap().doc.head, None);

    // From the source again: a sibling branch of #1.
    h.keys("icool evening light<Enter><Enter>");
    h.wait("step 2 done", |s| head_is(s, 2));

    h.keys("q");
    assert!(h.state().quit);

    let shown = h.state().session.as_ref().unwrap().doc.clone();
    let saved = Session::load(&root.join("beach")).unwrap().doc;
    assert_eq!(shown, saved, "the screen shows what the worker saved");
    let parents: Vec<_> = saved
        .steps
        .iter()
        .map(|s| (s.id.0, s.parent.map(|p| p.0)))
        .collect();
    assert_eq!(parents, vec![(1, None), (2, None)]);
    assert_eq!(saved.head, Some(StepId(2)));
    assert!(saved.steps.iter().all(|s| s.status == Status::Done));
    assert!(saved.steps.iter().all(|s| s.op == Op::Relight));
}

#[test]
fn the_backend_starts_a_worker_when_none_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let _worker = common::WorkerGuard(common::socket_of(tmp.path()));
    let root = tmp.path().join("sessions");
    let img = common::write_image(tmp.path(), "s.png", &common::test_image(64, 48, 1));
    Session::create(&root, "s", &img).unwrap();

    let mut h = worker_harness(tmp.path(), &root);
    assert!(h.app.backend.state().starts_with("worker pid "));
    h.keys("<Enter>iwarm afternoon light<Enter><Enter>");
    h.wait("step 1 done", |s| head_is(s, 1));
    let saved = Session::load(&root.join("s")).unwrap().doc;
    assert_eq!(saved.steps.len(), 1);
    assert_eq!(saved.steps[0].status, Status::Done);
}

#[test]
fn x_cancels_a_running_job_on_the_worker_and_the_step_is_recorded_cancelled() {
    let tmp = tempfile::tempdir().unwrap();
    // Slow progress callbacks so the job is still running when x arrives.
    let _worker = common::start_worker(tmp.path(), 2000);
    let root = tmp.path().join("sessions");
    let img = common::write_image(tmp.path(), "s.png", &common::test_image(64, 48, 1));
    Session::create(&root, "s", &img).unwrap();

    let mut h = worker_harness(tmp.path(), &root);
    h.keys("<Enter>iwarm afternoon light<Enter><Enter>");
    common::eventually("the step to be recorded as running", || {
        Session::load(&root.join("s"))
            .is_ok_and(|s| s.doc.steps.iter().any(|t| t.status == Status::Running))
    });
    h.drain();
    h.keys("x");
    h.wait("the job to end", |s| s.run.is_none());
    let msg = &h.state().message.as_ref().unwrap().text;
    assert!(msg.contains("cancelled"), "{msg}");
    let saved = Session::load(&root.join("s")).unwrap().doc;
    assert!(
        saved.steps.iter().all(|s| s.status == Status::Cancelled),
        "{:?}",
        saved.steps
    );
}
