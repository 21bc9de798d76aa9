//! `WorkerBackend`: runs the studio's jobs on the persistent worker daemon, one connection and
//! one reader thread per job, mapping the worker's events to `JobEvent`s.

use super::backend::{BackendError, JobBackend, JobEvent, JobId, JobSink};
use crate::core::{Step, StepId};
use crate::session::{Session, StepRequest};
use crate::worker::{proto, Client, ClientOptions, Event, Job, WorkerError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;

/// Worker job ids of the jobs still running, by studio job id.
type Live = Arc<Mutex<HashMap<JobId, proto::JobId>>>;

/// Submits jobs to the worker, starting one when none answers (as `zedit edit` does).
pub struct WorkerBackend {
    opts: ClientOptions,
    sink: JobSink,
    next: u64,
    live: Live,
    /// "worker pid 123" or "worker unreachable: …", for the status line.
    state: Arc<Mutex<String>>,
}

impl WorkerBackend {
    /// Connects to the worker on `opts.socket` (starting it when needed); fails when no worker
    /// can be reached or started, so the caller can fall back to running jobs in-process.
    pub fn connect(opts: ClientOptions, sink: JobSink) -> Result<WorkerBackend, WorkerError> {
        let client = Client::connect_or_start(&opts)?;
        let state = format!("worker pid {}", client.info().pid);
        Ok(WorkerBackend {
            opts,
            sink,
            next: 0,
            live: Arc::new(Mutex::new(HashMap::new())),
            state: Arc::new(Mutex::new(state)),
        })
    }

    /// The socket this backend talks to.
    pub fn socket(&self) -> &Path {
        &self.opts.socket
    }

    fn set_state(&self, text: String) {
        set_state(&self.state, text);
    }
}

fn set_state(state: &Mutex<String>, text: String) {
    if let Ok(mut s) = state.lock() {
        *s = text;
    }
}

impl JobBackend for WorkerBackend {
    fn submit(
        &mut self,
        session_dir: PathBuf,
        req: StepRequest,
        engine: String,
    ) -> Result<JobId, BackendError> {
        // A fresh connection per job: a worker that died since the last job is restarted here.
        let mut client = match Client::connect_or_start(&self.opts) {
            Ok(c) => c,
            Err(e) => {
                self.set_state(format!("worker unreachable: {e}"));
                return Err(BackendError::Gone(format!("worker unreachable: {e}")));
            }
        };
        self.set_state(format!("worker pid {}", client.info().pid));
        let session_dir = std::path::absolute(&session_dir).unwrap_or(session_dir);
        let job = Job {
            session_dir: session_dir.clone(),
            request: req,
            engine,
            model: None,
            device: None,
        };
        let (wid, position) = client.submit(job).map_err(|e| {
            self.set_state(format!("worker unreachable: {e}"));
            BackendError::Gone(format!("the worker refused the job: {e}"))
        })?;
        self.next += 1;
        let id = JobId(self.next);
        if let Ok(mut live) = self.live.lock() {
            live.insert(id, wid);
        }
        (self.sink)(JobEvent::Accepted { job: id, position });
        let reader = Reader {
            id,
            wid,
            dir: session_dir,
            sink: self.sink.clone(),
            live: self.live.clone(),
            state: self.state.clone(),
        };
        thread::Builder::new()
            .name(format!("zedit-worker-job-{}", id.0))
            .spawn(move || reader.run(client))
            .map_err(|e| BackendError::Gone(format!("cannot follow the job: {e}")))?;
        Ok(id)
    }

    fn cancel(&mut self, job: JobId) {
        let wid = self.live.lock().ok().and_then(|l| l.get(&job).copied());
        let Some(wid) = wid else { return };
        let socket = self.opts.socket.clone();
        // The worker answers on the job's own connection; this one only carries the request.
        let state = self.state.clone();
        let _ = thread::Builder::new()
            .name("zedit-worker-cancel".into())
            .spawn(move || {
                let sent = Client::connect(&socket).and_then(|mut c| {
                    c.cancel(wid)?;
                    // Give the worker a moment to read the request before hanging up.
                    let _ = c.next_event_timeout(std::time::Duration::from_millis(200));
                    Ok(())
                });
                if let Err(e) = sent {
                    set_state(&state, format!("worker unreachable: {e}"));
                }
            });
    }

    fn state(&self) -> String {
        self.state
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|_| "worker".into())
    }
}

/// Follows one job's events on its own connection until its last one.
struct Reader {
    id: JobId,
    wid: proto::JobId,
    dir: PathBuf,
    sink: JobSink,
    live: Live,
    state: Arc<Mutex<String>>,
}

impl Reader {
    fn run(self, mut client: Client) {
        loop {
            let event = match client.next_event() {
                Ok(e) => e,
                Err(e) => {
                    set_state(&self.state, format!("worker unreachable: {e}"));
                    self.finish(JobEvent::Failed {
                        job: self.id,
                        kind: "worker".into(),
                        message: format!(
                            "lost the worker while the job ran ({e}); the next job starts a \
                             new worker"
                        ),
                    });
                    return;
                }
            };
            if event.job_id() != Some(self.wid) {
                continue;
            }
            if let Some(mapped) = self.map(event) {
                let last = matches!(
                    mapped,
                    JobEvent::Done { .. } | JobEvent::Failed { .. } | JobEvent::Cancelled { .. }
                );
                if last {
                    self.finish(mapped);
                    return;
                }
                (self.sink)(mapped);
            }
        }
    }

    /// Forgets the job, then reports its last event.
    fn finish(&self, event: JobEvent) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(&self.id);
        }
        (self.sink)(event);
    }

    fn map(&self, event: Event) -> Option<JobEvent> {
        let job = self.id;
        Some(match event {
            // The submitter already reported Accepted.
            Event::Accepted { .. } => return None,
            Event::Progress { step, total, .. } => JobEvent::Progress { job, step, total },
            Event::Done { step_id, .. } => self.recorded(step_id),
            // A step recorded before it failed or was cancelled carries its own status.
            Event::Failed {
                step_id: Some(id), ..
            }
            | Event::Cancelled {
                step_id: Some(id), ..
            } => self.recorded(id),
            Event::Failed { kind, message, .. } => JobEvent::Failed { job, kind, message },
            Event::Cancelled { .. } => JobEvent::Cancelled { job },
            _ => return None,
        })
    }

    /// `Done` with the step as the worker recorded it in the session.
    fn recorded(&self, id: StepId) -> JobEvent {
        match load_step(&self.dir, id) {
            Ok(step) => JobEvent::Done {
                job: self.id,
                step: Box::new(step),
            },
            Err(message) => JobEvent::Failed {
                job: self.id,
                kind: "session".into(),
                message,
            },
        }
    }
}

fn load_step(dir: &Path, id: StepId) -> Result<Step, String> {
    let session = Session::load(dir).map_err(|e| e.to_string())?;
    session.doc.step(id).cloned().ok_or_else(|| {
        format!(
            "the worker recorded step #{id} but {} has no such step",
            dir.display()
        )
    })
}
