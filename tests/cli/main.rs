//! Integration tests of the command line, the classic engine, previews, recipes and security.
//!
//! Its modules share this one binary (one link, their tests side by side). A test that changes the
//! environment or measures the process belongs in a file of its own instead (see the README).

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
