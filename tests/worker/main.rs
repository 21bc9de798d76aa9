//! The persistent worker: lifecycle, crashes, reattach, engines and segmenting, one test binary.
//!
//! Each module was its own test binary; one binary links once and runs its tests side by side.

#[path = "../common/mod.rs"]
mod common;

mod worker_crash;
mod worker_engine;
mod worker_gguf_exec;
mod worker_lifecycle;
mod worker_reattach;
mod worker_segment;
mod worker_zombie;
