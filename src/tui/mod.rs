//! The ratatui studio: one-way data flow from input to typed `Action`s, `update` on a plain
//! `State` returning `Effect`s, a small runtime that performs them, and views that only read.

pub mod action;
pub mod app;
pub mod backend;
pub mod config;
pub mod effect;
mod follower;
pub mod input;
pub mod key;
pub mod keymap;
pub mod pane;
mod perform;
mod preview_pane;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod update;
pub mod views;
pub mod worker_backend;

pub use app::{App, AppEvent};
pub use backend::{BackendError, JobBackend, JobEvent, JobId, JobSink, LocalBackend, Note};
pub use pane::{ImagePane, Overlay, PaneKey, PlaceholderPane, Slot};
pub use update::update;
pub use worker_backend::WorkerBackend;

use std::path::PathBuf;
use std::sync::{mpsc, Arc};

/// Opens the studio on the sessions under `root` and runs until the user quits.
pub fn run(root: PathBuf) -> anyhow::Result<()> {
    let loaded = config::load(&config::config_dir());
    let (tx, rx) = mpsc::channel::<AppEvent>();
    let sink_tx = tx.clone();
    let sink: JobSink = Arc::new(move |e| {
        let _ = sink_tx.send(AppEvent::Job(e));
    });
    let mouse = loaded.settings.mouse;
    // The terminal is queried for its graphics protocol before raw mode and the input thread,
    // so its answers are not read as key presses.
    let pane: Box<dyn ImagePane> = match crate::preview::Previewer::new(&loaded.settings.preview) {
        Ok(mut previewer) => {
            let wake = tx.clone();
            previewer.set_waker(move || {
                let _ = wake.send(AppEvent::Tick);
            });
            Box::new(preview_pane::PreviewPane::new(previewer))
        }
        Err(_) => Box::new(PlaceholderPane::default()),
    };
    let backend = open_backend(sink);
    let mut app = App::new(root, loaded, backend, pane);
    let wake = tx.clone();
    app.set_waker(move || {
        let _ = wake.send(AppEvent::Tick);
    });
    let mut term = terminal::setup(mouse)?;
    terminal::spawn_input(tx);
    let result = terminal::event_loop(&mut term, &mut app, &rx);
    terminal::restore();
    Ok(result?)
}

/// Set to 1 to run jobs in this process instead of on the worker.
pub const LOCAL_ENV: &str = "ZEDIT_LOCAL";

/// The worker (started in the background when none answers on `$ZEDIT_SOCKET` or the default
/// socket; jobs fall back to the in-process runner when it cannot be had), or the in-process
/// runner alone with `ZEDIT_LOCAL=1`.
fn open_backend(sink: JobSink) -> Box<dyn JobBackend> {
    if std::env::var(LOCAL_ENV).is_ok_and(|v| v == "1") {
        return Box::new(LocalBackend::new(sink));
    }
    let opts = crate::worker::ClientOptions::new(crate::worker::paths::socket_path(None));
    Box::new(WorkerBackend::start(opts, sink))
}
