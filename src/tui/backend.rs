//! Where jobs run: the `JobBackend` trait the studio talks to, and `LocalBackend`, which runs
//! them in order on a background thread of this process. Events come back through a sink.

use crate::core::Step;
use crate::engine::{self, EngineOptions, Flow};
use crate::session::StepRequest;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;

/// A submitted job, unique per backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "job {}", self.0)
    }
}

/// What a backend reports about a job.
#[derive(Debug, Clone)]
pub enum JobEvent {
    /// Queued; `position` 0 means it runs next.
    Accepted {
        job: JobId,
        position: usize,
    },
    /// Engine step `step` of `total` finished (step 0: the job started and its step is recorded).
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
    Failed {
        job: JobId,
        kind: String,
        message: String,
    },
    Cancelled {
        job: JobId,
    },
}

impl JobEvent {
    pub fn job(&self) -> JobId {
        match self {
            JobEvent::Accepted { job, .. }
            | JobEvent::Progress { job, .. }
            | JobEvent::Done { job, .. }
            | JobEvent::Failed { job, .. }
            | JobEvent::Cancelled { job } => *job,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("the job runner is gone: {0}; restart zedit")]
    Gone(String),
}

/// Receives job events; called from the backend's own thread.
pub type JobSink = Arc<dyn Fn(JobEvent) + Send + Sync>;

/// The studio's view of a job runner: in-process or the worker daemon.
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
}

struct Job {
    id: JobId,
    dir: PathBuf,
    req: StepRequest,
    engine: String,
}

/// Runs jobs first in, first out on one thread, with the engine opened in-process.
pub struct LocalBackend {
    tx: Sender<Job>,
    sink: JobSink,
    next: u64,
    queued: Arc<Mutex<usize>>,
    cancelled: Arc<Mutex<HashSet<JobId>>>,
}

impl LocalBackend {
    pub fn new(sink: JobSink) -> LocalBackend {
        let (tx, rx) = mpsc::channel();
        let queued = Arc::new(Mutex::new(0));
        let cancelled = Arc::new(Mutex::new(HashSet::new()));
        let (q, c, s) = (queued.clone(), cancelled.clone(), sink.clone());
        thread::Builder::new()
            .name("zedit-jobs".into())
            .spawn(move || run_jobs(rx, s, q, c))
            .ok();
        LocalBackend {
            tx,
            sink,
            next: 0,
            queued,
            cancelled,
        }
    }
}

fn is_cancelled(set: &Mutex<HashSet<JobId>>, id: JobId) -> bool {
    set.lock().map(|s| s.contains(&id)).unwrap_or(false)
}

fn run_jobs(
    rx: Receiver<Job>,
    sink: JobSink,
    queued: Arc<Mutex<usize>>,
    cancelled: Arc<Mutex<HashSet<JobId>>>,
) {
    let mut engines: Vec<(String, Box<dyn engine::Engine>)> = Vec::new();
    for job in rx {
        if let Ok(mut q) = queued.lock() {
            *q = q.saturating_sub(1);
        }
        if is_cancelled(&cancelled, job.id) {
            sink(JobEvent::Cancelled { job: job.id });
            continue;
        }
        let idx = match engines.iter().position(|(n, _)| *n == job.engine) {
            Some(i) => i,
            None => {
                let opts = EngineOptions {
                    name: job.engine.clone(),
                    ..Default::default()
                };
                match engine::open(&opts) {
                    Ok(e) => {
                        engines.push((job.engine.clone(), e));
                        engines.len() - 1
                    }
                    Err(e) => {
                        sink(JobEvent::Failed {
                            job: job.id,
                            kind: e.kind().into(),
                            message: e.to_string(),
                        });
                        continue;
                    }
                }
            }
        };
        let engine = &mut engines[idx].1;
        let id = job.id;
        let mut on_step = |p: engine::Progress| {
            sink(JobEvent::Progress {
                job: id,
                step: p.step,
                total: p.total,
            });
            if is_cancelled(&cancelled, id) {
                Flow::Cancel
            } else {
                Flow::Continue
            }
        };
        let event =
            match crate::worker::execute_step(&job.dir, &job.req, engine.as_mut(), &mut on_step) {
                Ok(step) => JobEvent::Done {
                    job: id,
                    step: Box::new(step),
                },
                Err(e) => JobEvent::Failed {
                    job: id,
                    kind: "session".into(),
                    message: e.to_string(),
                },
            };
        sink(event);
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
        let position = self
            .queued
            .lock()
            .map(|mut q| {
                *q += 1;
                *q - 1
            })
            .unwrap_or(0);
        (self.sink)(JobEvent::Accepted { job: id, position });
        self.tx
            .send(Job {
                id,
                dir: session_dir,
                req,
                engine,
            })
            .map_err(|e| BackendError::Gone(e.to_string()))?;
        Ok(id)
    }

    fn cancel(&mut self, job: JobId) {
        if let Ok(mut s) = self.cancelled.lock() {
            s.insert(job);
        }
    }

    fn state(&self) -> String {
        "local".into()
    }
}
