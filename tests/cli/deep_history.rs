//! A very long history: 100,000 chained steps load and print without a stack overflow, and the
//! tree printed by `zedit log` stays linear in size (indentation is capped).

use crate::common;

use common::*;

/// Rewrites the session's one step into a chain of `n` steps, each the child of the last.
fn make_chain(dir: &std::path::Path, n: u32) {
    let path = dir.join("session.toml");
    let mut doc: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let one = doc["steps"].as_array().unwrap()[0].clone();
    let steps: Vec<toml::Value> = (1..=n)
        .map(|i| {
            let mut s = one.as_table().unwrap().clone();
            s.insert("id".into(), toml::Value::Integer(i.into()));
            if i > 1 {
                s.insert("parent".into(), toml::Value::Integer((i - 1).into()));
            }
            toml::Value::Table(s)
        })
        .collect();
    doc.insert("steps".into(), toml::Value::Array(steps));
    doc.insert("head".into(), toml::Value::Integer(n.into()));
    std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
}

#[test]
fn a_hundred_thousand_chained_steps_load_and_log_in_linear_size() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = new_session(root, "s");
    zedit(root)
        .args([
            "edit", "s", "warm", "--op", "relight", "--local", "--seed", "1",
        ])
        .assert()
        .success();
    let n = 100_000;
    make_chain(&dir, n);
    let out = zedit(root).args(["log", "s"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), n as usize + 2, "a line a step");
    let widest = lines.iter().map(|l| l.len()).max().unwrap_or(0);
    assert!(widest < 200, "a line of {widest} bytes");
    assert!(lines.last().unwrap().contains(&format!("#{n}")));
    // The chain reads back too (replay and export walk it).
    let session = zedit::session::Session::load(&dir).unwrap();
    assert_eq!(session.doc.chain_to(session.doc.head).len(), n as usize);
}
