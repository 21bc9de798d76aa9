//! Liveness that survives zombies: a worker killed with SIGKILL while its parent does not reap
//! it stays a `<defunct>` zombie whose pid answers `kill(pid, 0)`, yet its step shows
//! `interrupted` at once (the kernel let go of the step's lock), and the next edit starts a
//! fresh worker, detached so that it is never this process's child.

use crate::common;

use common::*;
use std::time::{Duration, Instant};
use zedit::worker::Client;

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit(')')
                .next()
                .map(|r| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

#[test]
fn a_killed_unreaped_worker_leaves_its_step_interrupted_and_the_next_edit_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let socket = socket_of(root);
    let _guard = WorkerGuard(socket.clone());
    let dir = new_session(root, "s");
    // This test is the worker's parent and does not wait for it after the kill: a zombie.
    let Running {
        mut worker,
        client: _client,
        ..
    } = running_job(&socket, root, &dir);
    // SAFETY: sending SIGKILL to the worker this test started.
    assert_eq!(
        unsafe { libc::kill(worker.id() as libc::pid_t, libc::SIGKILL) },
        0
    );
    eventually("the worker to be a zombie", || is_zombie(worker.id()));
    // SAFETY: signal 0 only checks that the pid exists; a zombie's does.
    assert_eq!(unsafe { libc::kill(worker.id() as libc::pid_t, 0) }, 0);

    let killed = Instant::now();
    let mut shown = None;
    while killed.elapsed() < Duration::from_secs(1) {
        let steps = steps_of(root, "s");
        if steps[0]["status"] == "interrupted" {
            shown = Some(killed.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        shown.is_some(),
        "the step still shows {:?} a second after the kill",
        steps_of(root, "s")[0]["status"]
    );
    let log = zedit(root).args(["log", "s"]).output().unwrap();
    assert!(
        stdout_of(&log).contains("interrupted"),
        "{}",
        stdout_of(&log)
    );

    // The zombie still exists; the next edit starts a fresh worker and succeeds.
    assert!(is_zombie(worker.id()));
    let out = zedit(root)
        .args([
            "edit", "s", "warm", "--op", "relight", "--seed", "6", "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "edit failed: {}", stderr_of(&out));
    let steps = steps_of(root, "s");
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[1]["status"], "done");
    let fresh = Client::connect(&socket).unwrap().info().pid;
    assert_ne!(fresh, worker.id(), "a new worker serves the socket");
    // The fresh worker was detached: it is not this test's child, so it can never be our zombie.
    // SAFETY: waitpid with WNOHANG on a pid only asks; ECHILD means it is not our child.
    let rc = unsafe { libc::waitpid(fresh as libc::pid_t, std::ptr::null_mut(), libc::WNOHANG) };
    assert_eq!(rc, -1, "the started worker must not be our child");
    worker.wait().unwrap();
}
