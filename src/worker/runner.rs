//! The engine thread: keeps one engine per name resident, runs claimed jobs in order, records
//! each step in its session, and turns every outcome (panics included) into an event.

use super::execute::execute_step_observed;
use super::proto::{Event, Job, JobId};
use super::queue::{Claimed, Queue};
use super::WorkerError;
use crate::core::{EngineId, Status, Step};
use crate::engine::{self, EditRequest, Engine, EngineError, EngineOptions, Flow, Progress};
use image::RgbImage;
use std::any::Any;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Opens an engine; the daemon uses [`engine::open`], tests may inject their own.
pub type EngineFactory =
    Arc<dyn Fn(&EngineOptions) -> Result<Box<dyn Engine>, EngineError> + Send + Sync>;

pub fn default_factory() -> EngineFactory {
    Arc::new(engine::open)
}

struct Resident {
    model: Option<PathBuf>,
    device: Option<String>,
    engine: Box<dyn Engine>,
}

pub struct Runner {
    queue: Arc<Queue>,
    factory: EngineFactory,
    default: EngineOptions,
    engines: HashMap<String, Resident>,
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
            factory,
            default,
            engines: HashMap::new(),
            step_delay,
        }
    }

    /// Loads `classic` and the configured engine, so a bad model is reported at start.
    pub fn preload(&mut self) -> Result<Vec<String>, WorkerError> {
        let mut names = vec![EngineOptions {
            name: "classic".into(),
            ..EngineOptions::default()
        }];
        if !matches!(self.default.name.as_str(), "" | "classic") {
            names.push(self.default.clone());
        }
        for opts in names {
            self.engine_for(&opts)
                .map_err(|source| WorkerError::EngineLoad {
                    name: opts.name.clone(),
                    source,
                })?;
        }
        Ok(self.resident())
    }

    pub fn resident(&self) -> Vec<String> {
        let mut names: Vec<String> = self.engines.keys().cloned().collect();
        names.sort();
        names
    }

    /// Runs jobs until the worker stops.
    pub fn run(mut self) {
        while let Some(claimed) = self.queue.claim() {
            let id = claimed.id;
            let event =
                catch_unwind(AssertUnwindSafe(|| self.run_job(claimed))).unwrap_or_else(|panic| {
                    // State inside the engines may be half-updated: load them afresh.
                    self.engines.clear();
                    failed(id, "internal", panic_text(&panic), None)
                });
            self.queue.done(id, event);
        }
    }

    /// The job's engine options: its own, else the worker's for that engine.
    fn options(&self, job: &Job) -> EngineOptions {
        let name = if job.engine.is_empty() {
            self.default.name.clone()
        } else {
            job.engine.clone()
        };
        let same = name == self.default.name;
        EngineOptions {
            model: job
                .model
                .clone()
                .or_else(|| self.default.model.clone().filter(|_| same)),
            device: job
                .device
                .clone()
                .or_else(|| self.default.device.clone().filter(|_| same)),
            name: if name.is_empty() {
                "classic".into()
            } else {
                name
            },
        }
    }

    /// The resident engine for `opts`, loaded (or reloaded with other weights) when needed.
    fn engine_for(&mut self, opts: &EngineOptions) -> Result<&mut Resident, EngineError> {
        let stale = self
            .engines
            .get(&opts.name)
            .is_some_and(|r| r.model != opts.model || r.device != opts.device);
        if stale {
            // Free the old weights before loading new ones: both may not fit on the GPU.
            self.engines.remove(&opts.name);
        }
        if !self.engines.contains_key(&opts.name) {
            let engine = (self.factory)(opts)?;
            self.engines.insert(
                opts.name.clone(),
                Resident {
                    model: opts.model.clone(),
                    device: opts.device.clone(),
                    engine,
                },
            );
        }
        self.engines
            .get_mut(&opts.name)
            .ok_or_else(|| EngineError::Internal(format!("engine '{}' vanished", opts.name)))
    }

    fn run_job(&mut self, claimed: Claimed) -> Event {
        let Claimed { id, job, cancel } = claimed;
        let opts = self.options(&job);
        let queue = self.queue.clone();
        let delay = self.step_delay;
        let resident = match self.engine_for(&opts) {
            Ok(r) => r,
            Err(e) => return failed(id, e.kind(), e.to_string(), None),
        };
        let mut guarded = Guarded {
            inner: resident.engine.as_mut(),
            poisoned: false,
        };
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
        let result = execute_step_observed(
            &job.session_dir,
            &job.request,
            &mut guarded,
            &mut on_begin,
            &mut on_step,
        );
        let poisoned = guarded.poisoned;
        let event = match result {
            Ok(step) => step_event(id, &step),
            Err(e) => failed(id, "session", e.to_string(), None),
        };
        let out_of_memory = matches!(&event, Event::Failed { kind, .. } if kind == "out_of_memory");
        if poisoned || out_of_memory {
            // Drop the engine so its memory is freed and it is loaded afresh on next use.
            self.engines.remove(&opts.name);
        }
        event
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
        _ => {
            // Sessions store failures as "kind: message".
            let text = step
                .error
                .clone()
                .unwrap_or_else(|| step.status.to_string());
            let (kind, message) = match text.split_once(": ") {
                Some((k, m)) if !k.contains(' ') => (k.to_string(), m.to_string()),
                _ => ("internal".to_string(), text),
            };
            failed(id, &kind, message, Some(step.id))
        }
    }
}

fn failed(id: JobId, kind: &str, message: String, step_id: Option<crate::core::StepId>) -> Event {
    Event::Failed {
        job_id: id,
        kind: kind.into(),
        message,
        step_id,
    }
}

/// Sleeps `d` in short slices so a cancel is still noticed promptly.
fn pause(d: Duration, cancel: &AtomicBool) {
    let end = Instant::now() + d;
    while Instant::now() < end && !cancel.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(5).min(d));
    }
}

fn panic_text(panic: &Box<dyn Any + Send>) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into());
    format!("the engine panicked: {what}")
}

/// Turns an engine panic into an `internal` failure, so the step is recorded as failed (not left
/// running) and the worker keeps serving.
struct Guarded<'a> {
    inner: &'a mut dyn Engine,
    poisoned: bool,
}

impl Engine for Guarded<'_> {
    fn id(&self) -> EngineId {
        self.inner.id()
    }

    fn run(
        &mut self,
        req: &EditRequest,
        on_step: &mut dyn FnMut(Progress) -> Flow,
    ) -> Result<RgbImage, EngineError> {
        let inner = &mut *self.inner;
        match catch_unwind(AssertUnwindSafe(|| inner.run(req, on_step))) {
            Ok(r) => r,
            Err(panic) => {
                self.poisoned = true;
                Err(EngineError::Internal(panic_text(&panic)))
            }
        }
    }
}
