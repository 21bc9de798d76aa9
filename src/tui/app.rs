//! The runtime's core: turns terminal and job events into actions, runs `update`, performs the
//! effects it returns, and draws. The terminal loop and the tests drive the same `App`.

use super::action::Action;
use super::backend::{JobBackend, JobEvent};
use super::config::Loaded;
use super::effect::Effect;
use super::key::Key;
use super::keymap::{Context, Keymap};
use super::pane::ImagePane;
use super::state::State;
use super::theme::Theme;
use super::{perform, update, views};
use ratatui::crossterm::event::{Event, KeyEventKind, MouseEventKind};
use ratatui::Frame;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::Instant;

/// What reaches the runtime: terminal input, job reports, and the clock.
#[derive(Debug, Clone)]
pub enum AppEvent {
    Term(Event),
    Job(JobEvent),
    Tick,
}

pub struct App {
    pub state: State,
    pub theme: Theme,
    pub keymap: Keymap,
    pub backend: Box<dyn JobBackend>,
    pub pane: Box<dyn ImagePane>,
    pub mouse: bool,
    job_started: Option<Instant>,
    /// Set by Ctrl-L: the terminal should be cleared before the next draw.
    pub clear_requested: bool,
    /// Results of effects performed on background threads, as actions.
    tasks: (Sender<Vec<Action>>, Receiver<Vec<Action>>),
    /// Wakes the event loop when a background task has finished.
    waker: Arc<dyn Fn() + Send + Sync>,
    /// Background tasks still running.
    pub tasks_running: usize,
}

impl App {
    pub fn new(
        root: PathBuf,
        loaded: Loaded,
        backend: Box<dyn JobBackend>,
        pane: Box<dyn ImagePane>,
    ) -> App {
        let mut state = State::new(
            root,
            loaded.keymap.help(),
            &loaded.settings.engine,
            &backend.state(),
        );
        state.preview_name = pane.name().to_string();
        state.lora_dir = super::update::loras::folder(
            loaded.settings.lora_dir.as_deref(),
            &super::config::config_dir(),
        );
        state.segment_model = std::env::var("ZEDIT_SEGMENT_MODEL")
            .ok()
            .filter(|m| !m.is_empty())
            .or(loaded.settings.segment_model.clone());
        let mut app = App {
            state,
            theme: loaded.theme,
            keymap: loaded.keymap,
            backend,
            pane,
            mouse: loaded.settings.mouse,
            job_started: None,
            clear_requested: false,
            tasks: mpsc::channel(),
            waker: Arc::new(|| {}),
            tasks_running: 0,
        };
        app.run_effects(vec![Effect::ListSessions]);
        if !loaded.errors.is_empty() {
            app.state.error(loaded.errors.join("; "));
        }
        app
    }

    /// Sets what wakes the event loop when a background task finishes.
    pub fn set_waker(&mut self, waker: impl Fn() + Send + Sync + 'static) {
        self.waker = Arc::new(waker);
    }

    /// Runs `work` on a background thread; its actions are handled once it finishes.
    pub(crate) fn spawn_task(&mut self, work: impl FnOnce() -> Vec<Action> + Send + 'static) {
        let tx = self.tasks.0.clone();
        let wake = self.waker.clone();
        let spawned = std::thread::Builder::new()
            .name("zedit-task".into())
            .spawn(move || {
                let _ = tx.send(work());
                wake();
            });
        match spawned {
            Ok(_) => self.tasks_running += 1,
            Err(e) => self
                .state
                .error(format!("cannot start a background task: {e}")),
        }
    }

    /// Handles the results of finished background tasks; true when there were any.
    fn finished_tasks(&mut self) -> bool {
        let done: Vec<Vec<Action>> = self.tasks.1.try_iter().collect();
        for actions in &done {
            self.tasks_running = self.tasks_running.saturating_sub(1);
            for a in actions.clone() {
                self.dispatch(a);
            }
        }
        !done.is_empty()
    }

    /// The action a terminal event stands for in the current context, if any.
    fn translate(&self, ev: &Event) -> Option<Action> {
        match ev {
            Event::Key(k) if k.kind != KeyEventKind::Release => {
                let key = Key::from_event(k);
                let ctx = self.state.context();
                if let Some(cmd) = self.keymap.lookup(ctx, key) {
                    return Some(Action::Cmd(cmd));
                }
                match ctx {
                    Context::Input => key.text().map(|c| Action::Insert(c.to_string())),
                    _ => None,
                }
            }
            Event::Paste(text) => Some(Action::Insert(text.clone())),
            Event::Resize(..) => Some(Action::Resize),
            Event::Mouse(m) if self.mouse => match m.kind {
                MouseEventKind::ScrollDown => Some(Action::Cmd(super::action::Command::Down)),
                MouseEventKind::ScrollUp => Some(Action::Cmd(super::action::Command::Up)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Handles a burst of events; consecutive text (an IME commit, a paste without bracketed
    /// paste, fast typing) is inserted as one string. Returns true when a redraw is needed.
    pub fn handle_events(&mut self, events: impl IntoIterator<Item = AppEvent>) -> bool {
        let mut dirty = self.finished_tasks();
        let mut text = String::new();
        for ev in events {
            let action = match ev {
                AppEvent::Term(e) => self.translate(&e),
                AppEvent::Job(j) => {
                    self.track_job(&j);
                    Some(Action::Job(j))
                }
                AppEvent::Tick => self.job_started.map(|t| Action::Elapsed(t.elapsed())),
            };
            match action {
                Some(Action::Insert(s)) => text.push_str(&s),
                Some(a) => {
                    if !text.is_empty() {
                        self.dispatch(Action::Insert(std::mem::take(&mut text)));
                    }
                    self.dispatch(a);
                    dirty = true;
                }
                None => {}
            }
        }
        if !text.is_empty() {
            self.dispatch(Action::Insert(text));
            dirty = true;
        }
        if self.state.run.is_none() {
            self.job_started = None;
        }
        let backend = self.backend.state();
        if backend != self.state.backend {
            self.dispatch(Action::Backend(backend));
            dirty = true;
        }
        dirty
    }

    fn track_job(&mut self, ev: &JobEvent) {
        if ev.job().is_none() {
            return;
        }
        if matches!(ev, JobEvent::Started { .. }) || self.job_started.is_none() {
            self.job_started = Some(Instant::now());
        }
    }

    /// Runs `update` and everything that follows from it.
    pub fn dispatch(&mut self, action: Action) {
        let effects = update::update(&mut self.state, action);
        self.run_effects(effects);
    }

    fn run_effects(&mut self, effects: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            if effect == Effect::ResetPreview {
                self.pane.reset();
                self.clear_requested = true;
                continue;
            }
            let actions = perform::perform(self, effect);
            for a in actions {
                queue.extend(update::update(&mut self.state, a));
            }
        }
    }

    /// Draws the whole screen and the previews.
    pub fn draw(&mut self, frame: &mut Frame) {
        let previews = views::render(&self.state, &self.theme, frame);
        for (slot, area, key) in previews {
            self.pane.request(slot, &key, area);
            self.pane.render(frame, slot, area);
        }
        views::render_popups(&self.state, &self.theme, frame);
    }
}
