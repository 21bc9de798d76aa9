//! The planner against the shared public examples (`planner_examples.toml` in the shared
//! folder next to the repository, or in `$ZEDIT_SHARED`).

use crate::planner_cases;

#[test]
fn every_shared_example_plans_as_expected() {
    let path = match std::env::var("ZEDIT_SHARED") {
        Ok(dir) => format!("{dir}/planner_examples.toml"),
        Err(_) => concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/planner_examples.toml"
        )
        .into(),
    };
    let n = planner_cases::run_file(&path);
    assert!(n >= 30, "expected at least 30 shared examples, found {n}");
}
