//! Following a submitted job on its own thread: the runner's events become `JobEvent`s, and the
//! job's end becomes the step it recorded, through the one call every client uses
//! (`Client::wait_step` on the worker, `LocalRunner::wait_step` in-process).

use super::backend::{JobEvent, JobId, JobSink, Live};
use crate::core::{ErrorKind, Step};
use crate::worker::{self, Client, ClientOptions, Event, Events, LocalRunner, WorkerError};
use std::path::PathBuf;
use std::thread;

/// Maps the runner's news about a job while it runs.
fn during(job: JobId, event: &Event) -> Option<JobEvent> {
    match *event {
        Event::Started { step_id, .. } => Some(JobEvent::Started { job, step: step_id }),
        Event::Progress { step, total, .. } => Some(JobEvent::Progress { job, step, total }),
        _ => None,
    }
}

/// The job's last event.
fn ended(job: JobId, result: Result<Step, WorkerError>) -> JobEvent {
    match result {
        Ok(step) => JobEvent::Done {
            job,
            step: Box::new(step),
        },
        Err(WorkerError::JobFailed(e)) => JobEvent::Failed {
            job,
            kind: e.kind,
            message: e.message,
        },
        Err(WorkerError::JobCancelled) => JobEvent::Cancelled { job },
        Err(WorkerError::Session(message)) => JobEvent::Failed {
            job,
            kind: ErrorKind::Session,
            message,
        },
        Err(e) => JobEvent::Failed {
            job,
            kind: ErrorKind::Worker,
            message: format!("lost the worker while the job ran ({e})"),
        },
    }
}

fn spawn(
    job: JobId,
    rid: worker::JobId,
    sink: JobSink,
    live: Live,
    wait: impl FnOnce(&mut dyn FnMut(&Event)) -> Result<Step, WorkerError> + Send + 'static,
) {
    if let Ok(mut l) = live.lock() {
        l.insert(job, rid);
    }
    let s = sink.clone();
    let follow = move || {
        let mut on_event = |e: &Event| {
            if let Some(mapped) = during(job, e) {
                s(mapped);
            }
        };
        let last = ended(job, wait(&mut on_event));
        if let Ok(mut l) = live.lock() {
            l.remove(&job);
        }
        s(last);
    };
    let spawned = thread::Builder::new()
        .name(format!("zedit-follow-{}", job.0))
        .spawn(follow);
    if let Err(e) = spawned {
        sink(JobEvent::Failed {
            job,
            kind: ErrorKind::Internal,
            message: format!("cannot follow the job: {e}"),
        });
    }
}

/// Follows job `rid` of the in-process runner.
pub fn follow_local(
    job: JobId,
    rid: worker::JobId,
    dir: PathBuf,
    events: Events,
    sink: JobSink,
    live: Live,
) {
    spawn(job, rid, sink, live, move |on_event| {
        LocalRunner::wait_step(&events, rid, &dir, on_event)
    });
}

/// Follows job `rid` on the worker, reconnecting (and re-attaching with `Watch`) when the
/// connection drops.
pub fn follow_worker(
    job: JobId,
    rid: worker::JobId,
    dir: PathBuf,
    mut client: Client,
    opts: ClientOptions,
    sink: JobSink,
    live: Live,
) {
    spawn(job, rid, sink, live, move |on_event| {
        client.wait_step(rid, &dir, Some(&opts), on_event)
    });
}
