//! A dropped connection loses nothing: `Client::wait_step` reconnects, re-attaches to the job
//! with `Watch`, and returns the step the worker recorded, never a failure.

use crate::common;

use common::*;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use zedit::core::Status;
use zedit::worker::{Client, ClientOptions, Event};

/// Forwards connections on `path` to the worker on `target`; bumping `epoch` drops the
/// connections made before, and later ones go through.
fn proxy(path: PathBuf, target: PathBuf, epoch: Arc<AtomicUsize>) {
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(front) = conn else { return };
            let Ok(back) = UnixStream::connect(&target) else {
                return;
            };
            let born = epoch.load(Ordering::SeqCst);
            let cut = epoch.clone();
            let pipe = move |mut from: UnixStream, mut to: UnixStream, cut: Arc<AtomicUsize>| {
                from.set_read_timeout(Some(std::time::Duration::from_millis(20)))
                    .unwrap();
                let mut buf = [0u8; 4096];
                loop {
                    if cut.load(Ordering::SeqCst) != born {
                        let _ = from.shutdown(std::net::Shutdown::Both);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                        return;
                    }
                    match from.read(&mut buf) {
                        Ok(0) => return,
                        Ok(n) => {
                            if to.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                        Err(_) => return,
                    }
                }
            };
            let (f2, b2) = (front.try_clone().unwrap(), back.try_clone().unwrap());
            let c2 = cut.clone();
            std::thread::spawn(move || pipe(front, back, cut));
            std::thread::spawn(move || pipe(b2, f2, c2));
        }
    });
}

fn proxied(root: &Path) -> (ClientOptions, Arc<AtomicUsize>) {
    // The client refuses a socket whose folder others can enter: keep the proxy's private.
    let private = root.join(".proxy");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(
        &private,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let front = private.join("proxy.sock");
    let cut = Arc::new(AtomicUsize::new(0));
    proxy(front.clone(), socket_of(root), cut.clone());
    let mut opts = ClientOptions::new(front);
    opts.exe = Some(assert_cmd::cargo::cargo_bin("zedit"));
    (opts, cut)
}

#[test]
fn a_dropped_connection_re_attaches_and_the_finished_step_is_returned() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // The client only talks through a socket in a private folder.
    std::fs::set_permissions(root, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let _worker = start_worker(root, 400);
    let dir = new_session(root, "s");
    let (opts, cut) = proxied(root);
    let mut client = Client::connect(&opts.socket).unwrap();
    let (id, _) = client.submit(relight_job(&dir, 4)).unwrap();
    let mut seen = Vec::new();
    let step = client
        .wait_step(id, &dir, Some(&opts), &mut |e| {
            // Drop the connection once the step is running (the first time only).
            if matches!(e, Event::Started { .. }) && seen.is_empty() {
                cut.fetch_add(1, Ordering::SeqCst);
            }
            seen.push(e.clone());
        })
        .unwrap();
    assert!(cut.load(Ordering::SeqCst) >= 1, "the connection was cut");
    assert_eq!(step.status, Status::Done, "{seen:?}");
    let started = seen
        .iter()
        .filter(|e| matches!(e, Event::Started { .. }))
        .count();
    assert!(started >= 2, "Watch told where the job was again: {seen:?}");
    assert_eq!(steps_of(root, "s")[0]["status"], "done");
    // Only one job ran: re-attaching did not submit it again.
    assert_eq!(steps_of(root, "s").len(), 1);
}
