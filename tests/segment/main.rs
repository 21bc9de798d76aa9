//! Segment Anything and grounding: parity with the references and the command line, one test binary.
//!
//! Each module was its own test binary; one binary links once and runs its tests side by side.

#[path = "../common/mod.rs"]
mod common;

mod grounding_cli;
mod grounding_parity;
mod sam_cli;
mod sam_parity;
