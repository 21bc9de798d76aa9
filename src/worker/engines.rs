//! The one engine cache every job path uses (the daemon, the in-process runner, replay): one
//! resident engine per name, reloaded when a job asks for other weights, another device or
//! another GGUF execution choice, and dropped after a panic or an out-of-memory failure so it
//! is loaded afresh.

use crate::core::EngineId;
use crate::engine::{
    self, EditRequest, Engine, EngineError, EngineOptions, Flow, Progress, QuantMode,
};
use image::RgbImage;
use std::any::Any;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

/// Opens an engine; runners use [`engine::open`], tests may inject their own.
pub type EngineFactory =
    Arc<dyn Fn(&EngineOptions) -> Result<Box<dyn Engine>, EngineError> + Send + Sync>;

pub fn default_factory() -> EngineFactory {
    Arc::new(engine::open)
}

struct Resident {
    model: Option<PathBuf>,
    device: Option<String>,
    gguf_exec: Option<QuantMode>,
    engine: Box<dyn Engine>,
}

pub struct EngineCache {
    factory: EngineFactory,
    /// The configured engine: a job naming no engine, model or device gets these.
    default: EngineOptions,
    engines: HashMap<String, Resident>,
}

impl EngineCache {
    pub fn new(factory: EngineFactory, default: EngineOptions) -> EngineCache {
        EngineCache {
            factory,
            default,
            engines: HashMap::new(),
        }
    }

    pub fn default_options(&self) -> &EngineOptions {
        &self.default
    }

    /// Names of the resident engines, sorted.
    pub fn resident(&self) -> Vec<String> {
        let mut names: Vec<String> = self.engines.keys().cloned().collect();
        names.sort();
        names
    }

    /// A job's engine options: its own, else the configured ones for that engine.
    pub fn options(
        &self,
        engine: &str,
        model: Option<PathBuf>,
        device: Option<String>,
        gguf_exec: Option<QuantMode>,
    ) -> EngineOptions {
        let name = if engine.is_empty() {
            self.default.name.clone()
        } else {
            engine.to_string()
        };
        let same = name == self.default.name;
        EngineOptions {
            model: model.or_else(|| self.default.model.clone().filter(|_| same)),
            device: device.or_else(|| self.default.device.clone().filter(|_| same)),
            gguf_exec: gguf_exec.or(self.default.gguf_exec.filter(|_| same)),
            name: if name.is_empty() {
                "classic".into()
            } else {
                name
            },
        }
    }

    /// Loads the engine for `opts` now (or reloads it with other weights), so a bad model is
    /// reported before any job.
    pub fn load(&mut self, opts: &EngineOptions) -> Result<EngineId, EngineError> {
        Ok(self.resident_for(opts)?.engine.id())
    }

    fn resident_for(&mut self, opts: &EngineOptions) -> Result<&mut Resident, EngineError> {
        let stale = self.engines.get(&opts.name).is_some_and(|r| {
            r.model != opts.model || r.device != opts.device || r.gguf_exec != opts.gguf_exec
        });
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
                    gguf_exec: opts.gguf_exec,
                    engine,
                },
            );
        }
        self.engines
            .get_mut(&opts.name)
            .ok_or_else(|| EngineError::Internal(format!("engine '{}' vanished", opts.name)))
    }

    /// Runs `f` with the engine for `opts`, guarded: a panic inside the engine becomes an
    /// `internal` failure, and the engine is dropped after a panic or an out-of-memory failure
    /// (`f` reports the latter through `out_of_memory`).
    pub fn with_engine<R>(
        &mut self,
        opts: &EngineOptions,
        f: impl FnOnce(&mut dyn Engine) -> R,
        out_of_memory: impl Fn(&R) -> bool,
    ) -> Result<R, EngineError> {
        let resident = self.resident_for(opts)?;
        let mut guarded = Guarded {
            inner: resident.engine.as_mut(),
            poisoned: false,
        };
        let result = f(&mut guarded);
        if guarded.poisoned || out_of_memory(&result) {
            self.engines.remove(&opts.name);
        }
        Ok(result)
    }

    /// Forgets every engine: after a panic outside the guarded run, their state is unknown.
    pub fn clear(&mut self) {
        self.engines.clear();
    }
}

/// The text of a panic's payload, for the failure message.
pub fn panic_text(panic: &Box<dyn Any + Send>) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into());
    format!("the engine panicked: {what}")
}

/// Turns an engine panic into an `internal` failure, so the step is recorded as failed (not left
/// running) and the runner keeps serving.
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
