//! The in-process runner: the worker's queue and engine thread inside this process, speaking
//! the same jobs and events as the daemon. It serves `zedit edit --local` and the studio when
//! no worker can be had.

use super::engines::EngineFactory;
use super::follow::Follow;
use super::proto::{Event, Job, JobId};
use super::queue::Queue;
use super::runner::Runner;
use super::WorkerError;
use crate::core::Step;
use crate::engine::EngineOptions;
use std::path::Path;
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub struct LocalRunner {
    queue: Arc<Queue>,
    engine_thread: Option<JoinHandle<()>>,
}

/// A submitted job's events, in order.
pub type Events = Receiver<Event>;

impl LocalRunner {
    /// Starts the engine thread; engines load on first use.
    pub fn start(
        factory: EngineFactory,
        default: EngineOptions,
        step_delay: Option<Duration>,
    ) -> Result<LocalRunner, WorkerError> {
        let queue = Arc::new(Queue::default());
        let runner = Runner::new(queue.clone(), factory, default, step_delay);
        let engine_thread = std::thread::Builder::new()
            .name("zedit-engine".into())
            .spawn(move || runner.run())
            .map_err(|e| WorkerError::io("the engine thread", e))?;
        Ok(LocalRunner {
            queue,
            engine_thread: Some(engine_thread),
        })
    }

    /// Queues a job: its id, how many jobs are ahead, and its events (`Accepted` first).
    pub fn submit(&self, job: Job) -> Result<(JobId, usize, Events), WorkerError> {
        let (tx, rx) = mpsc::channel();
        self.queue.submit(job, &tx);
        match rx.recv() {
            Ok(Event::Accepted { job_id, position }) => Ok((job_id, position, rx)),
            Ok(Event::Error { kind, message, .. }) => Err(WorkerError::Refused { kind, message }),
            Ok(other) => Err(WorkerError::BadMessage(format!(
                "expected Accepted, got {other:?}"
            ))),
            Err(_) => Err(WorkerError::Refused {
                kind: "stopping".into(),
                message: "the in-process runner has stopped".into(),
            }),
        }
    }

    /// Cancels a job; its submitter hears how it ended.
    pub fn cancel(&self, id: JobId) {
        let (tx, _rx) = mpsc::channel();
        self.queue.cancel(id, &tx);
    }

    /// Waits for the job's last event and returns the step it recorded; `on_event` sees every
    /// event on the way (for progress).
    pub fn wait_step(
        events: &Events,
        job: JobId,
        dir: &Path,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Step, WorkerError> {
        let mut follow = Follow::new(job, dir);
        loop {
            let event = events.recv().map_err(|_| WorkerError::Refused {
                kind: "stopping".into(),
                message: "the in-process runner stopped before the job ended".into(),
            })?;
            on_event(&event);
            if let Some(done) = follow.handle(&event) {
                return done;
            }
        }
    }
}

impl Drop for LocalRunner {
    /// Cancels what is queued, lets the running step record itself, then ends the thread.
    fn drop(&mut self) {
        self.queue.stop();
        if let Some(t) = self.engine_thread.take() {
            let _ = t.join();
        }
    }
}
