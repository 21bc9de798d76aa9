//! `update(&mut State, Action) -> Vec<Effect>`: every change to the state happens here.

mod clicks;
mod jobs;
pub(crate) mod layers;
pub mod loras;
mod mask;
mod plan;
mod sessions;

pub use layers::palette_matches;

use super::action::{Action, Command};
use super::effect::Effect;
use super::state::{Focus, Layer, Screen, SessionView, State};

/// Applies `action` to `state` and returns the I/O to perform.
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Cmd(c) => command(state, c),
        Action::Insert(text) => layers::insert(state, &text),
        Action::Resize => Vec::new(),
        Action::Elapsed(d) => {
            if let Some(run) = &mut state.run {
                run.elapsed = d;
            }
            Vec::new()
        }
        Action::SessionsListed(items) => {
            state.sessions.items = items;
            let n = state.sessions.visible().len();
            state.sessions.selected = state.sessions.selected.min(n.saturating_sub(1));
            Vec::new()
        }
        Action::SessionOpened(session, size) => {
            let dir = session.dir().to_path_buf();
            let doc = session.doc;
            match &mut state.session {
                Some(view) if view.dir == dir => {
                    let keep = view.selected_id();
                    let mode = view.preview;
                    *view = SessionView::new(dir, doc, size);
                    view.preview = mode;
                    if let Some(pos) = view.rows.iter().position(|r| r.id == keep) {
                        if keep.is_some() {
                            view.selected = pos;
                        }
                    }
                }
                _ => {
                    state.session = Some(SessionView::new(dir, doc, size));
                    state.focus = Focus::Steps;
                    state.plan = None;
                    state.next_mask = None;
                }
            }
            state.screen = Screen::Session;
            Vec::new()
        }
        Action::MaskStored(r) => mask::stored(state, r),
        Action::Segmented { seq, result } => clicks::segmented(state, seq, result),
        Action::LorasListed(files) => loras::listed(state, files),
        Action::Completed(text) => {
            if let Some(Layer::Prompt { input, .. }) = &mut state.layer {
                *input = super::input::LineInput::with_text(&text);
            }
            Vec::new()
        }
        Action::Job(ev) => jobs::event(state, ev),
        Action::Backend(text) => {
            state.backend = text;
            Vec::new()
        }
        Action::Failed(text) => {
            state.error(text);
            Vec::new()
        }
        Action::Info(text) => {
            state.info(text);
            Vec::new()
        }
    }
}

fn command(state: &mut State, c: Command) -> Vec<Effect> {
    // A new key clears an old notice; errors stay until the next command too.
    if !matches!(c, Command::Redraw) {
        state.message = None;
    }
    if state.layer.is_some() {
        return layers::command(state, c);
    }
    match c {
        Command::Quit => {
            state.quit = true;
            return Vec::new();
        }
        Command::Help => {
            state.layer = Some(Layer::Help { scroll: 0 });
            return Vec::new();
        }
        Command::Palette => {
            state.layer = Some(Layer::Palette {
                input: Default::default(),
                selected: 0,
            });
            return Vec::new();
        }
        Command::Redraw => return vec![Effect::ResetPreview],
        Command::Loras if state.screen == Screen::Session => return loras::open(state),
        _ => {}
    }
    match (state.screen, state.focus) {
        (Screen::Sessions, _) => sessions::command(state, c),
        (Screen::Session, Focus::Steps) => jobs::command(state, c),
        (Screen::Session, Focus::Input) => layers::instruction(state, c),
        (Screen::Session, Focus::Plan) => plan::command(state, c),
        (Screen::Session, Focus::Mask) => mask::command(state, c),
    }
}

/// Moves `sel` by `delta` within `0..len`.
pub(crate) fn step(sel: usize, len: usize, delta: isize) -> usize {
    if len == 0 {
        return 0;
    }
    (sel as isize + delta).clamp(0, len as isize - 1) as usize
}
