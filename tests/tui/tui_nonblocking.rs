//! The studio never waits on the worker: while the worker is being started (and failing to
//! start) keys still type and move, the error reaches the status line, and jobs then run on the
//! in-process runner.

use crate::common;
use crate::tui_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};
use tui_support::Harness;
use zedit::core::Status;
use zedit::session::Session;
use zedit::tui::state::{Focus, Screen, State};
use zedit::tui::WorkerBackend;
use zedit::worker::ClientOptions;

fn root_with_session(tmp: &Path) -> std::path::PathBuf {
    let root = tmp.join("sessions");
    let img = common::write_image(tmp, "beach.png", &common::test_image(64, 48, 1));
    Session::create(&root, "beach", &img).unwrap();
    root
}

fn error_says(s: &State, words: &str) -> bool {
    s.message
        .as_ref()
        .is_some_and(|m| m.error && m.text.contains(words))
}

/// Types and moves, each key handled at once, while the backend is still starting the worker.
fn type_and_move(h: &mut Harness) {
    let begun = Instant::now();
    h.keys("<Enter>");
    assert_eq!(h.state().screen, Screen::Session);
    h.keys("iwarm light");
    assert_eq!(h.state().focus, Focus::Input);
    assert_eq!(h.state().input.text(), "warm light");
    h.keys("<Esc>jk");
    assert!(
        begun.elapsed() < Duration::from_millis(500),
        "keys waited {:?} on the worker",
        begun.elapsed()
    );
}

#[test]
fn a_worker_that_cannot_start_leaves_the_studio_responsive_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let root = root_with_session(tmp.path());
    // The socket's folder cannot be made: a file stands where it should be.
    let blocker = tmp.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let mut opts = ClientOptions::new(blocker.join("zedit").join("worker.sock"));
    opts.exe = Some(assert_cmd::cargo::cargo_bin("zedit"));
    let mut h = Harness::with_backend(&root, move |sink| {
        Box::new(WorkerBackend::start(opts, sink))
    });
    // This start fails at once, before any key (a key clears a notice): the error is on the
    // status line first, then keys are still handled at once.
    h.wait("the start error on the status line", |s| {
        error_says(s, "worker unavailable")
    });
    assert!(
        error_says(h.state(), "not-a-dir"),
        "{:?}",
        h.state().message
    );
    type_and_move(&mut h);
    assert_eq!(h.state().backend, "local");
    // Jobs run in this process instead, and are recorded.
    h.keys("iwarm light<Enter><Enter>");
    h.wait("the step done locally", |s| {
        s.run.is_none() && s.session.as_ref().is_some_and(|v| v.doc.head.is_some())
    });
    let doc = Session::load(&root.join("beach")).unwrap().doc;
    assert_eq!(doc.steps[0].status, Status::Done);
}

#[test]
fn keys_work_while_a_slow_worker_start_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let root = root_with_session(tmp.path());
    // A "worker" that takes a second and a half to fail, as a model load that runs out of
    // memory would.
    let exe = tmp.path().join("slow-worker");
    std::fs::write(
        &exe,
        "#!/bin/sh\nsleep 1.5\necho 'zedit: error: cannot load engine zimage: out of memory' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut opts = ClientOptions::new(tmp.path().join("w").join("worker.sock"));
    opts.exe = Some(exe);
    let mut h = Harness::with_backend(&root, move |sink| {
        Box::new(WorkerBackend::start(opts, sink))
    });
    h.drain();
    assert_eq!(h.state().backend, "starting worker…");
    type_and_move(&mut h);
    assert_eq!(
        h.state().backend,
        "starting worker…",
        "the start is still under way"
    );
    h.wait("the start error on the status line", |s| {
        error_says(s, "out of memory")
    });
    assert_eq!(h.state().backend, "local");
}
