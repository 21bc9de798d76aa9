//! The worker protocol: newline-delimited JSON, one message per line, enums tagged by `type`.
//! Images never travel on the socket; jobs and results name paths inside the session folder.

use crate::core::{ErrorKind, StepError, StepId};
use crate::session::StepRequest;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;

/// Bumped whenever a message changes shape; both sides refuse to talk across versions.
pub const PROTOCOL: u32 = 4;

/// Longest line either side accepts; larger ones are answered with an `Error` and skipped.
pub const MAX_LINE: usize = 1 << 20;

/// A job's id, unique for the life of one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One step to run in a session. The worker records it there itself, so the result survives
/// the client going away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Absolute path of the session folder (worker and clients share a filesystem).
    pub session_dir: PathBuf,
    pub request: StepRequest,
    /// Engine name; empty means the worker's configured engine.
    #[serde(default)]
    pub engine: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// How quantized GGUF weights run; `None`: the worker's configured choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gguf_exec: Option<crate::engine::QuantMode>,
}

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Request {
    /// Must come first on every connection.
    Hello {
        protocol: u32,
        version: String,
    },
    Submit {
        job: Box<Job>,
    },
    Cancel {
        job_id: JobId,
    },
    Status,
    /// Stop the worker: queued and running jobs are cancelled (recorded as such).
    Shutdown,
    /// Follow a job's events again, e.g. after reconnecting.
    Watch {
        job_id: JobId,
    },
    /// Find candidate masks for a points or box prompt on an image of a session, with the
    /// model and image embedding the worker keeps; answered by `Segmented` or `SegmentFailed`
    /// with the same `id`. The candidates are stored in the session's images.
    Segment {
        id: u64,
        session_dir: PathBuf,
        image: crate::core::ImageRef,
        mask: Box<crate::core::MaskSpec>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
    },
}

/// One candidate mask a `Segment` request found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentCandidate {
    /// The mask, stored in the session (white inside).
    pub image: crate::core::ImageRef,
    /// The model's predicted IoU.
    pub iou: f32,
    /// Pixels inside.
    pub area: u64,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
}

/// One line of `Status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStatus {
    pub job_id: JobId,
    pub session: PathBuf,
    /// Known once the step is recorded as running.
    #[serde(default)]
    pub step_id: Option<StepId>,
    pub state: JobState,
    /// Last reported (step, total).
    #[serde(default)]
    pub progress: Option<(u32, u32)>,
}

/// What the worker sends: answers to requests, and job events to every client watching a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    Hello {
        protocol: u32,
        version: String,
        pid: u32,
        engines: Vec<String>,
    },
    /// `position` counts the jobs ahead of this one (0: it runs next).
    Accepted {
        job_id: JobId,
        position: usize,
    },
    /// The job's step is recorded in its session as running.
    Started {
        job_id: JobId,
        step_id: StepId,
    },
    Progress {
        job_id: JobId,
        step: u32,
        total: u32,
    },
    Done {
        job_id: JobId,
        step_id: StepId,
        /// Path of the output image inside the session folder.
        output: String,
        blake3: String,
        took_ms: u64,
    },
    /// `step_id` is set when the step was recorded before it failed.
    Failed {
        job_id: JobId,
        kind: ErrorKind,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step_id: Option<StepId>,
    },
    Cancelled {
        job_id: JobId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step_id: Option<StepId>,
    },
    Status {
        jobs: Vec<JobStatus>,
    },
    /// Answer to `Segment`: candidates best first, and the model to record with the mask.
    Segmented {
        id: u64,
        model: String,
        digest: String,
        candidates: Vec<SegmentCandidate>,
        /// True when the image had to be embedded (false: the kept embedding was used).
        embedded: bool,
        took_ms: u64,
    },
    SegmentFailed {
        id: u64,
        kind: ErrorKind,
        message: String,
    },
    /// Answer to `Shutdown`: the worker stops once running work is cancelled.
    Stopping {
        pid: u32,
    },
    /// A request was refused; the connection stays usable unless the kind is `protocol`.
    /// `job_id` is set when the refused request named a job (`Cancel`, `Watch`).
    Error {
        kind: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        job_id: Option<JobId>,
    },
}

impl Event {
    /// The job this event is about, if any.
    pub fn job_id(&self) -> Option<JobId> {
        match self {
            Event::Accepted { job_id, .. }
            | Event::Started { job_id, .. }
            | Event::Progress { job_id, .. }
            | Event::Done { job_id, .. }
            | Event::Failed { job_id, .. }
            | Event::Cancelled { job_id, .. } => Some(*job_id),
            _ => None,
        }
    }

    /// True for the last event a job sends.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Event::Done { .. } | Event::Failed { .. } | Event::Cancelled { .. }
        )
    }

    /// A failure of job `job_id`, recorded as step `step_id` when it got that far.
    pub fn failed(job_id: JobId, error: StepError, step_id: Option<StepId>) -> Event {
        Event::Failed {
            job_id,
            kind: error.kind,
            message: error.message,
            step_id,
        }
    }

    pub fn error(kind: &str, message: impl Into<String>) -> Event {
        Event::Error {
            kind: kind.into(),
            message: message.into(),
            job_id: None,
        }
    }
}

/// One line read from a peer.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Text(String),
    /// The line was longer than the limit; it was skipped up to its newline.
    TooLong,
    Eof,
}

/// Parses one line a client sent; anything else is an error, never a panic.
pub fn parse_request(line: &str) -> Result<Request, String> {
    serde_json::from_str(line).map_err(|e| e.to_string())
}

/// Parses one line the worker sent.
pub fn parse_event(line: &[u8]) -> Result<Event, String> {
    serde_json::from_slice(line).map_err(|e| e.to_string())
}

/// Reads one line of at most `limit` bytes without ever buffering more than that.
pub fn read_line(reader: &mut impl BufRead, limit: usize) -> io::Result<Line> {
    let mut buf = Vec::new();
    let mut too_long = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            if buf.is_empty() && !too_long {
                return Ok(Line::Eof);
            }
            break;
        }
        let (take, end) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (chunk.len(), false),
        };
        if !too_long {
            if buf.len() + take > limit {
                too_long = true;
                buf = Vec::new();
            } else {
                buf.extend_from_slice(&chunk[..take]);
            }
        }
        reader.consume(take + usize::from(end));
        if end {
            break;
        }
    }
    if too_long {
        return Ok(Line::TooLong);
    }
    Ok(Line::Text(String::from_utf8_lossy(&buf).into_owned()))
}

/// Writes one message as a line and flushes it.
pub fn write_message(writer: &mut impl Write, msg: &impl Serialize) -> io::Result<()> {
    let mut line = serde_json::to_vec(msg).map_err(io::Error::other)?;
    line.push(b'\n');
    writer.write_all(&line)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_by_type() {
        let text = serde_json::to_string(&Request::Cancel { job_id: JobId(3) }).unwrap();
        assert_eq!(text, r#"{"type":"Cancel","job_id":3}"#);
        let status: Request = serde_json::from_str(r#"{"type":"Status"}"#).unwrap();
        assert_eq!(status, Request::Status);
        let ev = Event::Accepted {
            job_id: JobId(1),
            position: 0,
        };
        let back: Event = serde_json::from_str(&serde_json::to_string(&ev).unwrap()).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn long_lines_are_skipped_whole() {
        let mut input = vec![b'x'; 40];
        input.extend_from_slice(b"\nshort\n");
        let mut r = io::BufReader::with_capacity(8, &input[..]);
        assert_eq!(read_line(&mut r, 16).unwrap(), Line::TooLong);
        assert_eq!(read_line(&mut r, 16).unwrap(), Line::Text("short".into()));
        assert_eq!(read_line(&mut r, 16).unwrap(), Line::Eof);
    }
}
