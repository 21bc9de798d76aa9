//! The worker's life through the real binary on a temp socket: start, status, private socket,
//! concurrent clients, cancellation, bad messages, protocol mismatch, stop and restart.

use crate::common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;
use zedit::worker::{Client, Event, JobState};

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn start_status_stop_and_restart_on_a_private_socket() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let socket = socket_of(root);
    let _guard = WorkerGuard(socket.clone());
    let out = zedit(root).args(["worker", "start"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    assert!(text.contains("worker started: pid"), "{text}");
    assert!(text.contains(&socket.display().to_string()), "{text}");
    assert_eq!(mode(&socket), 0o600, "only the owner may connect");
    assert_eq!(
        mode(socket.parent().unwrap()),
        0o700,
        "the socket's folder is private"
    );

    let again = zedit(root).args(["worker", "start"]).output().unwrap();
    assert!(stdout_of(&again).contains("already running"));

    let out = zedit(root)
        .args(["worker", "status", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(status["pid"].as_u64().unwrap() > 0);
    assert_eq!(status["engines"], serde_json::json!(["classic"]));
    assert_eq!(status["jobs"], serde_json::json!([]));

    let out = zedit(root).args(["worker", "stop"]).output().unwrap();
    assert!(
        stdout_of(&out).contains("stopped the worker"),
        "{}",
        stdout_of(&out)
    );
    let out = zedit(root).args(["worker", "status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout_of(&out).contains("no worker is running"));

    // A socket left behind (as by a dead worker) does not stop the next one.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());
    zedit(root).args(["worker", "start"]).assert().success();
    zedit(root).args(["worker", "status"]).assert().success();
}

#[test]
fn a_worker_that_cannot_load_its_engine_says_why_to_the_starter() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let _guard = WorkerGuard(socket_of(root));
    let out = zedit(root)
        .args(["worker", "start", "--engine", "magic"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(
        err.contains("could not start") && err.contains("unknown engine 'magic'"),
        "{err}"
    );
}

#[test]
fn two_clients_submitting_at_once_both_get_their_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let _guard = start_worker(root, 0);
    let dirs = [new_session(root, "a"), new_session(root, "b")];
    std::thread::scope(|s| {
        for dir in &dirs {
            s.spawn(|| {
                let mut client = Client::connect(&socket_of(root)).unwrap();
                let ids: Vec<_> = (0..3)
                    .map(|i| client.submit(relight_job(dir, i)).unwrap().0)
                    .collect();
                for id in ids {
                    let e = wait_final(&mut client, id);
                    assert!(matches!(e, Event::Done { .. }), "{e:?}");
                }
            });
        }
    });
    for name in ["a", "b"] {
        let steps = steps_of(root, name);
        assert_eq!(steps.len(), 3);
        assert!(steps.iter().all(|s| s["status"] == "done"), "{steps:?}");
    }
    // And the CLI path, two processes at once.
    std::thread::scope(|s| {
        for name in ["a", "b"] {
            s.spawn(move || {
                let out = zedit(root)
                    .args(["edit", name, "warm", "--op", "relight", "--seed", "7"])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{}", stderr_of(&out));
                assert!(stdout_of(&out).trim().ends_with(".png"));
            });
        }
    });
}

#[test]
fn queued_and_running_jobs_can_be_cancelled() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let _guard = start_worker(root, 400);
    let dir = new_session(root, "s");
    let mut client = Client::connect(&socket_of(root)).unwrap();
    let (running, pos) = client.submit(relight_job(&dir, 1)).unwrap();
    assert_eq!(pos, 0);
    let (queued, pos) = client.submit(relight_job(&dir, 2)).unwrap();
    assert_eq!(pos, 1, "one job ahead");
    eventually("the first job to start", || {
        let jobs = client.status().unwrap();
        jobs.len() == 2 && jobs[0].state == JobState::Running && jobs[0].step_id.is_some()
    });
    let jobs = client.status().unwrap();
    assert_eq!((jobs[1].job_id, jobs[1].state), (queued, JobState::Queued));

    client.cancel(queued).unwrap();
    let e = wait_final(&mut client, queued);
    assert!(matches!(e, Event::Cancelled { step_id: None, .. }), "{e:?}");
    client.cancel(running).unwrap();
    let e = wait_final(&mut client, running);
    assert!(
        matches!(
            e,
            Event::Cancelled {
                step_id: Some(_),
                ..
            }
        ),
        "{e:?}"
    );
    let steps = steps_of(root, "s");
    assert_eq!(steps.len(), 1, "the queued job never reached the session");
    assert_eq!(steps[0]["status"], "cancelled");

    // The worker goes on serving.
    let (next, _) = client.submit(relight_job(&dir, 3)).unwrap();
    assert!(matches!(wait_final(&mut client, next), Event::Done { .. }));
    // Unknown jobs are refused as data, naming the job.
    client.cancel(zedit::worker::JobId(999)).unwrap();
    let e = client.next_event_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        matches!(&e, Some(Event::Error { kind, job_id: Some(_), .. }) if kind == "not_found"),
        "{e:?}"
    );
}

fn raw(socket: &std::path::Path) -> (UnixStream, BufReader<UnixStream>) {
    let s = UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let r = BufReader::new(s.try_clone().unwrap());
    (s, r)
}

fn read_event(r: &mut BufReader<UnixStream>) -> serde_json::Value {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line:?}"))
}

#[test]
fn malformed_and_oversized_lines_get_errors_and_the_worker_stays_up() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let _guard = start_worker(root, 0);
    let (mut s, mut r) = raw(&socket_of(root));
    let hello = format!(
        r#"{{"type":"Hello","protocol":{},"version":"test"}}"#,
        zedit::worker::PROTOCOL
    );
    writeln!(s, "{hello}").unwrap();
    assert_eq!(read_event(&mut r)["type"], "Hello");
    s.write_all(b"this is not json\n").unwrap();
    let e = read_event(&mut r);
    assert_eq!(
        (e["type"].as_str(), e["kind"].as_str()),
        (Some("Error"), Some("bad_request"))
    );
    writeln!(
        s,
        r#"{{"type":"Submit","job":{{"session_dir":"relative"}}}}"#
    )
    .unwrap();
    assert_eq!(read_event(&mut r)["kind"], "bad_request");
    let big = vec![b'x'; 2 << 20];
    s.write_all(&big).unwrap();
    s.write_all(b"\n").unwrap();
    let e = read_event(&mut r);
    assert_eq!(e["kind"], "too_large", "{e}");
    writeln!(s, r#"{{"type":"Status"}}"#).unwrap();
    assert_eq!(
        read_event(&mut r)["type"],
        "Status",
        "the connection is still usable"
    );
    assert!(
        Client::connect(&socket_of(root)).is_ok(),
        "and so is the worker"
    );
}

#[test]
fn clients_of_another_protocol_are_told_both_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let _guard = start_worker(root, 0);
    let (mut s, mut r) = raw(&socket_of(root));
    writeln!(s, r#"{{"type":"Hello","protocol":0,"version":"0.0.1"}}"#).unwrap();
    let e = read_event(&mut r);
    assert_eq!(e["kind"], "protocol");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("protocol {}", zedit::worker::PROTOCOL))
            && msg.contains("protocol 0 (zedit 0.0.1)"),
        "{msg}"
    );

    let (mut s, mut r) = raw(&socket_of(root));
    writeln!(s, r#"{{"type":"Status"}}"#).unwrap();
    assert_eq!(
        read_event(&mut r)["kind"],
        "protocol",
        "Hello must come first"
    );
}

#[test]
fn a_worker_of_another_version_is_reported_not_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let socket = socket_of(root);
    zedit::worker::paths::ensure_dir(&socket).unwrap();
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    // A stand-in for a worker from a future zedit.
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            let mut w = stream;
            let _ = writeln!(
                w,
                r#"{{"type":"Hello","protocol":99,"version":"9.9.9","pid":1,"engines":[]}}"#
            );
        }
    });
    new_session(root, "s");
    let out = zedit(root)
        .args(["edit", "s", "warm", "--op", "relight"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(
        err.contains("protocol 99") && err.contains("9.9.9") && err.contains("zedit worker stop"),
        "{err}"
    );
    assert!(steps_of(root, "s").is_empty(), "nothing ran");
}

#[test]
fn local_edits_run_in_process_without_a_worker() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    new_session(root, "s");
    let out = zedit(root)
        .args(["edit", "s", "warm", "--op", "relight", "--local"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stdout_of(&out).trim().ends_with(".png"));
    assert!(!socket_of(root).exists(), "no worker was started");
    assert_eq!(steps_of(root, "s")[0]["status"], "done");
}
