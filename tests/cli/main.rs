//! The command line, the classic engine, previews, recipes and the security checks, one test binary.
//!
//! Each module was its own test binary; one binary links once and runs its tests side by side.

#[path = "../common/mod.rs"]
mod common;

mod classic_delete;
mod classic_ops;
mod cli_bad_input;
mod cli_spine;
mod deep_history;
mod job_path;
mod parsers_fuzz;
mod preview_render;
mod recipe_table;
mod security_images;
mod security_session;
mod security_socket;
mod security_terminal;
mod security_worker;
