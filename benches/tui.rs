//! Studio budgets: start to first frame with a 50-step session open (< 150 ms) and key press to
//! redrawn frame (< 16 ms), on a TestBackend of 100x30.

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::path::{Path, PathBuf};
use zedit::core::{EditParams, Op};
use zedit::engine::classic::ClassicEngine;
use zedit::engine::Flow;
use zedit::session::{Session, StepRequest};
use zedit::tui::config::{Loaded, Settings};
use zedit::tui::keymap::Keymap;
use zedit::tui::theme::Theme;
use zedit::tui::{App, AppEvent, BackendError, JobBackend, JobId, PlaceholderPane};

struct Idle;
impl JobBackend for Idle {
    fn submit(&mut self, _: PathBuf, _: StepRequest, _: String) -> Result<JobId, BackendError> {
        Ok(JobId(1))
    }
    fn cancel(&mut self, _: JobId) {}
    fn state(&self) -> String {
        "local".into()
    }
}

fn fifty_steps(root: &Path) {
    let src = root.join("src.png");
    image::RgbImage::from_fn(256, 256, |x, y| image::Rgb([x as u8, y as u8, 128]))
        .save(&src)
        .expect("source image");
    let dir = Session::create(&root.join("sessions"), "fifty", &src)
        .expect("session")
        .dir()
        .to_path_buf();
    let mut engine = ClassicEngine::new();
    let mut parent = None;
    for i in 0..50 {
        let req = StepRequest {
            parent,
            op: Op::Relight,
            instruction: format!("warmer {i}"),
            params: EditParams::default(),
            mask_spec: None,
            mask: None,
            overlay: None,
            recipe: None,
        };
        let step = zedit::worker::execute_step(&dir, &req, &mut engine, &mut |_| Flow::Continue)
            .expect("step");
        parent = Some(step.id);
    }
}

fn app(root: &Path) -> App {
    let loaded = Loaded {
        settings: Settings::default(),
        keymap: Keymap::defaults(),
        theme: Theme::default_theme(),
        errors: Vec::new(),
    };
    App::new(
        root.join("sessions"),
        loaded,
        Box::new(Idle),
        Box::new(PlaceholderPane::default()),
    )
}

fn key(c: KeyCode) -> AppEvent {
    AppEvent::Term(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

fn budgets(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("temp dir");
    fifty_steps(tmp.path());
    c.bench_function("start_to_first_frame_50_steps", |b| {
        b.iter(|| {
            let mut app = app(tmp.path());
            app.handle_events([key(KeyCode::Enter)]);
            let mut term = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
            term.draw(|f| app.draw(f)).expect("draw");
            assert_eq!(
                app.state.session.as_ref().map(|v| v.doc.steps.len()),
                Some(50)
            );
        })
    });
    let mut app = app(tmp.path());
    app.handle_events([key(KeyCode::Enter)]);
    let mut term = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    let mut down = true;
    c.bench_function("key_to_frame", |b| {
        b.iter(|| {
            down = !down;
            app.handle_events([key(if down { KeyCode::Down } else { KeyCode::Up })]);
            term.draw(|f| app.draw(f)).expect("draw");
        })
    });
}

criterion_group!(benches, budgets);
criterion_main!(benches);
