//! The planner on more instructions of every kind, in both languages
//! (`tests/data/planner_more.toml`, same format as the shared examples).

use crate::planner_cases;

#[test]
fn every_extra_case_plans_as_expected() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/planner_more.toml");
    let n = planner_cases::run_file(path);
    assert!(n >= 40, "expected at least 40 extra cases, found {n}");
}
