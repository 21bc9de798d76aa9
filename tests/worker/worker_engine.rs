//! Engine failures inside the worker, with engines injected through the library's server: a
//! panic or an out-of-memory fails only its job, and a load failure is a clean error at start.

use crate::common;

use common::*;
use image::RgbImage;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use zedit::core::EngineId;
use zedit::engine::{self, EditRequest, Engine, EngineError, EngineOptions, Flow, Progress};
use zedit::worker::{Client, Event, Server, ServerOptions, WorkerError};

/// Panics or runs out of memory on every run, as its name says.
struct Faulty(&'static str);

impl Engine for Faulty {
    fn id(&self) -> EngineId {
        EngineId {
            name: self.0.into(),
            version: "1".into(),
            model_digest: None,
            gguf_exec: None,
        }
    }

    fn run(
        &mut self,
        _req: &EditRequest,
        _on_step: &mut dyn FnMut(Progress) -> Flow,
    ) -> Result<RgbImage, EngineError> {
        match self.0 {
            "panicky" => panic!("tensor shape mismatch"),
            _ => Err(EngineError::OutOfMemory("CUDA out of memory".into())),
        }
    }
}

fn options(socket: &std::path::Path, loads: Arc<AtomicUsize>) -> ServerOptions {
    let mut opts = ServerOptions::new(socket);
    opts.factory = Arc::new(move |o: &EngineOptions| {
        loads.fetch_add(1, Ordering::SeqCst);
        match o.name.as_str() {
            "panicky" => Ok(Box::new(Faulty("panicky")) as Box<dyn Engine>),
            "hungry" => Ok(Box::new(Faulty("hungry"))),
            "broken" => Err(EngineError::Model("weights are truncated".into())),
            _ => engine::open(o),
        }
    });
    opts
}

fn serve(opts: ServerOptions) -> std::thread::JoinHandle<()> {
    let server = Server::start(opts).expect("worker starts");
    std::thread::spawn(move || server.serve().expect("worker serves"))
}

#[test]
fn a_panicking_or_out_of_memory_engine_fails_its_job_and_the_worker_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    // In a folder of its own: the worker makes it private (0700), as it must be.
    let socket = tmp.path().join("run").join("w.sock");
    let loads = Arc::new(AtomicUsize::new(0));
    let handle = serve(options(&socket, loads.clone()));
    let dir = new_session(tmp.path(), "s");
    let mut client = Client::connect(&socket).unwrap();

    let mut job = relight_job(&dir, 1);
    job.engine = "panicky".into();
    let (id, _) = client.submit(job).unwrap();
    match wait_final(&mut client, id) {
        Event::Failed {
            kind,
            message,
            step_id,
            ..
        } => {
            assert_eq!(kind, zedit::core::ErrorKind::Internal);
            assert!(message.contains("tensor shape mismatch"), "{message}");
            assert!(step_id.is_some(), "the step is recorded as failed");
        }
        e => panic!("{e:?}"),
    }
    let steps = steps_of(tmp.path(), "s");
    assert_eq!(steps[0]["status"], "failed", "not left running");

    let loads_before = loads.load(Ordering::SeqCst);
    for _ in 0..2 {
        let mut job = relight_job(&dir, 2);
        job.engine = "hungry".into();
        let (id, _) = client.submit(job).unwrap();
        let e = wait_final(&mut client, id);
        assert!(
            matches!(&e, Event::Failed { kind, .. } if *kind == zedit::core::ErrorKind::OutOfMemory),
            "{e:?}"
        );
    }
    assert_eq!(
        loads.load(Ordering::SeqCst) - loads_before,
        2,
        "the engine is dropped after out-of-memory and loaded afresh"
    );

    let (id, _) = client.submit(relight_job(&dir, 3)).unwrap();
    assert!(matches!(wait_final(&mut client, id), Event::Done { .. }));
    client.shutdown().unwrap();
    handle.join().unwrap();
    assert!(!socket.exists(), "the socket goes with the worker");
}

#[test]
fn an_engine_that_cannot_load_is_a_clean_error_at_start_and_frees_the_socket() {
    let tmp = tempfile::tempdir().unwrap();
    // In a folder of its own: the worker makes it private (0700), as it must be.
    let socket = tmp.path().join("run").join("w.sock");
    let mut opts = options(&socket, Arc::new(AtomicUsize::new(0)));
    opts.engine.name = "broken".into();
    match Server::start(opts.clone()) {
        Err(WorkerError::EngineLoad { name, source }) => {
            assert_eq!(name, "broken");
            assert!(source.to_string().contains("truncated"));
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a broken engine must not start"),
    }
    opts.engine.name = "classic".into();
    let handle = serve(opts.clone());
    match Server::start(opts) {
        Err(WorkerError::AlreadyRunning { pid, .. }) => {
            assert_eq!(pid, std::process::id().to_string())
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("two workers on one socket"),
    }
    Client::connect(&socket).unwrap().shutdown().unwrap();
    handle.join().unwrap();
}
