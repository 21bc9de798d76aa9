//! The studio driven by keys: config, snapshots, tmux, worker and segment panes, one test binary.
//!
//! Each module was its own test binary; one binary links once and runs its tests side by side.

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
