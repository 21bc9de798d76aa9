//! The worker's resources are bounded and its records honest: connections are capped and must say
//! Hello within a few seconds, a client that floods requests without reading is dropped, a step
//! whose result cannot be recorded ends `failed` (never `running`), and an `undo` made while an
//! edit runs is kept.

use crate::common;

use common::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};
use zedit::worker::{Client, Event};

/// True when the worker closed `s` (EOF or reset) within `within`.
fn closed_within(s: &mut UnixStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn silent_connections_are_capped_and_timed_out() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let _guard = start_worker(root, 0);
    let socket = socket_of(root);
    let mut idle: Vec<UnixStream> = (0..64)
        .map(|_| UnixStream::connect(&socket).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = UnixStream::connect(&socket).unwrap();
    assert!(
        closed_within(&mut extra, Duration::from_secs(2)),
        "a connection over the cap is closed at once"
    );
    let begun = Instant::now();
    for s in &mut idle {
        assert!(
            closed_within(s, Duration::from_secs(10)),
            "no Hello, closed"
        );
    }
    assert!(begun.elapsed() < Duration::from_secs(10));
    // Room again for a real client.
    let mut c = Client::connect(&socket).unwrap();
    assert!(c.status().unwrap().is_empty());
}

fn rss_kb(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_client_that_floods_without_reading_is_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let _guard = start_worker(root, 0);
    let socket = socket_of(root);
    let pid = Client::connect(&socket).unwrap().info().pid;
    let mut s = UnixStream::connect(&socket).unwrap();
    let hello = format!(
        "{{\"type\":\"Hello\",\"protocol\":{},\"version\":\"{}\"}}\n",
        zedit::worker::PROTOCOL,
        zedit::core::ZEDIT_VERSION
    );
    s.write_all(hello.as_bytes()).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let burst = "{\"type\":\"Status\"}\n".repeat(10_000);
    let mut dropped = false;
    for _ in 0..100 {
        if s.write_all(burst.as_bytes()).is_err() {
            dropped = true;
            break;
        }
    }
    let rss = rss_kb(pid);
    assert!(
        dropped,
        "a million unread answers were buffered for the client"
    );
    assert!(rss < 200_000, "the worker grew to {rss} kB");
    assert!(Client::connect(&socket)
        .unwrap()
        .status()
        .unwrap()
        .is_empty());
}

#[test]
fn a_step_that_cannot_be_recorded_ends_failed_and_status_agrees() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let _guard = start_worker(root, 200);
    let dir = new_session(root, "s");
    let mut client = Client::connect(&socket_of(root)).unwrap();
    let (id, _) = client.submit(relight_job(&dir, 9)).unwrap();
    eventually("the step to run", || {
        steps_of(root, "s")
            .first()
            .is_some_and(|s| s["status"] == "running")
    });
    // The output folder becomes a link out of the session while the engine runs.
    let outside = root.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::rename(dir.join("images"), root.join("images.real")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("images")).unwrap();
    let last = wait_final(&mut client, id);
    assert!(matches!(last, Event::Failed { .. }), "{last:?}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    std::fs::remove_file(dir.join("images")).unwrap();
    std::fs::rename(root.join("images.real"), dir.join("images")).unwrap();
    let steps = steps_of(root, "s");
    assert_eq!(steps[0]["status"], "failed", "{:?}", steps[0]);
    assert!(
        steps[0]["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("images"),
        "{:?}",
        steps[0]
    );
    assert!(client.status().unwrap().is_empty(), "worker status agrees");
}

#[test]
fn an_undo_made_while_an_edit_runs_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let _guard = start_worker(root, 150);
    let dir = new_session(root, "s");
    let mut client = Client::connect(&socket_of(root)).unwrap();
    let (id, _) = client.submit(relight_job(&dir, 1)).unwrap();
    wait_final(&mut client, id);
    let mut second = relight_job(&dir, 2);
    second.request.parent = Some(zedit::core::StepId(1));
    let (id, _) = client.submit(second).unwrap();
    eventually("the second step to run", || {
        steps_of(root, "s")
            .get(1)
            .is_some_and(|s| s["status"] == "running")
    });
    zedit(root).args(["undo", "s"]).assert().success();
    let last = wait_final(&mut client, id);
    assert!(matches!(last, Event::Done { .. }), "{last:?}");
    let doc = zedit::session::Session::load(&dir).unwrap().doc;
    assert_eq!(doc.steps[1].status, zedit::core::Status::Done);
    assert_eq!(doc.head, None, "the undo to the source is kept");
}
