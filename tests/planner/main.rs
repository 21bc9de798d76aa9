//! The planner against its example, family and adversarial suites.
//!
//! Its modules share this one binary (one link, their tests side by side). A test that changes the
//! environment or measures the process belongs in a file of its own instead (see the README).

#[path = "../planner_cases/mod.rs"]
mod planner_cases;

mod planner_adversarial;
mod planner_examples;
mod planner_families;
mod planner_more;
