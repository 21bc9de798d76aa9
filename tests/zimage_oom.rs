//! A zimage step that runs out of device memory is recorded with kind `out_of_memory`: the
//! failure is injected where candle's errors enter the engine (the denoising loop's tensor
//! call fails with CUDA's out-of-memory text), and the real engine, runner and session do the
//! rest. The runner then drops the engine, so the next job loads it afresh.
#![cfg(feature = "zimage")]

mod common;

use common::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use zedit::core::{ErrorKind, Op, Status};
use zedit::engine::{self, EngineOptions};
use zedit::worker::{EngineFactory, LocalRunner};

#[test]
fn an_out_of_memory_device_failure_is_recorded_as_out_of_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = new_session(tmp.path(), "s");
    let opens = Arc::new(AtomicUsize::new(0));
    let counted = opens.clone();
    let factory: EngineFactory = Arc::new(move |opts: &EngineOptions| {
        counted.fetch_add(1, Ordering::SeqCst);
        engine::open(opts)
    });
    let default = EngineOptions {
        name: "zimage".into(),
        model: Some(zimage_fixtures().join("tiny-zimage")),
        device: Some("cpu".into()),
        ..Default::default()
    };
    let runner = LocalRunner::start(factory, default, None).unwrap();
    let job = |seed| {
        let mut job = relight_job(&dir, seed);
        job.engine = "zimage".into();
        job.request.op = Op::Restyle;
        job.request.instruction = "an oil painting".into();
        job.request.params.steps = 2;
        job
    };
    std::env::set_var(
        zedit::engine::zimage::TENSOR_FAULT_ENV,
        "DriverError(CUDA_ERROR_OUT_OF_MEMORY, \"out of memory\")",
    );
    let (id, _, events) = runner.submit(job(1)).unwrap();
    let failed = LocalRunner::wait_step(&events, id, &dir, &mut |_| {}).unwrap();
    std::env::remove_var(zedit::engine::zimage::TENSOR_FAULT_ENV);
    assert_eq!(failed.status, Status::Failed);
    let error = failed.error.unwrap();
    assert_eq!(error.kind, ErrorKind::OutOfMemory, "{error}");
    assert!(
        error.message.contains("CUDA_ERROR_OUT_OF_MEMORY"),
        "{error}"
    );
    let text = std::fs::read_to_string(dir.join("session.toml")).unwrap();
    assert!(text.contains("kind = \"out_of_memory\""), "{text}");

    let (id, _, events) = runner.submit(job(2)).unwrap();
    let done = LocalRunner::wait_step(&events, id, &dir, &mut |_| {}).unwrap();
    assert_eq!(done.status, Status::Done, "{:?}", done.error);
    assert_eq!(
        opens.load(Ordering::SeqCst),
        2,
        "dropped after out-of-memory, then reloaded"
    );
}
