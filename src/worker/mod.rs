//! Runs steps on an engine and records them in their session: in-process, and through the
//! persistent worker daemon that keeps engines loaded and serves every client over a socket.

mod client;
mod conn;
pub mod daemon;
mod error;
mod execute;
pub mod paths;
pub mod proto;
mod queue;
mod runner;
mod server;

pub use client::{Client, ClientOptions, Probe, WorkerInfo};
pub use error::WorkerError;
pub use execute::{build_request, execute_step, execute_step_observed, ExecuteError};
pub use proto::{Event, Job, JobId, JobState, JobStatus, Request, PROTOCOL};
pub use runner::{default_factory, EngineFactory};
pub use server::{stop_on_signals, worker_alive, Server, ServerOptions};

/// Test knob read by `zedit worker`: milliseconds to pause before each progress callback, so
/// tests can make classic jobs slow enough to cancel or to kill mid-job. Not for production.
pub const STEP_DELAY_ENV: &str = "ZEDIT_TEST_STEP_DELAY_MS";
