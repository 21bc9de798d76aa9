//! The studio driven by keys: config, snapshots, tmux, worker and segment panes.
//!
//! Its modules share this one binary (one link, their tests side by side). A test that changes the
//! environment or measures the process belongs in a file of its own instead (see the README).

#[path = "../common/mod.rs"]
mod common;
#[path = "../tui_support/mod.rs"]
mod tui_support;

mod tui_config;
mod tui_keys;
mod tui_nonblocking;
mod tui_segment;
mod tui_snapshots;
mod tui_tmux;
mod tui_worker;
