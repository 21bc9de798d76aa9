//! Runs steps on an engine and records them in their session: one job runner (queue, engine
//! thread, engine cache) that runs in-process or behind the persistent worker daemon's socket,
//! and the client that talks to it.

mod client;
mod conn;
pub mod daemon;
mod engines;
mod error;
mod execute;
mod follow;
mod local;
pub mod paths;
pub mod proto;
mod queue;
mod runner;
mod segment;
mod server;

pub use client::{Client, ClientOptions, Probe, WorkerInfo};
pub use engines::{default_factory, EngineCache, EngineFactory};
pub use error::WorkerError;
pub use execute::{build_request, execute_step, execute_step_observed, ExecuteError};
pub use follow::Follow;
pub use local::{Events, LocalRunner};
pub use proto::{Event, Job, JobId, JobState, JobStatus, Request, SegmentCandidate, PROTOCOL};
pub use segment::answer as answer_segment;
pub use server::{stop_on_signals, worker_alive, Server, ServerOptions};

/// Test knob read by `zedit worker`: milliseconds to pause before each progress callback, so
/// tests can make classic jobs slow enough to cancel or to kill mid-job. Not for production.
pub const STEP_DELAY_ENV: &str = "ZEDIT_TEST_STEP_DELAY_MS";
