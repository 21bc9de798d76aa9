//! The planner against its example, family and adversarial suites, one test binary.
//!
//! Each module was its own test binary; one binary links once and runs its tests side by side.

#[path = "../planner_cases/mod.rs"]
mod planner_cases;

mod planner_adversarial;
mod planner_examples;
mod planner_families;
mod planner_more;
