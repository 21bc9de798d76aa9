//! One job path: the in-process runner speaks the worker's jobs and events (Started before
//! Done), failures are typed (`out_of_memory` recorded as its own field), the engine cache
//! drops an engine after out-of-memory or a panic, and older session files still load.

use crate::common;

use common::*;
use image::RgbImage;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use zedit::core::{EngineId, ErrorKind, Status};
use zedit::engine::{EditRequest, Engine, EngineError, EngineOptions, Flow, Progress};
use zedit::session::Session;
use zedit::worker::{default_factory, EngineFactory, Event, LocalRunner};

/// An engine that fails the way its `fail` says when it is the first one opened; engines
/// opened after it succeed.
struct Flaky {
    fail: &'static str,
    first: bool,
}

impl Engine for Flaky {
    fn id(&self) -> EngineId {
        EngineId {
            name: "classic".into(),
            version: "flaky".into(),
            model_digest: None,
            gguf_exec: None,
        }
    }

    fn run(
        &mut self,
        req: &EditRequest,
        on_step: &mut dyn FnMut(Progress) -> Flow,
    ) -> Result<RgbImage, EngineError> {
        on_step(Progress { step: 1, total: 1 });
        if self.first {
            match self.fail {
                // What candle reports when CUDA runs out of memory, through the same conversion.
                "oom" => {
                    return Err(EngineError::from_tensor_failure(
                        "transformer",
                        "DriverError(CUDA_ERROR_OUT_OF_MEMORY, \"out of memory\")",
                    ))
                }
                "panic" => panic!("a bug in the engine"),
                _ => {}
            }
        }
        Ok(req.image.clone())
    }
}

fn counting(fail: &'static str, opens: Arc<AtomicUsize>) -> EngineFactory {
    Arc::new(move |_: &EngineOptions| {
        let first = opens.fetch_add(1, Ordering::SeqCst) == 0;
        Ok(Box::new(Flaky { fail, first }) as Box<dyn Engine>)
    })
}

#[test]
fn the_in_process_runner_reports_started_then_the_recorded_step() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = new_session(tmp.path(), "s");
    let runner = LocalRunner::start(default_factory(), EngineOptions::default(), None).unwrap();
    let (id, position, events) = runner.submit(relight_job(&dir, 3)).unwrap();
    assert_eq!(position, 0);
    let mut seen = Vec::new();
    let step = LocalRunner::wait_step(&events, id, &dir, &mut |e| seen.push(e.clone())).unwrap();
    assert_eq!(step.status, Status::Done);
    let started = seen
        .iter()
        .position(|e| matches!(e, Event::Started { step_id, .. } if *step_id == step.id))
        .expect("a Started event");
    let done = seen
        .iter()
        .position(|e| matches!(e, Event::Done { .. }))
        .expect("a Done event");
    assert!(started < done, "{seen:?}");
    let progress = seen
        .iter()
        .position(|e| matches!(e, Event::Progress { .. }))
        .unwrap();
    assert!(
        started < progress,
        "Started comes before any progress: {seen:?}"
    );
}

#[test]
fn out_of_memory_is_recorded_as_its_kind_and_the_engine_is_loaded_afresh() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = new_session(tmp.path(), "s");
    let opens = Arc::new(AtomicUsize::new(0));
    let runner = LocalRunner::start(
        counting("oom", opens.clone()),
        EngineOptions::default(),
        None,
    )
    .unwrap();
    let (id, _, events) = runner.submit(relight_job(&dir, 1)).unwrap();
    let failed = LocalRunner::wait_step(&events, id, &dir, &mut |_| {}).unwrap();
    assert_eq!(failed.status, Status::Failed);
    let error = failed.error.clone().unwrap();
    assert_eq!(error.kind, ErrorKind::OutOfMemory);
    assert!(
        error.message.contains("CUDA_ERROR_OUT_OF_MEMORY"),
        "{error}"
    );
    let text = std::fs::read_to_string(dir.join("session.toml")).unwrap();
    assert!(text.contains("kind = \"out_of_memory\""), "{text}");
    assert!(text.contains("format = 2"), "{text}");

    let (id, _, events) = runner.submit(relight_job(&dir, 2)).unwrap();
    let done = LocalRunner::wait_step(&events, id, &dir, &mut |_| {}).unwrap();
    assert_eq!(done.status, Status::Done);
    assert_eq!(
        opens.load(Ordering::SeqCst),
        2,
        "dropped after out-of-memory, then reloaded"
    );
}

#[test]
fn a_panicking_engine_fails_its_step_and_is_loaded_afresh() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = new_session(tmp.path(), "s");
    let opens = Arc::new(AtomicUsize::new(0));
    let runner = LocalRunner::start(
        counting("panic", opens.clone()),
        EngineOptions::default(),
        None,
    )
    .unwrap();
    let (id, _, events) = runner.submit(relight_job(&dir, 1)).unwrap();
    let failed = LocalRunner::wait_step(&events, id, &dir, &mut |_| {}).unwrap();
    assert_eq!(failed.error.unwrap().kind, ErrorKind::Internal);
    let (id, _, events) = runner.submit(relight_job(&dir, 2)).unwrap();
    assert_eq!(
        LocalRunner::wait_step(&events, id, &dir, &mut |_| {})
            .unwrap()
            .status,
        Status::Done
    );
    assert_eq!(opens.load(Ordering::SeqCst), 2);
}

#[test]
fn a_format_1_file_with_a_joined_error_loads_and_replays_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/beach");
    let copy = tmp.path().join("beach");
    std::fs::create_dir_all(copy.join("images")).unwrap();
    for entry in std::fs::read_dir(example.join("images")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, copy.join("images").join(p.file_name().unwrap())).unwrap();
    }
    let mut text = std::fs::read_to_string(example.join("session.toml")).unwrap();
    assert!(text.starts_with("format = 1"));
    let input = "images/612eee87fa633e828a8938f7337a5a36439685e10f0c563f72bd25c9ca13aeae.png";
    text.push_str(&format!(
        "\n[[steps]]\nid = 3\nparent = 2\nop = \"recolor\"\ninstruction = \"navy\"\n\
         status = \"failed\"\nerror = \"bad_input: recolor needs --mask or --region\"\n\
         created = \"2026-11-27T21:58:44Z\"\nzedit_version = \"0.1.0\"\n\n\
         [steps.engine]\nname = \"classic\"\nversion = \"1\"\n\n\
         [steps.params]\nstrength = 0.6\nsteps = 8\ncfg = 0.0\nseed = 3\n\n\
         [steps.input]\npath = \"{input}\"\nblake3 = \"612eee87fa633e828a8938f7337a5a36439685e10f0c563f72bd25c9ca13aeae\"\n"
    ));
    std::fs::write(copy.join("session.toml"), &text).unwrap();
    let s = Session::load(&copy).unwrap();
    assert_eq!(s.doc.format, 1);
    let err = s.doc.steps[2].error.clone().unwrap();
    assert_eq!(err.kind, ErrorKind::BadInput);
    assert_eq!(err.message, "recolor needs --mask or --region");
    assert_replay_identical(tmp.path(), "beach");
    // Reading never rewrote the file.
    assert_eq!(
        std::fs::read_to_string(copy.join("session.toml")).unwrap(),
        text
    );
}

#[test]
fn a_file_of_a_newer_format_is_refused_with_the_upgrade_message() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = new_session(tmp.path(), "s");
    let path = dir.join("session.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("format = 2"), "{text}");
    let newer = text.replacen(
        "format = 2",
        &format!("format = {}", zedit::session::FORMAT + 1),
        1,
    );
    std::fs::write(&path, newer).unwrap();
    let err = Session::load(&dir).unwrap_err().to_string();
    assert!(err.contains("upgrade zedit"), "{err}");
}
