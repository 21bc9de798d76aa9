//! The blocking client, for the CLI and for the TUI's background thread: connect (starting a
//! worker when none answers), submit, cancel, watch, and read events in order.

use super::follow::Follow;
use super::proto::{
    parse_event, write_message, Event, Job, JobId, JobStatus, Request, MAX_LINE, PROTOCOL,
};
use super::WorkerError;
use super::{daemon, paths};
use crate::core::{Step, ZEDIT_VERSION};
use crate::engine::EngineOptions;
use std::collections::VecDeque;
use std::io::{ErrorKind, Read};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a client waits for an answer to a request before giving up on the worker.
const ANSWER_WAIT: Duration = Duration::from_secs(30);
/// How long a segmentation may take (loading a model and embedding on a CPU).
const SEGMENT_WAIT: Duration = Duration::from_secs(600);

/// How many times `wait_step` reconnects before it gives up on the worker.
const RECONNECTS: u64 = 3;

/// What the worker said about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerInfo {
    pub pid: u32,
    pub version: String,
    pub engines: Vec<String>,
}

/// What answers on a socket.
#[derive(Debug)]
pub enum Probe {
    Ready(WorkerInfo),
    /// A worker of another protocol: the user must restart it (we never talk across versions).
    NeedsRestart(WorkerError),
    Unreachable(WorkerError),
}

/// How to reach (or start) the worker.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub socket: PathBuf,
    /// The zedit binary to start as a worker (default: this executable).
    pub exe: Option<PathBuf>,
    /// Engine the started worker loads up front.
    pub engine: EngineOptions,
    /// How long to wait for a started worker to become ready (model loads take a while).
    pub start_timeout: Duration,
}

impl ClientOptions {
    pub fn new(socket: impl Into<PathBuf>) -> ClientOptions {
        ClientOptions {
            socket: socket.into(),
            exe: None,
            engine: EngineOptions::default(),
            start_timeout: Duration::from_secs(180),
        }
    }
}

pub struct Client {
    socket: PathBuf,
    stream: UnixStream,
    buf: Vec<u8>,
    /// Events read while waiting for a request's answer, handed out by `next_event` in order.
    pending: VecDeque<Event>,
    info: WorkerInfo,
    next_segment: u64,
}

impl Client {
    /// Connects and exchanges hellos; a worker of another protocol is `VersionMismatch`.
    pub fn connect(socket: &Path) -> Result<Client, WorkerError> {
        // Jobs name session paths and instructions: tell them only to a worker of ours.
        paths::check_socket(socket)?;
        let stream = UnixStream::connect(socket).map_err(|source| WorkerError::Unreachable {
            socket: socket.to_path_buf(),
            source,
        })?;
        let uid = paths::peer_uid(&stream).map_err(|e| WorkerError::io(socket, e))?;
        if uid != paths::our_uid() {
            return Err(WorkerError::PeerNotUs {
                socket: socket.to_path_buf(),
                uid,
            });
        }
        let mut client = Client {
            socket: socket.to_path_buf(),
            stream,
            buf: Vec::new(),
            pending: VecDeque::new(),
            next_segment: 1,
            info: WorkerInfo {
                pid: 0,
                version: String::new(),
                engines: Vec::new(),
            },
        };
        client.send(&Request::Hello {
            protocol: PROTOCOL,
            version: ZEDIT_VERSION.into(),
        })?;
        match client.read(Some(ANSWER_WAIT))? {
            Event::Hello {
                protocol,
                version,
                pid,
                engines,
            } if protocol == PROTOCOL => {
                client.info = WorkerInfo {
                    pid,
                    version,
                    engines,
                };
                Ok(client)
            }
            Event::Hello {
                protocol, version, ..
            } => Err(client.mismatch(protocol, version)),
            Event::Error { kind, message, .. } if kind == "protocol" => {
                // The worker names its protocol in the message; keep its words.
                Err(WorkerError::Refused { kind, message })
            }
            other => Err(WorkerError::BadMessage(format!(
                "expected Hello, got {other:?}"
            ))),
        }
    }

    /// Says whether a worker of our protocol answers on `socket`.
    pub fn probe(socket: &Path) -> Probe {
        match Client::connect(socket) {
            Ok(c) => Probe::Ready(c.info),
            Err(e) if e.is_refusal() => Probe::NeedsRestart(e),
            Err(e) => Probe::Unreachable(e),
        }
    }

    /// Connects, starting a worker in the background when none answers. A worker of another
    /// version is reported, never silently replaced: it may be running someone's job.
    pub fn connect_or_start(opts: &ClientOptions) -> Result<Client, WorkerError> {
        match Client::probe(&opts.socket) {
            Probe::Ready(_) => Client::connect(&opts.socket),
            Probe::NeedsRestart(e) => Err(e),
            Probe::Unreachable(_) => {
                daemon::start(opts)?;
                Client::connect(&opts.socket)
            }
        }
    }

    pub fn info(&self) -> &WorkerInfo {
        &self.info
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Queues a job; returns its id and how many jobs are ahead of it.
    pub fn submit(&mut self, job: Job) -> Result<(JobId, usize), WorkerError> {
        self.send(&Request::Submit { job: Box::new(job) })?;
        let answer = self.answer(|e| {
            matches!(
                e,
                Event::Accepted { .. } | Event::Error { job_id: None, .. }
            )
        })?;
        match answer {
            Event::Accepted { job_id, position } => Ok((job_id, position)),
            other => Err(refused(other)),
        }
    }

    /// Asks the worker to cancel a job; its `Cancelled` (or final) event follows as an event.
    pub fn cancel(&mut self, job_id: JobId) -> Result<(), WorkerError> {
        self.send(&Request::Cancel { job_id })
    }

    /// Follows a job's events again (after reconnecting); the first event says where it is.
    pub fn watch(&mut self, job_id: JobId) -> Result<(), WorkerError> {
        self.send(&Request::Watch { job_id })
    }

    /// The running job and the queue, in order.
    pub fn status(&mut self) -> Result<Vec<JobStatus>, WorkerError> {
        self.send(&Request::Status)?;
        match self.answer(|e| matches!(e, Event::Status { .. }))? {
            Event::Status { jobs } => Ok(jobs),
            other => Err(refused(other)),
        }
    }

    /// Candidate masks for a points or box `mask` on a stored image of a session, segmented
    /// with the model and embedding the worker keeps. Returns the `Segmented` or
    /// `SegmentFailed` event (the embedding of a large image may take a while on a CPU).
    pub fn segment(
        &mut self,
        session_dir: &Path,
        image: &crate::core::ImageRef,
        mask: &crate::core::MaskSpec,
        model: Option<&str>,
    ) -> Result<Event, WorkerError> {
        let id = self.next_segment;
        self.next_segment += 1;
        self.send(&Request::Segment {
            id,
            session_dir: session_dir.to_path_buf(),
            image: image.clone(),
            mask: Box::new(mask.clone()),
            model: model.map(str::to_string),
        })?;
        loop {
            let e = self.read(Some(SEGMENT_WAIT))?;
            match &e {
                Event::Segmented { id: got, .. } | Event::SegmentFailed { id: got, .. }
                    if *got == id =>
                {
                    return Ok(e)
                }
                Event::Error { job_id: None, .. } => return Err(refused(e)),
                _ => self.pending.push_back(e),
            }
        }
    }

    /// Asks the worker to stop; returns its pid once it has acknowledged.
    pub fn shutdown(&mut self) -> Result<u32, WorkerError> {
        self.send(&Request::Shutdown)?;
        match self.answer(|e| matches!(e, Event::Stopping { .. }))? {
            Event::Stopping { pid } => Ok(pid),
            other => Err(refused(other)),
        }
    }

    /// The next event, waiting as long as it takes.
    pub fn next_event(&mut self) -> Result<Event, WorkerError> {
        match self.pending.pop_front() {
            Some(e) => Ok(e),
            None => self.read(None),
        }
    }

    /// The next event, or `None` when nothing came within `timeout`.
    pub fn next_event_timeout(&mut self, timeout: Duration) -> Result<Option<Event>, WorkerError> {
        if let Some(e) = self.pending.pop_front() {
            return Ok(Some(e));
        }
        match self.read(Some(timeout)) {
            Ok(e) => Ok(Some(e)),
            Err(WorkerError::Timeout { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Waits for job `job`'s last event and returns the step it recorded in the session at
    /// `dir`; `on_event` sees each of the job's events on the way (progress, `Started`). With
    /// `reconnect`, a dropped connection is re-established (starting a worker when none
    /// answers) and the job followed again with `Watch`, so a job the worker finished is never
    /// reported failed.
    pub fn wait_step(
        &mut self,
        job: JobId,
        dir: &Path,
        reconnect: Option<&ClientOptions>,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Step, WorkerError> {
        let mut follow = Follow::new(job, dir);
        let mut retries = 0;
        loop {
            match self.next_event() {
                Ok(event) => {
                    if follow.concerns(&event) {
                        on_event(&event);
                    }
                    if let Some(done) = follow.handle(&event) {
                        return done;
                    }
                }
                Err(e @ (WorkerError::Closed(_) | WorkerError::Io { .. })) => {
                    let Some(opts) = reconnect.filter(|_| retries < RECONNECTS) else {
                        return Err(e);
                    };
                    retries += 1;
                    std::thread::sleep(Duration::from_millis(50 * retries));
                    match Client::connect_or_start(opts) {
                        Ok(fresh) => *self = fresh,
                        Err(_) if retries < RECONNECTS => continue,
                        // No worker at all now: the session still says how the step ended.
                        Err(err) => {
                            return match follow.step {
                                Some(id) => follow.recorded(id),
                                None => Err(err),
                            }
                        }
                    }
                    self.watch(job)?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn send(&mut self, req: &Request) -> Result<(), WorkerError> {
        write_message(&mut self.stream, req).map_err(|_| WorkerError::Closed(self.socket.clone()))
    }

    /// Reads until an event that `is_answer` accepts; other events wait in `pending`.
    fn answer(&mut self, is_answer: impl Fn(&Event) -> bool) -> Result<Event, WorkerError> {
        loop {
            let e = self.read(Some(ANSWER_WAIT))?;
            if is_answer(&e) {
                return Ok(e);
            }
            self.pending.push_back(e);
        }
    }

    /// Reads one event; partial lines survive a timeout in `buf`.
    fn read(&mut self, timeout: Option<Duration>) -> Result<Event, WorkerError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return parse_event(&line[..i]).map_err(WorkerError::BadMessage);
            }
            if self.buf.len() > MAX_LINE {
                return Err(WorkerError::BadMessage("event longer than 1 MiB".into()));
            }
            let wait = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(self.timeout(timeout));
                    }
                    Some(left)
                }
                None => None,
            };
            self.stream
                .set_read_timeout(wait)
                .map_err(|e| WorkerError::io(&self.socket, e))?;
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(WorkerError::Closed(self.socket.clone())),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(self.timeout(timeout))
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(WorkerError::io(&self.socket, e)),
            }
        }
    }

    fn timeout(&self, timeout: Option<Duration>) -> WorkerError {
        WorkerError::Timeout {
            socket: self.socket.clone(),
            secs: timeout.unwrap_or_default().as_secs(),
        }
    }

    fn mismatch(&self, theirs: u32, their_version: String) -> WorkerError {
        WorkerError::VersionMismatch {
            socket: self.socket.clone(),
            theirs,
            their_version,
            ours: ZEDIT_VERSION.into(),
        }
    }
}

fn refused(event: Event) -> WorkerError {
    match event {
        Event::Error { kind, message, .. } => WorkerError::Refused { kind, message },
        other => WorkerError::BadMessage(format!("unexpected answer {other:?}")),
    }
}
