//! Test harness for the studio: an `App` driven by key strings (helix style), job events
//! waited for with a timeout, and screens rendered to a `TestBackend`.
#![allow(dead_code)]

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zedit::session::StepRequest;
use zedit::tui::config::{Loaded, Settings};
use zedit::tui::key::Key;
use zedit::tui::keymap::Keymap;
use zedit::tui::state::State;
use zedit::tui::theme::Theme;
use zedit::tui::PlaceholderPane;
use zedit::tui::{App, AppEvent, BackendError, JobBackend, JobId, JobSink, LocalBackend};

pub fn defaults() -> Loaded {
    Loaded {
        settings: Settings::default(),
        keymap: Keymap::defaults(),
        theme: Theme::default_theme(),
        errors: Vec::new(),
    }
}

/// A backend that records submissions and runs nothing, for screens that must not change.
#[derive(Default)]
pub struct NullBackend {
    pub submitted: Vec<StepRequest>,
}

impl JobBackend for NullBackend {
    fn submit(
        &mut self,
        _dir: PathBuf,
        req: StepRequest,
        _engine: String,
    ) -> Result<JobId, BackendError> {
        self.submitted.push(req);
        Ok(JobId(self.submitted.len() as u64))
    }
    fn cancel(&mut self, _job: JobId) {}
    fn state(&self) -> String {
        "local".into()
    }
}

/// Turns `"iwarm<Enter><C-c>"` into key events: `<...>` is one named key, anything else a char.
pub fn parse_keys(spec: &str) -> Vec<Event> {
    let mut out = Vec::new();
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        let key: Key = if c == '<' && spec.contains('>') {
            let mut name = String::from("<");
            for n in chars.by_ref() {
                name.push(n);
                if n == '>' {
                    break;
                }
            }
            name.parse().expect("key name")
        } else {
            Key::new(KeyCode::Char(c), KeyModifiers::NONE)
        };
        out.push(Event::Key(KeyEvent::new(key.code, key.mods)));
    }
    out
}

pub struct Harness {
    pub app: App,
    rx: Receiver<AppEvent>,
    pub root: PathBuf,
}

impl Harness {
    /// An app on `root` with the real local backend running the classic engine.
    pub fn local(root: &Path) -> Harness {
        let (tx, rx) = mpsc::channel();
        let sink: JobSink = Arc::new(move |e| {
            let _ = tx.send(AppEvent::Job(e));
        });
        let app = App::new(
            root.to_path_buf(),
            defaults(),
            Box::new(LocalBackend::new(sink)),
            Box::new(PlaceholderPane::default()),
        );
        Harness {
            app,
            rx,
            root: root.to_path_buf(),
        }
    }

    /// An app on `root` with the backend `make` builds around the harness's job sink.
    pub fn with_backend(root: &Path, make: impl FnOnce(JobSink) -> Box<dyn JobBackend>) -> Harness {
        let (tx, rx) = mpsc::channel();
        let sink: JobSink = Arc::new(move |e| {
            let _ = tx.send(AppEvent::Job(e));
        });
        let app = App::new(
            root.to_path_buf(),
            defaults(),
            make(sink),
            Box::new(PlaceholderPane::default()),
        );
        Harness {
            app,
            rx,
            root: root.to_path_buf(),
        }
    }

    /// An app whose jobs go nowhere.
    pub fn null(root: &Path) -> Harness {
        let (_tx, rx) = mpsc::channel();
        let app = App::new(
            root.to_path_buf(),
            defaults(),
            Box::new(NullBackend::default()),
            Box::new(PlaceholderPane::default()),
        );
        Harness {
            app,
            rx,
            root: root.to_path_buf(),
        }
    }

    pub fn state(&self) -> &State {
        &self.app.state
    }

    /// Feeds keys one event at a time, as a person types them.
    pub fn keys(&mut self, spec: &str) -> &mut Self {
        for ev in parse_keys(spec) {
            self.app.handle_events([AppEvent::Term(ev)]);
            self.drain();
        }
        self
    }

    /// Delivers job events that already arrived, and the results of finished background tasks.
    pub fn drain(&mut self) {
        let batch: Vec<AppEvent> = self.rx.try_iter().collect();
        self.app.handle_events(batch);
    }

    /// Waits until every background task (creating, deleting a session, storing a mask) has
    /// reported back.
    pub fn settle(&mut self) -> &mut Self {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.drain();
            if self.app.tasks_running == 0 {
                return self;
            }
            assert!(Instant::now() < deadline, "background tasks did not finish");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits for job events until `cond` holds; panics naming `what` after 30 s.
    pub fn wait(&mut self, what: &str, cond: impl Fn(&State) -> bool) -> &mut Self {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !cond(&self.app.state) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {what}; message: {:?}",
                self.app.state.message
            );
            match self.rx.recv_timeout(left.min(Duration::from_millis(20))) {
                Ok(ev) => {
                    let batch: Vec<AppEvent> =
                        std::iter::once(ev).chain(self.rx.try_iter()).collect();
                    self.app.handle_events(batch);
                }
                // Background tasks report through the app itself.
                Err(_) => {
                    self.app.handle_events(std::iter::empty());
                }
            }
        }
        self
    }

    /// The screen as text, `w` x `h` cells.
    pub fn screen(&mut self, w: u16, h: u16) -> String {
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
        term.draw(|f| self.app.draw(f)).expect("draw");
        buffer_text(term.backend())
    }
}

/// The buffer's symbols, one line per row, trailing spaces trimmed.
pub fn buffer_text(backend: &TestBackend) -> String {
    let buf = backend.buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        let mut skip = 0;
        for x in 0..buf.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = buf[(x, y)].symbol();
            skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
            line.push_str(sym);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
