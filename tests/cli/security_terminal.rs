//! Strings from users and files never reach the terminal raw: escape sequences in instructions,
//! source file names, session folder names and paths in errors are printed escaped.

use crate::common;

use common::*;

/// Fails when `text` holds a raw control character other than the line breaks between lines.
fn assert_clean(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| c.is_control() && c != '\n')
        .collect();
    assert!(bad.is_empty(), "{what} printed raw {bad:?}: {text:?}");
}

const EVIL: &str = "\x1b]0;owned\x07\x1b[2J\rforged";

#[test]
fn log_plan_and_sessions_print_control_characters_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let src = write_image(root, &format!("pic{EVIL}.png"), &test_image(32, 24, 2));
    zedit(root)
        .arg("new")
        .arg(&src)
        .args(["--name", "s"])
        .assert()
        .success();
    let out = zedit(root)
        .args(["edit", "s", &format!("warm {EVIL}"), "--op", "relight"])
        .args(["--local", "--seed", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let log = zedit(root).args(["log", "s"]).output().unwrap();
    let text = stdout_of(&log);
    assert_clean("zedit log", &text);
    assert!(text.contains("\\x1b]0;owned\\x07"), "{text}");

    let plan = zedit(root)
        .args(["plan", &format!("brighter {EVIL}")])
        .output()
        .unwrap();
    assert_clean("zedit plan", &stdout_of(&plan));

    // A session folder whose name holds escapes (unpacked from an archive, say).
    let odd = root.join(format!("odd{EVIL}"));
    std::fs::create_dir_all(odd.join("images")).unwrap();
    std::fs::write(odd.join("session.toml"), "format = 1\nname = 'x\x1b'\n").unwrap();
    let list = zedit(root).arg("sessions").output().unwrap();
    assert_clean("zedit sessions", &stdout_of(&list));
    assert!(
        stdout_of(&list).contains("odd\\x1b"),
        "{}",
        stdout_of(&list)
    );
}

#[test]
fn error_lines_print_paths_and_values_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let missing = root.join(format!("nowhere{EVIL}"));
    let out = zedit(root)
        .arg("log")
        .arg(format!("{}/", missing.display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_clean("the error line", &stderr_of(&out));
    assert!(
        stderr_of(&out).contains("nowhere\\x1b"),
        "{}",
        stderr_of(&out)
    );
    let out = zedit(root)
        .arg("new")
        .arg(root.join(format!("no{EVIL}.png")))
        .output()
        .unwrap();
    assert_clean("the error line of new", &stderr_of(&out));
}
