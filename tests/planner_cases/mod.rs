//! Table-driven planner checks shared by the example suites: a TOML file of cases, each an
//! instruction with the ops, regions and targets its plan must have.

use serde::Deserialize;
use std::fmt::Write as _;
use zedit::plan::{plan, Plan};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    case: Vec<Case>,
}

/// One instruction and what its plan must be. `regions` uses "" for "no region"; `targets`
/// lists, per step, words of which the step's target must contain one (an empty list is not
/// checked). Both may be left out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    text: String,
    ops: Vec<String>,
    #[serde(default)]
    regions: Option<Vec<String>>,
    #[serde(default)]
    targets: Option<Vec<Vec<String>>>,
}

/// Runs every case in `path` and panics with one report listing every failing case.
#[allow(dead_code)]
pub fn run_file(path: &str) -> usize {
    let (n, failures) = check_file(path);
    assert!(
        failures.is_empty(),
        "{} of {n} planner cases in {path} failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    n
}

/// Runs every case in `path`: how many there are, and a report for each that fails.
pub fn check_file(path: &str) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read planner cases {path}: {e}"));
    let file: CaseFile =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{path} is not a valid case file: {e}"));
    assert!(!file.case.is_empty(), "{path} holds no [[case]]");
    let mut failures = Vec::new();
    for (i, case) in file.case.iter().enumerate() {
        match plan(&case.text) {
            Ok(plan) => {
                if let Some(diff) = check(case, &plan) {
                    failures.push(format!("case {} {:?}\n{diff}", i + 1, case.text));
                }
            }
            Err(e) => failures.push(format!("case {} {:?}: error {e}", i + 1, case.text)),
        }
    }
    (file.case.len(), failures)
}

fn check(case: &Case, plan: &Plan) -> Option<String> {
    let mut problems = Vec::new();
    let ops: Vec<String> = plan.steps.iter().map(|s| s.op.to_string()).collect();
    if ops != case.ops {
        problems.push(format!(
            "  ops:     want {:?}\n           got  {:?}",
            case.ops, ops
        ));
    }
    if let Some(want) = &case.regions {
        let got: Vec<String> = plan
            .steps
            .iter()
            .map(|s| s.region.map(|r| r.to_string()).unwrap_or_default())
            .collect();
        if &got != want {
            problems.push(format!("  regions: want {want:?}\n           got  {got:?}"));
        }
    }
    if let Some(want) = &case.targets {
        for (i, words) in want.iter().enumerate() {
            if words.is_empty() {
                continue;
            }
            let got = plan.steps.get(i).and_then(|s| s.target.clone());
            let hit = got.as_deref().is_some_and(|t| {
                let t = t.to_lowercase();
                words.iter().any(|w| t.contains(&w.to_lowercase()))
            });
            if !hit {
                problems.push(format!(
                    "  target of step {}: want one of {words:?}, got {got:?}",
                    i + 1
                ));
            }
        }
    }
    if problems.is_empty() {
        return None;
    }
    let mut report = problems.join("\n");
    for (i, step) in plan.steps.iter().enumerate() {
        let _ = write!(
            report,
            "\n    {}. {} {:?} target={:?} region={:?}",
            i + 1,
            step.op,
            step.instruction,
            step.target,
            step.region.map(|r| r.to_string())
        );
    }
    Some(report)
}
