//! Popups (help, palette, confirm, prompts) and the instruction line: text entry and the keys
//! that act on whichever line has the focus.

use super::super::action::Command;
use super::super::effect::Effect;
use super::super::input::LineInput;
use super::super::state::{Confirm, Focus, Layer, MaskTarget, PromptKind, State};
use super::{plan, step};

/// Typed, pasted or composed text goes to the open prompt, else the instruction line.
pub fn insert(state: &mut State, text: &str) -> Vec<Effect> {
    match &mut state.layer {
        Some(Layer::Prompt { kind, input }) => {
            input.insert(text);
            if *kind == PromptKind::Filter {
                state.sessions.filter = input.text().to_string();
                state.sessions.selected = 0;
            }
        }
        Some(Layer::Palette { input, selected }) => {
            input.insert(text);
            *selected = 0;
        }
        Some(_) => {}
        None if state.focus == Focus::Input => state.input.insert(text),
        None => {}
    }
    Vec::new()
}

/// Line editing shared by every input; false when `c` is not an editing command.
fn edit(input: &mut LineInput, c: Command) -> bool {
    match c {
        Command::Backspace => input.backspace(),
        Command::DeleteChar => input.delete(),
        Command::Left => input.left(),
        Command::Right => input.right(),
        Command::Home => input.home(),
        Command::End => input.end(),
        Command::WordBack => input.word_back(),
        Command::ClearLine => input.clear(),
        _ => return false,
    }
    true
}

/// Commands in the palette that match `text`, by name or description, each once.
pub fn palette_matches(state: &State, text: &str) -> Vec<(Command, String)> {
    let t = text.trim().to_lowercase();
    let mut out: Vec<(Command, String)> = Vec::new();
    for h in &state.help {
        if out.iter().any(|(c, _)| *c == h.command) {
            continue;
        }
        let name = h.command.as_str();
        if t.is_empty() || name.contains(&t) || h.desc.to_lowercase().contains(&t) {
            out.push((h.command, h.desc.clone()));
        }
    }
    // Commands whose name starts with the text come first.
    out.sort_by_key(|(c, _)| !c.as_str().starts_with(&t));
    out
}

pub fn command(state: &mut State, c: Command) -> Vec<Effect> {
    let Some(layer) = state.layer.take() else {
        return Vec::new();
    };
    match layer {
        Layer::Loras(picker) => super::loras::command(state, picker, c),
        Layer::Help { scroll } => {
            let scroll = match c {
                Command::Down => scroll.saturating_add(1),
                Command::Up => scroll.saturating_sub(1),
                Command::Back | Command::Help | Command::Quit => return Vec::new(),
                _ => scroll,
            };
            state.layer = Some(Layer::Help { scroll });
            Vec::new()
        }
        Layer::Confirm(confirm) => match (c, confirm) {
            (Command::Yes, Confirm::DeleteSession { dir, .. }) => vec![Effect::DeleteSession(dir)],
            (Command::No | Command::Back, _) => Vec::new(),
            (_, confirm) => {
                state.layer = Some(Layer::Confirm(confirm));
                Vec::new()
            }
        },
        Layer::Palette {
            mut input,
            mut selected,
        } => {
            let matches = palette_matches(state, input.text());
            match c {
                Command::Confirm => {
                    return match matches.get(selected) {
                        Some((cmd, _)) => super::command(state, *cmd),
                        None => {
                            state.error(format!("no command matches '{}'", input.text()));
                            Vec::new()
                        }
                    };
                }
                Command::Back => return Vec::new(),
                Command::Quit => {
                    state.quit = true;
                    return Vec::new();
                }
                Command::Down => selected = step(selected, matches.len(), 1),
                Command::Up => selected = step(selected, matches.len(), -1),
                other => {
                    edit(&mut input, other);
                }
            }
            state.layer = Some(Layer::Palette { input, selected });
            Vec::new()
        }
        Layer::Prompt { kind, mut input } => match c {
            Command::Confirm => submit_prompt(state, kind, input.text().trim().to_string()),
            Command::Back => {
                if kind == PromptKind::Filter {
                    state.sessions.filter.clear();
                }
                Vec::new()
            }
            Command::Quit => {
                state.quit = true;
                Vec::new()
            }
            Command::Complete => {
                let text = input.text().to_string();
                state.layer = Some(Layer::Prompt { kind, input });
                match kind {
                    PromptKind::NewSession | PromptKind::MaskFile => vec![Effect::Complete(text)],
                    _ => Vec::new(),
                }
            }
            other => {
                edit(&mut input, other);
                if kind == PromptKind::Filter {
                    state.sessions.filter = input.text().to_string();
                }
                state.layer = Some(Layer::Prompt { kind, input });
                Vec::new()
            }
        },
    }
}

fn submit_prompt(state: &mut State, kind: PromptKind, text: String) -> Vec<Effect> {
    let path = || std::path::PathBuf::from(expand_home(&text));
    match kind {
        PromptKind::NewSession if !text.is_empty() => vec![Effect::CreateSession(path())],
        PromptKind::Rename if !text.is_empty() => match state.sessions.selected_item() {
            Some(item) if item.name != text => vec![Effect::RenameSession {
                dir: item.path.clone(),
                to: text,
            }],
            _ => Vec::new(),
        },
        PromptKind::MaskFile if !text.is_empty() => {
            let Some(view) = &state.session else {
                return Vec::new();
            };
            let target = match state.focus {
                Focus::Plan => MaskTarget::PlanStep(state.plan.as_ref().map_or(0, |p| p.selected)),
                _ => MaskTarget::NextEdit,
            };
            state.mask_pending = Some(target);
            vec![Effect::LoadMask {
                dir: view.dir.clone(),
                path: path(),
            }]
        }
        PromptKind::Field(f) => plan::set_field(state, f, &text),
        PromptKind::RecipePrompt => plan::set_prompt(state, &text),
        _ => Vec::new(),
    }
}

fn expand_home(text: &str) -> String {
    match (text.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => text.to_string(),
    }
}

/// Keys while the instruction line has the focus.
pub fn instruction(state: &mut State, c: Command) -> Vec<Effect> {
    match c {
        Command::Confirm => plan::start(state),
        Command::Back => {
            state.focus = Focus::Steps;
            Vec::new()
        }
        Command::Quit => {
            state.quit = true;
            Vec::new()
        }
        other => {
            edit(&mut state.input, other);
            Vec::new()
        }
    }
}
