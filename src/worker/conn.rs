//! One client connection: the hello check (within a few seconds), then requests read line by
//! line; answers and job events are written by a separate thread so a slow client never blocks
//! the engine, and a client that stops reading is dropped once its backlog is full.

use super::proto::{read_line, write_message, Event, Line, Request, MAX_LINE, PROTOCOL};
use super::queue::Queue;
use crate::core::ZEDIT_VERSION;
use std::io::{BufReader, BufWriter};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, TrySendError};
use std::sync::Arc;
use std::time::Duration;

/// Most connections served at once; more are told so and closed.
pub const MAX_CONNECTIONS: usize = 64;

/// How long a new connection has to say Hello.
pub const HELLO_WAIT: Duration = Duration::from_secs(5);

/// Events waiting for a client; a client further behind than this is dropped.
pub const MAX_BACKLOG: usize = 1024;

/// A client that has not read for this long while we write is dropped.
const WRITE_WAIT: Duration = Duration::from_secs(60);

/// Events a connection has taken from its senders and not yet written to its client. A
/// stopping worker waits for this to drain, so the last event of a job (its `Cancelled` on
/// SIGTERM, say) reaches the client before the process exits.
static UNSENT: AtomicUsize = AtomicUsize::new(0);

/// Waits until every connection has written the events it holds, or `limit` passes. The
/// short first pause lets events just sent by the engine thread reach their connection.
pub fn wait_flushed(limit: Duration) {
    let start = std::time::Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    while UNSENT.load(Ordering::SeqCst) > 0 && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// One of the [`MAX_CONNECTIONS`] places, given back when the connection ends.
pub struct Slot(Arc<AtomicUsize>);

impl Slot {
    pub fn take(count: &Arc<AtomicUsize>) -> Option<Slot> {
        let taken = count.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < MAX_CONNECTIONS).then_some(n + 1)
        });
        taken.ok().map(|_| Slot(count.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Tells a client over the cap why it is closed.
pub fn refuse_busy(mut stream: UnixStream) -> std::io::Result<()> {
    stream.set_write_timeout(Some(Duration::from_millis(200)))?;
    let message = format!("the worker already serves {MAX_CONNECTIONS} connections; retry later");
    write_message(&mut stream, &Event::error("busy", message))
}

/// What the worker says about itself in its `Hello`.
#[derive(Debug, Clone)]
pub struct HelloInfo {
    pub pid: u32,
    pub engines: Vec<String>,
}

impl HelloInfo {
    fn event(&self) -> Event {
        Event::Hello {
            protocol: PROTOCOL,
            version: ZEDIT_VERSION.into(),
            pid: self.pid,
            engines: self.engines.clone(),
        }
    }
}

/// Serves `stream` until the client hangs up, fails the hello or falls too far behind.
pub fn serve(stream: UnixStream, queue: Arc<Queue>, info: Arc<HelloInfo>, _slot: Slot) {
    let (Ok(write_half), Ok(closer)) = (stream.try_clone(), stream.try_clone()) else {
        return;
    };
    // Job watchers send without blocking the engine; this thread moves their events into a
    // bounded backlog, and a client whose backlog is full is cut off instead of buffered.
    let (tx, rx) = mpsc::channel::<Event>();
    let (backlog_tx, backlog_rx) = mpsc::sync_channel::<Event>(MAX_BACKLOG);
    std::thread::spawn(move || {
        for event in rx {
            UNSENT.fetch_add(1, Ordering::SeqCst);
            match backlog_tx.try_send(event) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    UNSENT.fetch_sub(1, Ordering::SeqCst);
                    let _ = closer.shutdown(Shutdown::Both);
                    return;
                }
                Err(TrySendError::Disconnected(_)) => {
                    UNSENT.fetch_sub(1, Ordering::SeqCst);
                    return;
                }
            }
        }
    });
    std::thread::spawn(move || {
        let _ = write_half.set_write_timeout(Some(WRITE_WAIT));
        let mut w = BufWriter::new(write_half);
        // Ends when the client is gone or every sender (this connection, job watchers) is.
        while let Ok(event) = backlog_rx.recv() {
            let written = write_message(&mut w, &event);
            UNSENT.fetch_sub(1, Ordering::SeqCst);
            if written.is_err() {
                let _ = w.get_ref().shutdown(Shutdown::Both);
                break;
            }
        }
        // What is left will never be written: it no longer counts as waiting.
        for _ in backlog_rx.try_iter() {
            UNSENT.fetch_sub(1, Ordering::SeqCst);
        }
    });
    let _ = stream.set_read_timeout(Some(HELLO_WAIT));
    let mut reader = BufReader::new(stream);
    if !hello(&mut reader, &tx, &info) {
        return;
    }
    let _ = reader.get_ref().set_read_timeout(None);
    loop {
        let text = match read_line(&mut reader, MAX_LINE) {
            Ok(Line::Text(t)) => t,
            Ok(Line::TooLong) => {
                let message = format!("message over {MAX_LINE} bytes skipped");
                if tx.send(Event::error("too_large", message)).is_err() {
                    return;
                }
                continue;
            }
            Ok(Line::Eof) | Err(_) => return,
        };
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Request>(&text) {
            Ok(req) => handle(req, &queue, &tx, &info),
            Err(e) => {
                let message = format!("cannot read request: {e}");
                let _ = tx.send(Event::error("bad_request", message));
            }
        }
    }
}

/// Checks the client's first line. Older or newer clients are told both versions, so the user
/// knows which side to restart or upgrade.
fn hello(reader: &mut BufReader<UnixStream>, tx: &mpsc::Sender<Event>, info: &HelloInfo) -> bool {
    let text = match read_line(reader, MAX_LINE) {
        Ok(Line::Text(t)) => t,
        Ok(Line::TooLong) => {
            let _ = tx.send(Event::error("protocol", "expected Hello first"));
            return false;
        }
        Ok(Line::Eof) | Err(_) => return false,
    };
    // Read loosely: a client of another protocol may send a Hello of another shape.
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if value.get("type").and_then(|t| t.as_str()) != Some("Hello") {
        let message = format!("expected Hello first (this worker speaks protocol {PROTOCOL})");
        let _ = tx.send(Event::error("protocol", message));
        return false;
    }
    let theirs = value.get("protocol").and_then(|p| p.as_u64());
    let their_version = value
        .get("version")
        .and_then(|v| v.as_str())
        .unwrap_or("unknown");
    if theirs != Some(u64::from(PROTOCOL)) {
        let theirs = theirs.map_or("none".to_string(), |p| p.to_string());
        let message = format!(
            "this worker speaks protocol {PROTOCOL} (zedit {ZEDIT_VERSION}) but the client \
             speaks protocol {theirs} (zedit {their_version}); upgrade the client or restart \
             the worker with that zedit"
        );
        let _ = tx.send(Event::error("protocol", message));
        return false;
    }
    tx.send(info.event()).is_ok()
}

fn handle(req: Request, queue: &Queue, tx: &mpsc::Sender<Event>, info: &HelloInfo) {
    match req {
        Request::Hello { .. } => {
            let _ = tx.send(info.event());
        }
        Request::Submit { job } => {
            let dir = &job.session_dir;
            if !dir.is_absolute() {
                let message = format!("session_dir {} must be an absolute path", dir.display());
                let _ = tx.send(Event::error("bad_request", message));
            } else if !dir.join("session.toml").is_file() {
                let message = format!("{}: not a session folder (no session.toml)", dir.display());
                let _ = tx.send(Event::error("bad_request", message));
            } else {
                queue.submit(*job, tx);
            }
        }
        Request::Cancel { job_id } => queue.cancel(job_id, tx),
        Request::Watch { job_id } => queue.watch(job_id, tx),
        Request::Status => {
            let _ = tx.send(Event::Status {
                jobs: queue.status(),
            });
        }
        Request::Segment {
            id,
            session_dir,
            image,
            mask,
            model,
        } => {
            // Off the reading thread: a cancel sent meanwhile is still read at once.
            let tx = tx.clone();
            std::thread::spawn(move || {
                let event =
                    super::segment::answer(id, &session_dir, &image, &mask, model.as_deref());
                let _ = tx.send(event);
            });
        }
        Request::Shutdown => {
            queue.stop();
            let _ = tx.send(Event::Stopping { pid: info.pid });
        }
    }
}
