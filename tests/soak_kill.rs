//! Soak: `kill -9` at random moments of concurrent `zedit edit`s (local and through the worker)
//! and of the worker itself, all on one session. Afterwards the session loads, `replay --verify`
//! passes, no step is done without its output, none is left running, the next write leaves no
//! temp file, and no file outside the session changed.
//!
//! Bounded in count and time: `ZEDIT_SOAK_KILLS` kills (default 200), at most
//! `ZEDIT_SOAK_SECS` seconds (default 90).

mod common;

use common::*;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// blake3 of every file under `dir`, skipping the folders in `skip`.
fn snapshot(dir: &Path, skip: &[PathBuf], out: &mut BTreeMap<PathBuf, String>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if skip.contains(&p) {
            continue;
        }
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            snapshot(&p, skip, out);
        } else {
            let bytes = std::fs::read(&p).unwrap_or_default();
            out.insert(p, blake3::hash(&bytes).to_hex().to_string());
        }
    }
}

fn files_named(dir: &Path, pattern: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_named(&p, pattern, out);
        } else if e.file_name().to_string_lossy().contains(pattern) {
            out.push(p);
        }
    }
}

fn edit(root: &Path, seed: u64, local: bool) -> Child {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("zedit"));
    cmd.arg("--sessions")
        .arg(root)
        .args(["edit", "s", "warmer", "--op", "relight", "--seed"])
        .arg(seed.to_string())
        .env_remove("ZEDIT_ENGINE")
        .env("ZEDIT_SOCKET", socket_of(root))
        .env("XDG_RUNTIME_DIR", runtime_dir_of(root))
        .env("ZEDIT_TEST_STEP_DELAY_MS", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if local {
        cmd.arg("--local");
    }
    cmd.spawn().expect("zedit edit starts")
}

/// The pid of the worker serving `socket`, when one holds it.
fn worker_pid(socket: &Path) -> Option<u32> {
    if !zedit::worker::worker_alive(socket) {
        return None;
    }
    let text = std::fs::read_to_string(zedit::worker::paths::pid_path(socket)).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    worker_guard::workers().contains(&pid).then_some(pid)
}

fn kill9(pid: u32) {
    // SAFETY: a process of the binary under test that this test started.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
}

#[test]
fn kill_nine_at_random_moments_loses_nothing() {
    let kills = env_or("ZEDIT_SOAK_KILLS", 200);
    let budget = Duration::from_secs(env_or("ZEDIT_SOAK_SECS", 90));
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let socket = socket_of(root);
    let _guard = WorkerGuard(socket.clone());
    let dir = new_session(root, "s");
    let outside = root.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("notes.txt"), "keep").unwrap();
    write_image(&outside, "photo.png", &test_image(16, 16, 9));
    let skip = [dir.clone(), socket.parent().unwrap().to_path_buf()];
    let mut before = BTreeMap::new();
    snapshot(root, &skip, &mut before);

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(env_or("ZEDIT_SOAK_SEED", 7));
    let begun = Instant::now();
    let (mut killed, mut workers_killed, mut finished) = (0u64, 0u64, 0u64);
    let mut running: Vec<Child> = Vec::new();
    let mut seed = 0u64;
    while killed < kills && begun.elapsed() < budget {
        running.retain_mut(|c| match c.try_wait() {
            Ok(Some(_)) => {
                finished += 1;
                false
            }
            _ => true,
        });
        while running.len() < 3 {
            seed += 1;
            running.push(edit(root, seed, rng.random_bool(0.4)));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(0..120)));
        if rng.random_bool(0.25) {
            if let Some(pid) = worker_pid(&socket) {
                kill9(pid);
                workers_killed += 1;
                killed += 1;
            }
        } else {
            let i = rng.random_range(0..running.len());
            let mut c = running.swap_remove(i);
            if c.try_wait().ok().flatten().is_none() {
                killed += 1;
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    for mut c in running {
        let _ = c.kill();
        let _ = c.wait();
    }
    // A killed edit may have started a worker that comes up only now: kill until none shows
    // up for a while.
    let mut quiet = 0;
    let end = Instant::now() + Duration::from_secs(20);
    while quiet < 5 && Instant::now() < end {
        match worker_pid(&socket) {
            Some(pid) => {
                kill9(pid);
                quiet = 0;
            }
            None => quiet += 1,
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(worker_pid(&socket).is_none(), "a worker keeps coming back");
    println!(
        "soak: {killed} kills ({workers_killed} of the worker), {finished} edits finished, {:.1} s",
        begun.elapsed().as_secs_f64()
    );
    assert!(
        killed >= kills.min(20),
        "only {killed} kills in the time allowed"
    );

    // The next write sweeps what the killed processes left.
    let out = zedit(root)
        .args([
            "edit", "s", "cooler", "--op", "relight", "--local", "--seed", "1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let session = zedit::session::Session::load(&dir).expect("the session loads");
    for s in &session.doc.steps {
        assert_ne!(
            s.status,
            zedit::core::Status::Running,
            "step {} running",
            s.id
        );
        if s.status == zedit::core::Status::Done {
            let out = s.output.as_ref().expect("a done step has its output");
            assert!(session.image_intact(out).unwrap(), "step {} output", s.id);
        }
    }
    let mut temps = Vec::new();
    files_named(&dir, ".tmp.", &mut temps);
    assert!(temps.is_empty(), "temp files left: {temps:?}");
    let out = zedit(root)
        .args(["replay", "s", "--verify"])
        .output()
        .unwrap();
    assert!(out.status.success(), "replay --verify: {}", stderr_of(&out));
    let mut after = BTreeMap::new();
    snapshot(root, &skip, &mut after);
    assert_eq!(before, after, "files outside the session changed");
}
