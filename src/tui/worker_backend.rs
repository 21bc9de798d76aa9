//! `WorkerBackend`: runs the studio's jobs on the persistent worker daemon. Connecting, starting
//! the worker and submitting happen on the backend's own thread, so the studio never waits on
//! them; when no worker can be had, jobs run on the in-process runner instead, and the status
//! line says why.

use super::backend::{
    BackendError, JobBackend, JobEvent, JobId, JobSink, Live, LocalBackend, Note,
};
use super::follower;
use crate::session::StepRequest;
use crate::worker::{Client, ClientOptions, Job, WorkerError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the studio asks of the backend's thread.
enum Order {
    Submit {
        id: JobId,
        dir: PathBuf,
        req: Box<StepRequest>,
        engine: String,
    },
    Cancel(JobId),
}

/// Submits jobs to the worker, starting one when none answers (as `zedit edit` does).
pub struct WorkerBackend {
    socket: PathBuf,
    tx: Sender<Order>,
    next: u64,
    /// "starting worker…", "worker pid 123" or "local", for the status line.
    state: Arc<Mutex<String>>,
}

impl WorkerBackend {
    /// Returns at once; the backend's thread connects (starting a worker when none answers)
    /// and reports how that went through the sink.
    pub fn start(opts: ClientOptions, sink: JobSink) -> WorkerBackend {
        let state = Arc::new(Mutex::new("starting worker…".to_string()));
        let (tx, rx) = mpsc::channel();
        let socket = opts.socket.clone();
        let mut dispatch = Dispatch {
            opts,
            sink,
            state: state.clone(),
            live: Arc::new(Mutex::new(HashMap::new())),
            local: None,
        };
        let spawned = thread::Builder::new()
            .name("zedit-worker-backend".into())
            .spawn(move || dispatch.run(rx));
        if let Err(e) = spawned {
            set(&state, format!("no runner: {e}"));
        }
        WorkerBackend {
            socket,
            tx,
            next: 0,
            state,
        }
    }

    /// Connects before returning, for callers that want the worker or an error (tests).
    pub fn connect(opts: ClientOptions, sink: JobSink) -> Result<WorkerBackend, WorkerError> {
        let client = Client::connect_or_start(&opts)?;
        let backend = WorkerBackend::start(opts, sink);
        set(&backend.state, format!("worker pid {}", client.info().pid));
        Ok(backend)
    }

    /// The socket this backend talks to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

fn set(state: &Mutex<String>, text: String) {
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
        self.next += 1;
        let id = JobId(self.next);
        let dir = std::path::absolute(&session_dir).unwrap_or(session_dir);
        self.tx
            .send(Order::Submit {
                id,
                dir,
                req: Box::new(req),
                engine,
            })
            .map_err(|_| BackendError::Gone("the worker backend's thread ended".into()))?;
        Ok(id)
    }

    fn cancel(&mut self, job: JobId) {
        let _ = self.tx.send(Order::Cancel(job));
    }

    fn state(&self) -> String {
        self.state
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|_| "worker".into())
    }

    fn worker_socket(&self) -> Option<PathBuf> {
        Some(self.socket().to_path_buf())
    }
}

/// The backend's thread: owns the way to the worker, and the in-process fallback once the
/// worker could not be had.
struct Dispatch {
    opts: ClientOptions,
    sink: JobSink,
    state: Arc<Mutex<String>>,
    live: Live,
    local: Option<LocalBackend>,
}

impl Dispatch {
    fn run(&mut self, rx: Receiver<Order>) {
        // Connect up front, so the worker is warm before the first job.
        if let Err(e) = self.connect() {
            self.fall_back(&e);
        }
        for order in rx {
            match order {
                Order::Submit {
                    id,
                    dir,
                    req,
                    engine,
                } => self.submit(id, dir, *req, engine),
                Order::Cancel(id) => self.cancel(id),
            }
        }
    }

    fn report(&self, state: String, note: Option<Note>) {
        set(&self.state, state.clone());
        (self.sink)(JobEvent::Runner { state, note });
    }

    /// A fresh connection: a worker that died since the last job is restarted here.
    fn connect(&self) -> Result<Client, WorkerError> {
        if !matches!(
            Client::probe(&self.opts.socket),
            crate::worker::Probe::Ready(_)
        ) {
            self.report("starting worker…".into(), None);
        }
        let client = Client::connect_or_start(&self.opts)?;
        self.report(format!("worker pid {}", client.info().pid), None);
        Ok(client)
    }

    fn fall_back(&mut self, why: &WorkerError) {
        self.report(
            "local".into(),
            Some(Note {
                text: format!("worker unavailable ({why}); running jobs in this process"),
                error: true,
            }),
        );
        self.local = Some(LocalBackend::new(self.sink.clone()));
    }

    fn submit(&mut self, id: JobId, dir: PathBuf, req: StepRequest, engine: String) {
        if self.local.is_none() {
            match self.connect() {
                Ok(client) => return self.submit_to(client, id, dir, req, engine),
                Err(e) => self.fall_back(&e),
            }
        }
        if let Some(local) = &mut self.local {
            if let Err(e) = local.submit_as(id, dir, req, engine) {
                (self.sink)(JobEvent::Failed {
                    job: id,
                    kind: crate::core::ErrorKind::Worker,
                    message: e.to_string(),
                });
            }
        }
    }

    fn submit_to(
        &self,
        mut client: Client,
        id: JobId,
        dir: PathBuf,
        req: StepRequest,
        engine: String,
    ) {
        let job = Job {
            session_dir: dir.clone(),
            request: req,
            engine,
            model: None,
            device: None,
            gguf_exec: None,
        };
        match client.submit(job) {
            Ok((wid, position)) => {
                (self.sink)(JobEvent::Accepted { job: id, position });
                follower::follow_worker(
                    id,
                    wid,
                    dir,
                    client,
                    self.opts.clone(),
                    self.sink.clone(),
                    self.live.clone(),
                );
            }
            Err(e) => (self.sink)(JobEvent::Failed {
                job: id,
                kind: crate::core::ErrorKind::Worker,
                message: format!("the worker refused the job: {e}"),
            }),
        }
    }

    fn cancel(&mut self, id: JobId) {
        if let Some(local) = &mut self.local {
            local.cancel(id);
        }
        let wid = self.live.lock().ok().and_then(|l| l.get(&id).copied());
        let Some(wid) = wid else { return };
        // The worker answers on the job's own connection; this one only carries the request.
        let sent = Client::connect(&self.opts.socket).and_then(|mut c| {
            c.cancel(wid)?;
            // Give the worker a moment to read the request before hanging up.
            let _ = c.next_event_timeout(Duration::from_millis(200));
            Ok(())
        });
        if let Err(e) = sent {
            self.report(format!("worker unreachable: {e}"), None);
        }
    }
}
