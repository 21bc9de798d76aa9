//! Helpers shared by the integration tests: temp session roots, test images, the binary.
#![allow(dead_code)]

use assert_cmd::Command;
use image::{Rgb, RgbImage};
use std::path::{Path, PathBuf};

#[cfg(any(feature = "zimage", feature = "sam"))]
pub mod fixtures;
#[cfg(feature = "zimage")]
pub mod gguf;
#[cfg(feature = "zimage")]
pub mod golden;
#[cfg(feature = "zimage")]
pub mod lora;

/// The zedit binary with `--sessions root`, and no engine configured from the environment.
/// Edits go through a worker on a socket private to `root`, so tests never share a worker; a
/// worker whose socket is deleted (the temp root dropped) stops by itself.
pub fn zedit(root: &Path) -> Command {
    let mut cmd = Command::cargo_bin("zedit").expect("binary built");
    cmd.arg("--sessions")
        .arg(root)
        .env_remove("ZEDIT_ENGINE")
        .env_remove("ZEDIT_TEST_STEP_DELAY_MS")
        .env("ZEDIT_SOCKET", socket_of(root))
        .env("XDG_RUNTIME_DIR", runtime_dir_of(root))
        .env("ZEDIT_HOME", root);
    cmd
}

/// The worker socket used by `zedit(root)`.
pub fn socket_of(root: &Path) -> PathBuf {
    worker_guard::watch();
    root.join(".worker").join("worker.sock")
}

/// A runtime dir private to `root`, so nothing falls back to the user's own.
pub fn runtime_dir_of(root: &Path) -> PathBuf {
    worker_guard::watch();
    root.join(".run")
}

/// The end-of-binary check: no worker started by these tests outlives them.
pub mod worker_guard {
    use std::collections::HashSet;
    use std::sync::{Once, OnceLock};
    use std::time::{Duration, Instant};

    static ONCE: Once = Once::new();
    static BEFORE: OnceLock<HashSet<u32>> = OnceLock::new();

    /// Records the workers already running and checks, when the test binary exits, that it
    /// left none of its own behind (a leftover is killed and the binary fails).
    pub fn watch() {
        ONCE.call_once(|| {
            let _ = BEFORE.set(workers());
            // SAFETY: registers a plain function; it runs once, at exit.
            unsafe { libc::atexit(at_exit) };
        });
    }

    /// Live `zedit worker` processes of the binary under test (Linux: through /proc).
    pub fn workers() -> HashSet<u32> {
        let bin = std::fs::canonicalize(assert_cmd::cargo::cargo_bin("zedit")).unwrap_or_default();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return HashSet::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
                let exe = exe.to_string_lossy();
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                exe.trim_end_matches(" (deleted)") == bin.to_string_lossy()
                    && cmdline.split(|&b| b == 0).any(|a| a == b"worker")
            })
            .collect()
    }

    extern "C" fn at_exit() {
        let before = BEFORE.get().cloned().unwrap_or_default();
        // A worker whose socket went with its temp folder stops by itself within a second.
        let end = Instant::now() + Duration::from_secs(5);
        let left = loop {
            let left: Vec<u32> = workers().difference(&before).copied().collect();
            if left.is_empty() || Instant::now() > end {
                break left;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if !left.is_empty() {
            eprintln!("error: these tests left zedit workers running: {left:?}; killed them");
            for pid in left {
                // SAFETY: a worker of the binary under test that this test binary started.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
            // SAFETY: leaving at once from an exit handler, where exit itself may not be called.
            unsafe { libc::_exit(101) };
        }
    }
}

/// Stops the worker on its socket when dropped, so no daemon outlives its test.
pub struct WorkerGuard(pub PathBuf);

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        let _ = zedit::worker::daemon::stop(&self.0, std::time::Duration::from_secs(10));
    }
}

/// A small photo-like test image: gradients plus texture, so edits change real content.
pub fn test_image(w: u32, h: u32, seed: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let n = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729) ^ seed.wrapping_mul(31)) % 23;
        Rgb([
            (40 + x * 150 / w + n) as u8,
            (60 + y * 120 / h + n) as u8,
            (90 + (x + y) * 60 / (w + h) + n) as u8,
        ])
    })
}

pub fn write_image(dir: &Path, name: &str, img: &RgbImage) -> PathBuf {
    let p = dir.join(name);
    img.save(&p).expect("write test image");
    p
}

/// Creates a session named `name` from a fresh test image and returns its folder.
pub fn new_session(root: &Path, name: &str) -> PathBuf {
    let img = write_image(root, &format!("{name}-src.png"), &test_image(64, 48, 1));
    session_from(root, name, &img)
}

/// Creates a session named `name` from `image` with `zedit new` and returns its folder.
pub fn session_from(root: &Path, name: &str, image: &Path) -> PathBuf {
    zedit(root)
        .arg("new")
        .arg(image)
        .arg("--name")
        .arg(name)
        .assert()
        .success();
    root.join(name)
}

/// The file names in a session's `images/`, sorted.
pub fn images_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("images"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts a worker for `root` in the background; `delay_ms` slows each progress callback (the
/// test knob) so jobs can be cancelled or killed mid-run.
pub fn start_worker(root: &Path, delay_ms: u64) -> WorkerGuard {
    let guard = WorkerGuard(socket_of(root));
    zedit(root)
        .args(["worker", "start"])
        .env("ZEDIT_TEST_STEP_DELAY_MS", delay_ms.to_string())
        .assert()
        .success();
    guard
}

/// A small classic job: relight the session's source image.
pub fn relight_job(dir: &Path, seed: u64) -> zedit::worker::Job {
    zedit::worker::Job {
        session_dir: std::path::absolute(dir).expect("absolute path"),
        request: zedit::session::StepRequest {
            parent: None,
            op: zedit::core::Op::Relight,
            instruction: "warmer".into(),
            params: zedit::core::EditParams {
                seed,
                ..Default::default()
            },
            mask_spec: None,
            mask: None,
            overlay: None,
            recipe: None,
        },
        engine: "classic".into(),
        model: None,
        device: None,
        gguf_exec: None,
    }
}

/// Reads events until `id`'s last one.
pub fn wait_final(
    client: &mut zedit::worker::Client,
    id: zedit::worker::JobId,
) -> zedit::worker::Event {
    loop {
        let e = client
            .next_event_timeout(std::time::Duration::from_secs(20))
            .expect("worker answers")
            .expect("an event within 20 s");
        if e.job_id() == Some(id) && e.is_final() {
            return e;
        }
    }
}

/// The session's steps as `zedit log --json` shows them.
pub fn steps_of(root: &Path, session: &str) -> Vec<serde_json::Value> {
    let out = zedit(root)
        .args(["log", session, "--json"])
        .output()
        .expect("zedit log runs");
    assert!(out.status.success(), "log failed: {}", stderr_of(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("log is JSON");
    doc["steps"].as_array().cloned().unwrap_or_default()
}

/// Runs `zedit replay SESSION --verify` under `root` and asserts that it succeeds with every
/// output identical.
pub fn assert_replay_identical(root: &Path, session: &str) {
    let out = zedit(root)
        .args(["replay", session, "--verify"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("all outputs identical"));
}

/// Replays session `s` under `root` with `--verify` (its outputs must be identical), then on
/// two new images of 240x156 and 90x60 into `root/out`, which it returns.
pub fn replay_verified_then_on_two_images(root: &Path) -> PathBuf {
    assert_replay_identical(root, "s");
    let a = write_image(root, "a.png", &test_image(240, 156, 2));
    let b = write_image(root, "b.png", &test_image(90, 60, 3));
    let out_dir = root.join("out");
    let out = zedit(root)
        .args(["replay", "s", "--on"])
        .arg(&a)
        .arg(&b)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    out_dir
}

/// Polls `f` every 10 ms for up to 10 s.
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !f() {
        assert!(
            std::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// The shared tiny Z-Image set's usual place, beside the checkout.
const SHARED_TINY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/zimage-tiny"
);

/// The tiny Z-Image fixtures: `ZEDIT_FIXTURES` (unless empty), else
/// `../shared/fixtures/zimage-tiny`. Tests that hold for any set of the shared layout use it.
pub fn zimage_fixtures() -> PathBuf {
    std::env::var_os("ZEDIT_FIXTURES")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(SHARED_TINY))
}

/// The tiny set that the FlowEdit, LoRA, LyCORIS and GGUF references under tests/fixtures were
/// recorded from: tests/fixtures/zimage-tiny-b, in the repository, so that those tests hold
/// whatever set `ZEDIT_FIXTURES` or ../shared holds for the golden test.
#[cfg(feature = "zimage")]
pub fn recorded_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zimage-tiny-b")
}

/// Checks that the reference whose metadata is `meta` was recorded from the files that
/// [`recorded_fixtures`] holds: each sha256 of its `recorded_from` table against the set's
/// manifest, so that a set made again from another config names the references to record again.
#[cfg(feature = "zimage")]
pub fn assert_recorded_from_the_tiny_set(meta: &serde_json::Value, what: &str) {
    let manifest = recorded_fixtures().join("fixtures/manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let files = serde_json::from_str::<serde_json::Value>(&text).unwrap()["files"].clone();
    let used = meta["recorded_from"]
        .as_object()
        .unwrap_or_else(|| panic!("{what} names no `recorded_from` files"));
    assert!(!used.is_empty(), "{what}: an empty `recorded_from`");
    for (path, sha) in used {
        assert_eq!(
            files[path]["sha256"],
            *sha,
            "{what} was recorded from another {path} than {} lists: record it again (the \
             generators are listed in scripts/make_zimage_fixtures.py)",
            manifest.display()
        );
    }
}

/// A worker run as this test's own child (the test decides whether to reap it after a kill),
/// each step slowed to 5 s, with one relight job on the session "s" at `dir` seen running.
pub struct Running {
    pub worker: std::process::Child,
    pub client: zedit::worker::Client,
    pub job: zedit::worker::JobId,
}

pub fn running_job(socket: &Path, root: &Path, dir: &Path) -> Running {
    let worker = std::process::Command::new(assert_cmd::cargo::cargo_bin("zedit"))
        .args(["worker", "--socket"])
        .arg(socket)
        .env("ZEDIT_TEST_STEP_DELAY_MS", "5000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the worker starts");
    let mut client = None;
    eventually("the worker to answer", || {
        client = zedit::worker::Client::connect(socket).ok();
        client.is_some()
    });
    let mut client = client.expect("connected");
    let (job, _) = client.submit(relight_job(dir, 5)).expect("submitted");
    eventually("the step to be recorded", || {
        steps_of(root, "s")
            .first()
            .is_some_and(|s| s["status"] == "running")
    });
    Running {
        worker,
        client,
        job,
    }
}
