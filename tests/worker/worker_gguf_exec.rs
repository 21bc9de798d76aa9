//! The worker's engine cache reloads an engine when a job asks for another GGUF execution
//! choice (as for another model or device), and keeps it when the choice is the same; a job
//! that names none gets the worker's configured one.

use crate::common;

use common::*;
use std::sync::{Arc, Mutex};
use zedit::engine::{self, EngineOptions, QuantMode};
use zedit::worker::{Client, Event, Server, ServerOptions};

#[test]
fn another_gguf_exec_reloads_the_engine_and_the_same_one_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let socket = tmp.path().join("run").join("w.sock");
    let loads: Arc<Mutex<Vec<Option<QuantMode>>>> = Arc::default();
    let mut opts = ServerOptions::new(&socket);
    opts.engine = EngineOptions {
        name: "classic".into(),
        gguf_exec: Some(QuantMode::Dequantize),
        ..Default::default()
    };
    let seen = loads.clone();
    opts.factory = Arc::new(move |o: &EngineOptions| {
        seen.lock().unwrap().push(o.gguf_exec);
        engine::open(o)
    });
    let server = Server::start(opts).expect("worker starts");
    let handle = std::thread::spawn(move || server.serve().expect("worker serves"));
    let dir = new_session(tmp.path(), "s");
    let mut client = Client::connect(&socket).unwrap();
    for (seed, exec) in [
        (1, None),
        (2, Some(QuantMode::Dequantize)),
        (3, Some(QuantMode::MatMul)),
        (4, Some(QuantMode::MatMul)),
        (5, None),
    ] {
        let mut job = relight_job(&dir, seed);
        job.gguf_exec = exec;
        let (id, _) = client.submit(job).unwrap();
        assert!(
            matches!(wait_final(&mut client, id), Event::Done { .. }),
            "job {seed}"
        );
    }
    client.shutdown().unwrap();
    handle.join().unwrap();
    let d = Some(QuantMode::Dequantize);
    assert_eq!(
        *loads.lock().unwrap(),
        vec![None, d, Some(QuantMode::MatMul), d],
        "preloaded with none named; the configured dequant for jobs 1-2, reloaded for \
         qmatmul (3-4), and back for job 5"
    );
}
