//! The persistent worker: lifecycle, crashes, reattach, engines and segmenting.
//!
//! Its modules share this one binary (one link, their tests side by side). A test that changes the
//! environment or measures the process belongs in a file of its own instead (see the README).

#[path = "../common/mod.rs"]
mod common;

mod worker_crash;
mod worker_engine;
mod worker_gguf_exec;
mod worker_lifecycle;
mod worker_reattach;
mod worker_segment;
mod worker_zombie;
