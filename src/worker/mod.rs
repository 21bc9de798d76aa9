//! Runs steps on an engine and records them in their session: in-process now, and from the
//! persistent worker daemon.

mod execute;

pub use execute::{build_request, execute_step, ExecuteError};
