//! Smoke test of the real binary in tmux: the sessions list appears, a session opens, q quits
//! and the terminal is given back. Skipped (with a message) where tmux is missing.

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> Option<String> {
    let out = Command::new("tmux").args(args).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn wait_for(name: &str, what: &str, cond: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let screen = tmux(&["capture-pane", "-p", "-t", name]).unwrap_or_default();
        if cond(&screen) {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Kill(String);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

#[test]
fn the_binary_lists_opens_and_quits_in_tmux() {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("skipped: tmux is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("sessions");
    let img = common::write_image(tmp.path(), "harbour.png", &common::test_image(40, 30, 5));
    zedit::session::Session::create(&root, "harbour", &img).unwrap();
    let name = format!("zedit-smoke-{}", std::process::id());
    // A tmux server keeps the environment it started with, so the private socket and runtime
    // dir go on the command line; the guard stops any worker the studio started there.
    let socket = common::socket_of(tmp.path());
    let _worker = common::WorkerGuard(socket.clone());
    let _kill = Kill(name.clone());
    let cmd = format!(
        "env -u ZEDIT_ENGINE ZEDIT_HOME='{}' ZEDIT_SOCKET='{}' XDG_RUNTIME_DIR='{}' '{}' \
         --sessions '{}'; echo EXITED=$?; sleep 30",
        tmp.path().display(),
        socket.display(),
        common::runtime_dir_of(tmp.path()).display(),
        env!("CARGO_BIN_EXE_zedit"),
        root.display()
    );
    let started = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &name,
            "-x",
            "100",
            "-y",
            "30",
            &cmd,
        ])
        .status()
        .expect("tmux runs");
    assert!(started.success());

    wait_for(&name, "the sessions list", |s| {
        s.contains("Sessions (1)") && s.contains("harbour")
    });
    tmux(&["send-keys", "-t", &name, "Enter"]);
    let screen = wait_for(&name, "the session", |s| {
        s.contains("session harbour") && s.contains("Steps (0)")
    });
    assert!(screen.contains("source harbour.png"), "{screen}");
    tmux(&["send-keys", "-t", &name, "?"]);
    wait_for(&name, "the help", |s| s.contains("Help: j/k scroll"));
    tmux(&["send-keys", "-t", &name, "Escape"]);
    wait_for(&name, "help closed", |s| !s.contains("Help: j/k scroll"));
    tmux(&["send-keys", "-t", &name, "q"]);
    let screen = wait_for(&name, "the exit", |s| s.contains("EXITED="));
    assert!(screen.contains("EXITED=0"), "{screen}");
    // Back on the main screen with the cursor shown and cooked mode: the studio's frame is gone.
    assert!(
        !screen.contains("Steps (0)"),
        "alternate screen left: {screen}"
    );
    let cursor = tmux(&[
        "display-message",
        "-p",
        "-t",
        &name,
        "#{cursor_flag} #{alternate_on}",
    ])
    .unwrap_or_default();
    assert_eq!(cursor.trim(), "1 0", "cursor visible, alternate screen off");
}
