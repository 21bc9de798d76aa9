//! Where jobs run: the `JobBackend` trait the studio talks to, and `LocalBackend`, the job
//! runner inside this process (the worker's own queue and engine thread). Events come back
//! through a sink; nothing here blocks the caller.

use super::follower;
use crate::core::{ErrorKind, Step, StepId};
use crate::session::StepRequest;
use crate::worker::{default_factory, Job, LocalRunner};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A submitted job, unique per backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "job {}", self.0)
    }
}

/// What a backend reports about a job, or about itself.
#[derive(Debug, Clone)]
pub enum JobEvent {
    /// Queued; `position` 0 means it runs next.
    Accepted {
        job: JobId,
        position: usize,
    },
    /// The job's step is recorded in the session as running.
    Started {
        job: JobId,
        step: StepId,
    },
    /// Engine step `step` of `total` finished.
    Progress {
        job: JobId,
        step: u32,
        total: u32,
    },
    /// The step is recorded; its status says whether it is done, failed or cancelled.
    Done {
        job: JobId,
        step: Box<Step>,
    },
    /// The job ended before its step was recorded.
    Failed {
        job: JobId,
        kind: ErrorKind,
        message: String,
    },
    Cancelled {
        job: JobId,
    },
    /// The runner's state for the status line changed ("starting worker…", "worker pid 12",
    /// "local"), with an optional message for the user.
    Runner {
        state: String,
        note: Option<Note>,
    },
}

/// A message from a backend for the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub error: bool,
}

impl JobEvent {
    /// The job this event is about; `None` for the runner's own news.
    pub fn job(&self) -> Option<JobId> {
        match self {
            JobEvent::Accepted { job, .. }
            | JobEvent::Started { job, .. }
            | JobEvent::Progress { job, .. }
            | JobEvent::Done { job, .. }
            | JobEvent::Failed { job, .. }
            | JobEvent::Cancelled { job } => Some(*job),
            JobEvent::Runner { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("the job runner is gone: {0}; restart zedit")]
    Gone(String),
}

/// Receives job events; called from the backend's own threads.
pub type JobSink = Arc<dyn Fn(JobEvent) + Send + Sync>;

/// The studio's view of a job runner: in-process or the worker daemon. Every call returns at
/// once; results arrive through the sink.
pub trait JobBackend: Send {
    fn submit(
        &mut self,
        session_dir: PathBuf,
        req: StepRequest,
        engine: String,
    ) -> Result<JobId, BackendError>;
    fn cancel(&mut self, job: JobId);
    /// One word or two for the status line: "local", "worker pid 123".
    fn state(&self) -> String;
    /// The worker's socket, where segmentation is asked for (it keeps images' embeddings).
    fn worker_socket(&self) -> Option<PathBuf> {
        None
    }
}

/// Runner job ids of the jobs still running, by studio job id.
pub(crate) type Live = Arc<Mutex<HashMap<JobId, crate::worker::JobId>>>;

/// Runs jobs first in, first out on the in-process runner.
pub struct LocalBackend {
    runner: Result<Arc<LocalRunner>, String>,
    sink: JobSink,
    next: u64,
    live: Live,
}

impl LocalBackend {
    /// Starts the in-process runner; engines load on the runner's thread at first use.
    pub fn new(sink: JobSink) -> LocalBackend {
        let runner = LocalRunner::start(default_factory(), Default::default(), None)
            .map(Arc::new)
            .map_err(|e| e.to_string());
        LocalBackend::on(runner, sink)
    }

    /// A backend on a runner that is already running (shared with another backend).
    fn on(runner: Result<Arc<LocalRunner>, String>, sink: JobSink) -> LocalBackend {
        LocalBackend {
            runner,
            sink,
            next: 0,
            live: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

impl LocalBackend {
    /// Submits as studio job `id` (a backend that falls back here chose the id).
    pub(crate) fn submit_as(
        &mut self,
        id: JobId,
        session_dir: PathBuf,
        req: StepRequest,
        engine: String,
    ) -> Result<(), BackendError> {
        let dir = std::path::absolute(&session_dir).unwrap_or(session_dir);
        let job = Job {
            session_dir: dir.clone(),
            request: req,
            engine,
            model: None,
            device: None,
            gguf_exec: None,
        };
        let runner = self
            .runner
            .as_ref()
            .map_err(|e| BackendError::Gone(e.clone()))?;
        let (rid, position, events) = runner
            .submit(job)
            .map_err(|e| BackendError::Gone(e.to_string()))?;
        (self.sink)(JobEvent::Accepted { job: id, position });
        follower::follow_local(id, rid, dir, events, self.sink.clone(), self.live.clone());
        Ok(())
    }
}

impl JobBackend for LocalBackend {
    fn submit(
        &mut self,
        session_dir: PathBuf,
        req: StepRequest,
        engine: String,
    ) -> Result<JobId, BackendError> {
        self.next += 1;
        let id = JobId(self.next);
        self.submit_as(id, session_dir, req, engine)?;
        Ok(id)
    }

    fn cancel(&mut self, job: JobId) {
        let rid = self.live.lock().ok().and_then(|l| l.get(&job).copied());
        if let (Some(rid), Ok(runner)) = (rid, &self.runner) {
            runner.cancel(rid);
        }
    }

    fn state(&self) -> String {
        "local".into()
    }
}
