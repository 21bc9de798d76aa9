//! The sessions list: moving, opening, creating, renaming, deleting, filtering.

use super::super::action::Command;
use super::super::effect::Effect;
use super::super::input::LineInput;
use super::super::state::{Confirm, Layer, PromptKind, State};
use super::step;

pub fn command(state: &mut State, c: Command) -> Vec<Effect> {
    let len = state.sessions.visible().len();
    let sel = &mut state.sessions.selected;
    match c {
        Command::Down => *sel = step(*sel, len, 1),
        Command::Up => *sel = step(*sel, len, -1),
        Command::Top => *sel = 0,
        Command::Bottom => *sel = len.saturating_sub(1),
        Command::Open | Command::Confirm | Command::Right => {
            return match state.sessions.selected_item() {
                Some(item) if item.error.is_some() => {
                    let msg = format!(
                        "cannot open '{}': {}",
                        item.name,
                        item.error.clone().unwrap_or_default()
                    );
                    state.error(msg);
                    Vec::new()
                }
                Some(item) => vec![Effect::OpenSession(item.path.clone())],
                None => {
                    state.info("no session here yet: press n to make one from an image");
                    Vec::new()
                }
            };
        }
        Command::NewSession => prompt(state, PromptKind::NewSession, ""),
        Command::Rename => {
            if let Some(name) = state.sessions.selected_item().map(|i| i.name.clone()) {
                prompt(state, PromptKind::Rename, &name);
            }
        }
        Command::Delete => {
            if let Some(item) = state.sessions.selected_item() {
                state.layer = Some(Layer::Confirm(Confirm::DeleteSession {
                    name: item.name.clone(),
                    dir: item.path.clone(),
                }));
            }
        }
        Command::Filter => {
            let current = state.sessions.filter.clone();
            prompt(state, PromptKind::Filter, &current);
        }
        Command::Refresh => return vec![Effect::ListSessions],
        Command::Back => {
            state.sessions.filter.clear();
        }
        _ => {}
    }
    Vec::new()
}

pub fn prompt(state: &mut State, kind: PromptKind, text: &str) {
    state.layer = Some(Layer::Prompt {
        kind,
        input: LineInput::with_text(text),
    });
}
