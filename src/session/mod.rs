//! The session folder: `session.toml` (the history saved for replay) plus content-addressed
//! images, written atomically under an advisory lock.

mod atomic;
mod chunked;
mod doc;
mod error;
mod export;
mod image_file;
mod lock;
mod record;
pub mod replay;
mod root;
pub mod running;
mod store;
mod sweep;

pub use atomic::write_atomic;
pub use doc::{SessionDoc, FORMAT};
pub use error::SessionError;
pub use export::export_png;
pub use image_file::{decode_image, is_grey, read_image, read_upright, MAX_FILE_BYTES, MAX_PIXELS};
pub use lock::{stamp_pid, SessionLock};
pub use record::{StepOutcome, StepRequest};
pub use root::{default_root, list_sessions, resolve, validate_name, SessionSummary};
pub use store::Session;
pub use sweep::{sweep_root, Swept};
