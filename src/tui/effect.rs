//! Effects: the I/O that `update` asks for. The runtime performs them (the slow ones on a
//! background thread) and feeds the results back as actions, so `update` stays pure and testable.

use super::backend::JobId;
use crate::core::StepId;
use crate::session::StepRequest;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    ListSessions,
    /// Load (or reload) a session and its head image's size.
    OpenSession(PathBuf),
    /// Create a session from an image file; the name comes from the file's name.
    CreateSession(PathBuf),
    RenameSession {
        dir: PathBuf,
        to: String,
    },
    DeleteSession(PathBuf),
    /// Complete a path typed in a prompt.
    Complete(String),
    Submit {
        dir: PathBuf,
        req: Box<StepRequest>,
    },
    Cancel(JobId),
    Checkout {
        dir: PathBuf,
        step: Option<StepId>,
    },
    Undo(PathBuf),
    /// Copy a mask image into the session's store (off the UI thread).
    LoadMask {
        dir: PathBuf,
        path: PathBuf,
    },
    /// Segment clicks or a box (`mask`) on a stored image of the session, in the worker when
    /// one serves (it keeps the image's embedding), else here; answered by `Segmented`.
    Segment {
        dir: PathBuf,
        image: crate::core::ImageRef,
        mask: Box<crate::core::MaskSpec>,
        model: Option<String>,
        seq: u64,
    },
    /// List the LoRA files (`*.safetensors`) of this folder.
    ListLoras(PathBuf),
    /// Clear the terminal and forget preview encodings.
    ResetPreview,
}
