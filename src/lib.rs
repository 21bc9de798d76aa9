//! zedit: a keyboard-driven terminal studio for instruction-based image editing.

pub mod cli;
pub mod core;
pub mod engine;
pub mod hub;
pub mod mask;
pub mod plan;
pub mod preview;
pub mod printable;
pub mod recipe;
pub mod resample;
pub mod segment;
pub mod session;
pub mod threads;
pub mod tui;
pub mod worker;
