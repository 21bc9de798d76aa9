//! A crafted session folder cannot make zedit write outside it: `.lock`, temp files and
//! `images/` planted as symlinks are refused (naming the path) and their targets stay intact;
//! stale temp files of dead processes are swept on the next write and by `sessions --gc`.

use crate::common;

use common::*;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

/// A file outside every session, with contents that must survive.
fn victim(root: &Path) -> std::path::PathBuf {
    let outside = root.join("outside");
    fs::create_dir_all(&outside).unwrap();
    let p = outside.join("precious.txt");
    fs::write(&p, "do not touch").unwrap();
    p
}

fn relight_local(root: &Path, seed: &str) -> std::process::Output {
    zedit(root)
        .args([
            "edit", "s", "warm", "--op", "relight", "--local", "--seed", seed,
        ])
        .output()
        .unwrap()
}

#[test]
fn a_lock_file_planted_as_a_symlink_is_refused_and_its_target_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = new_session(root, "s");
    let precious = victim(root);
    let _ = fs::remove_file(dir.join(".lock"));
    symlink(&precious, dir.join(".lock")).unwrap();
    let out = relight_local(root, "1");
    assert!(!out.status.success(), "the edit must be refused");
    let err = stderr_of(&out);
    assert!(err.contains(".lock"), "names the lock: {err}");
    assert_eq!(fs::read_to_string(&precious).unwrap(), "do not touch");
    let out = zedit(root).args(["undo", "s"]).output().unwrap();
    assert!(!out.status.success());
    assert_eq!(fs::read_to_string(&precious).unwrap(), "do not touch");
}

#[test]
fn temp_files_planted_as_symlinks_are_never_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = new_session(root, "s");
    let precious = victim(root);
    // Whatever the temp name, it starts with the target's name and holds this process's pid.
    let pid = std::process::id();
    for name in [
        format!(".session.toml.tmp.{pid}"),
        format!(".session.toml.tmp.{pid}.0"),
        format!(".session.toml.tmp.{pid}.1"),
        format!(".session.toml.tmp.{pid}.2"),
    ] {
        symlink(&precious, dir.join(name)).unwrap();
    }
    zedit::session::Session::checkout(&dir, None).unwrap();
    zedit::session::Session::checkout(&dir, None).unwrap();
    assert_eq!(fs::read_to_string(&precious).unwrap(), "do not touch");
    assert!(zedit::session::Session::load(&dir).is_ok());
}

#[test]
fn an_images_folder_that_is_a_symlink_is_refused_for_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = new_session(root, "s");
    let outside = root.join("elsewhere");
    fs::create_dir_all(&outside).unwrap();
    // Keep the source readable through the link, as a copied-around session would be.
    for e in fs::read_dir(dir.join("images")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), outside.join(e.file_name())).unwrap();
    }
    fs::remove_dir_all(dir.join("images")).unwrap();
    symlink(&outside, dir.join("images")).unwrap();
    let before = fs::read_dir(&outside).unwrap().count();
    let out = relight_local(root, "2");
    assert!(!out.status.success(), "the edit must be refused");
    assert!(stderr_of(&out).contains("images"), "{}", stderr_of(&out));
    assert_eq!(
        fs::read_dir(&outside).unwrap().count(),
        before,
        "nothing written outside the session"
    );
}

fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn stale_temp_files_of_dead_processes_are_swept_on_the_next_write_and_by_gc() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = new_session(root, "s");
    let dead = dead_pid();
    let stale = [
        dir.join(format!("images/.{}.png.tmp.{dead}", "ab".repeat(32))),
        dir.join(format!(".session.toml.tmp.{dead}")),
    ];
    let live = dir.join(format!("images/.x.png.tmp.{}", std::process::id()));
    for p in stale.iter().chain([&live]) {
        fs::write(p, vec![7u8; 4096]).unwrap();
    }
    let out = relight_local(root, "3");
    assert!(out.status.success(), "{}", stderr_of(&out));
    for p in &stale {
        assert!(!p.exists(), "{} swept by the next write", p.display());
    }
    assert!(live.exists(), "a live process's temp file is left alone");

    fs::write(&stale[0], b"again").unwrap();
    fs::write(root.join(format!(".t.new.{dead}")), b"").unwrap();
    let out = zedit(root).args(["sessions", "--gc"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!stale[0].exists(), "swept by sessions --gc");
    assert!(stdout_of(&out).contains("removed"), "{}", stdout_of(&out));
    assert!(
        !root.join(format!(".t.new.{dead}")).exists(),
        "a dead creation's staging"
    );
    assert!(live.exists());
}

#[test]
fn a_finished_step_waits_out_another_writers_long_transaction() {
    use zedit::session::{Session, SessionLock, StepOutcome};
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = new_session(root, "s");
    let req = relight_job(&dir, 1).request;
    let engine = zedit::core::EngineId {
        name: "classic".into(),
        version: "test".into(),
        model_digest: None,
        gguf_exec: None,
    };
    let begun = Session::begin_step(&dir, &req, &engine, std::process::id()).unwrap();
    // Another writer holds the session longer than any fixed short wait.
    let lock = SessionLock::acquire(&dir, "s", std::time::Duration::from_secs(1)).unwrap();
    let holder = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(4));
        drop(lock);
    });
    let image = image::DynamicImage::ImageRgb8(test_image(64, 48, 3));
    let step = Session::finish_step(&dir, begun, StepOutcome::Done { image, took_ms: 1 }, None);
    holder.join().unwrap();
    let step = step.expect("the finished work is recorded, not thrown away");
    assert_eq!(step.status, zedit::core::Status::Done);
}
