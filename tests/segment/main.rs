//! Segment Anything and grounding: parity with the references, and the command line.
//!
//! Its modules share this one binary (one link, their tests side by side). A test that changes the
//! environment or measures the process belongs in a file of its own instead (see the README).

#[path = "../common/mod.rs"]
mod common;

mod grounding_cli;
mod grounding_parity;
mod sam_cli;
mod sam_parity;
