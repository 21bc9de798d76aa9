//! The engine thread: runs claimed jobs in order on the engine cache, records each step in its
//! session, and turns every outcome (panics included) into an event. The daemon runs it behind
//! its socket; `LocalRunner` runs the same loop inside a client's process.

use super::engines::{panic_text, EngineCache, EngineFactory};
use super::execute::execute_step_observed;
use super::proto::{Event, JobId};
use super::queue::{Claimed, Queue};
use super::WorkerError;
use crate::core::{ErrorKind, Status, Step, StepError};
use crate::engine::{EngineOptions, Flow, Progress};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Runner {
    queue: Arc<Queue>,
    engines: EngineCache,
    step_delay: Option<Duration>,
}

impl Runner {
    pub fn new(
        queue: Arc<Queue>,
        factory: EngineFactory,
        default: EngineOptions,
        step_delay: Option<Duration>,
    ) -> Runner {
        Runner {
            queue,
            engines: EngineCache::new(factory, default),
            step_delay,
        }
    }

    /// Loads `classic` and the configured engine, so a bad model is reported at start.
    pub fn preload(&mut self) -> Result<Vec<String>, WorkerError> {
        let mut names = vec![EngineOptions {
            name: "classic".into(),
            ..EngineOptions::default()
        }];
        let default = self.engines.default_options().clone();
        if !matches!(default.name.as_str(), "" | "classic") {
            names.push(default);
        }
        for opts in names {
            self.engines
                .load(&opts)
                .map_err(|source| WorkerError::EngineLoad {
                    name: opts.name.clone(),
                    source,
                })?;
        }
        Ok(self.engines.resident())
    }

    /// Runs jobs until the queue stops.
    pub fn run(mut self) {
        while let Some(claimed) = self.queue.claim() {
            let id = claimed.id;
            let event =
                catch_unwind(AssertUnwindSafe(|| self.run_job(claimed))).unwrap_or_else(|panic| {
                    // State inside the engines may be half-updated: load them afresh.
                    self.engines.clear();
                    let error = StepError::new(ErrorKind::Internal, panic_text(&panic));
                    Event::failed(id, error, None)
                });
            self.queue.done(id, event);
        }
    }

    fn run_job(&mut self, claimed: Claimed) -> Event {
        let Claimed { id, job, cancel } = claimed;
        let opts = self.engines.options(
            &job.engine,
            job.model.clone(),
            job.device.clone(),
            job.gguf_exec,
        );
        let queue = self.queue.clone();
        let delay = self.step_delay;
        let ran = self.engines.with_engine(
            &opts,
            |engine| {
                let mut on_begin = |step| queue.set_step(id, step);
                let mut on_step = |p: Progress| {
                    if let Some(d) = delay {
                        pause(d, &cancel);
                    }
                    queue.progress(id, p.step, p.total);
                    if cancel.load(Ordering::SeqCst) {
                        Flow::Cancel
                    } else {
                        Flow::Continue
                    }
                };
                execute_step_observed(
                    &job.session_dir,
                    &job.request,
                    engine,
                    &mut on_begin,
                    &mut on_step,
                )
            },
            |result| {
                matches!(result, Ok(step) if step.error.as_ref()
                    .is_some_and(|e| e.kind == ErrorKind::OutOfMemory))
            },
        );
        match ran {
            Ok(Ok(step)) => step_event(id, &step),
            Ok(Err(e)) => {
                Event::failed(id, StepError::new(ErrorKind::Session, e.to_string()), None)
            }
            Err(e) => Event::failed(id, e.to_step_error(), None),
        }
    }
}

fn step_event(id: JobId, step: &Step) -> Event {
    match (step.status, &step.output) {
        (Status::Done, Some(out)) => Event::Done {
            job_id: id,
            step_id: step.id,
            output: out.path.clone(),
            blake3: out.blake3.clone(),
            took_ms: step.took_ms.unwrap_or_default(),
        },
        (Status::Cancelled, _) => Event::Cancelled {
            job_id: id,
            step_id: Some(step.id),
        },
        (status, _) => {
            let error = step.error.clone().unwrap_or_else(|| {
                StepError::new(ErrorKind::Internal, format!("the step ended {status}"))
            });
            Event::failed(id, error, Some(step.id))
        }
    }
}

/// Sleeps `d` in short slices so a cancel is still noticed promptly.
fn pause(d: Duration, cancel: &AtomicBool) {
    let end = Instant::now() + d;
    while Instant::now() < end && !cancel.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(5).min(d));
    }
}
