//! No edit is lost when a process goes away: a killed client's job still finishes, and a killed
//! worker leaves its step `interrupted` with the session intact, ready to re-run.

use crate::common;

use common::*;
use std::process::{Command, Stdio};
use zedit::worker::{Client, Event};

fn kill(pid: u32, signal: i32) {
    // SAFETY: sending a signal to a process this test started.
    let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(rc, 0, "kill {pid}");
}

#[test]
fn a_job_finishes_after_its_client_is_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let _guard = start_worker(root, 300);
    new_session(root, "s");
    let mut edit = Command::new(assert_cmd::cargo::cargo_bin("zedit"))
        .args(["--sessions"])
        .arg(root)
        .args(["edit", "s", "warm", "--op", "relight", "--seed", "3"])
        .env("ZEDIT_SOCKET", socket_of(root))
        .env_remove("ZEDIT_ENGINE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut client = Client::connect(&socket_of(root)).unwrap();
    eventually("the job to run", || {
        client
            .status()
            .unwrap()
            .first()
            .is_some_and(|j| j.step_id.is_some())
    });
    edit.kill().unwrap();
    edit.wait().unwrap();
    eventually("the queue to drain", || client.status().unwrap().is_empty());
    let steps = steps_of(root, "s");
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["status"], "done", "{:?}", steps[0]);
    assert!(steps[0]["output"]["path"].is_string());
}

#[test]
fn a_worker_killed_mid_job_leaves_the_step_interrupted_and_the_next_worker_reruns_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let socket = socket_of(root);
    let _guard = WorkerGuard(socket.clone());
    let dir = new_session(root, "s");
    // In the foreground, as this test's child, so the test reaps it and its pid really dies.
    let Running {
        mut worker,
        mut client,
        job: id,
    } = running_job(&socket, root, &dir);
    kill(worker.id(), libc::SIGKILL);
    worker.wait().unwrap();
    // Events sent before the kill (Started, progress) may still be read; then the end.
    let ended = loop {
        match client.next_event() {
            Ok(e) => assert!(!e.is_final(), "job {id} did not finish: {e:?}"),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(ended, zedit::worker::WorkerError::Closed(_)),
        "the connection is gone: {ended}"
    );

    let steps = steps_of(root, "s");
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["status"], "interrupted", "{:?}", steps[0]);
    assert!(
        socket.exists(),
        "the dead worker's socket file is left behind"
    );

    // The next edit starts a fresh worker over the stale socket and runs the step again.
    let out = zedit(root)
        .args(["edit", "s", "warmer", "--op", "relight", "--seed", "5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let steps = steps_of(root, "s");
    let status: Vec<_> = steps.iter().map(|s| s["status"].clone()).collect();
    assert_eq!(status, ["interrupted", "done"]);

    // A client that reconnects can still ask about a job of the new worker.
    let mut client = Client::connect(&socket).unwrap();
    let (id, _) = client.submit(relight_job(&dir, 6)).unwrap();
    drop(client);
    let mut again = Client::connect(&socket).unwrap();
    again.watch(id).unwrap();
    let e = wait_final(&mut again, id);
    assert!(matches!(e, Event::Done { .. }), "{e:?}");
}

#[test]
fn sigterm_stops_the_worker_and_records_the_running_step_as_cancelled() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let socket = socket_of(root);
    let _guard = WorkerGuard(socket.clone());
    let dir = new_session(root, "s");
    let Running {
        mut worker,
        mut client,
        job: id,
    } = running_job(&socket, root, &dir);
    kill(worker.id(), libc::SIGTERM);
    let e = wait_final(&mut client, id);
    assert!(matches!(e, Event::Cancelled { .. }), "{e:?}");
    assert!(worker.wait().unwrap().success());
    assert_eq!(steps_of(root, "s")[0]["status"], "cancelled");
    assert!(!socket.exists(), "a stopped worker removes its socket");
}
