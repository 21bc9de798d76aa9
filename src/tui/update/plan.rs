//! Plan review: the instruction split into steps, edited field by field, then run.

use super::super::action::Command;
use super::super::effect::Effect;
use super::super::state::{
    DraftStep, Field, Focus, MaskTarget, PlanState, PromptKind, RunState, State,
};
use super::{jobs, mask, sessions, step};
use crate::core::{Op, Region, StepId};
use crate::session::StepRequest;

/// A fresh seed per call, reproducible from the state alone (no clock, no RNG in `update`).
pub fn next_seed(state: &mut State) -> u64 {
    state.seed_counter += 1;
    let mut z = state.seed_counter.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % 100_000
}

/// Plans the instruction line and opens the review.
pub fn start(state: &mut State) -> Vec<Effect> {
    let text = state.input.text().trim().to_string();
    let planned = match crate::plan::plan(&text) {
        Ok(p) => p,
        Err(e) => {
            state.error(e.to_string());
            return Vec::new();
        }
    };
    let mut steps = Vec::new();
    for p in planned.steps {
        let seed = next_seed(state);
        let drawn = match state.next_mask {
            Some(_) => crate::core::MaskSource::Drawn,
            None => crate::core::MaskSource::None,
        };
        let recipe = Some(crate::recipe::derive(&p, drawn));
        steps.push(DraftStep {
            // What the user called it ("红色T恤"), else its head: the words a mask is found from.
            target: p.subject.clone().or(p.target.clone()),
            op: p.op,
            instruction: p.instruction,
            strength: p.strength,
            seed,
            region: p.region,
            mask: state.next_mask.clone(),
            base: None,
            overlay: None,
            recipe,
        });
    }
    state.plan = Some(PlanState {
        steps,
        selected: 0,
        field: Field::Op,
    });
    state.focus = Focus::Plan;
    Vec::new()
}

/// The request that runs `d` on the output of `parent`.
/// The recipe goes along only for a generative engine (`generative`).
pub fn request(d: &DraftStep, parent: Option<StepId>, generative: bool) -> StepRequest {
    let mut params = d.base.clone().unwrap_or_default();
    params.strength = d.strength;
    params.seed = d.seed;
    params.region = d.region;
    if d.mask.is_some() {
        // The mask carries its own grow and feather.
        params.grow = 0;
        params.feather = 0;
    }
    StepRequest {
        parent,
        op: d.op,
        instruction: d.instruction.clone(),
        recipe: d.recipe.clone().filter(|_| generative).map(|mut r| {
            r.strength = params.strength;
            r.steps = params.steps;
            if let Some(m) = &d.mask {
                r.mask_source = match m.shape {
                    crate::core::MaskShape::File { .. } => crate::core::MaskSource::File,
                    _ => crate::core::MaskSource::Drawn,
                };
            }
            r
        }),
        mask_spec: d.mask.clone(),
        mask: None,
        overlay: d.overlay.clone(),
        params,
    }
}

/// Starts running `drafts` as a chain from `parent`.
pub fn run(state: &mut State, drafts: Vec<DraftStep>, parent: Option<StepId>) -> Vec<Effect> {
    if state.run.is_some() {
        state.error("a job is running: wait for it or cancel it with x");
        return Vec::new();
    }
    if let Some(i) = drafts.iter().position(|d| d.instruction.trim().is_empty()) {
        state.error(format!(
            "step {} has no text: press e on its text to write one",
            i + 1
        ));
        return Vec::new();
    }
    let Some(view) = &state.session else {
        return Vec::new();
    };
    state.run = Some(RunState {
        dir: view.dir.clone(),
        total: drafts.len(),
        queue: drafts.into(),
        current: None,
        parent,
        done: 0,
        progress: None,
        position: 0,
        elapsed: Default::default(),
        cancelling: false,
    });
    jobs::submit_next(state)
}

pub fn command(state: &mut State, c: Command) -> Vec<Effect> {
    let Some(plan) = &mut state.plan else {
        state.focus = Focus::Steps;
        return Vec::new();
    };
    let n = plan.steps.len();
    let i = plan.selected.min(n.saturating_sub(1));
    let fi = Field::ALL
        .iter()
        .position(|f| *f == plan.field)
        .unwrap_or(0);
    match c {
        Command::Down => plan.selected = step(i, n, 1),
        Command::Up => plan.selected = step(i, n, -1),
        Command::NextField | Command::Right => plan.field = Field::ALL[(fi + 1) % 5],
        Command::PrevField | Command::Left => plan.field = Field::ALL[(fi + 4) % 5],
        Command::EditField | Command::Confirm if n > 0 => {
            let d = &plan.steps[i];
            let value = match plan.field {
                Field::Op => d.op.to_string(),
                Field::Text => d.instruction.clone(),
                Field::Strength => format!("{:.2}", d.strength),
                Field::Seed => d.seed.to_string(),
                Field::Region => d.region.map(|r| r.to_string()).unwrap_or_default(),
            };
            let field = plan.field;
            sessions::prompt(state, PromptKind::Field(field), &value);
        }
        Command::EditPrompt if n > 0 => match plan.steps[i].recipe.as_ref() {
            Some(r) => {
                let value = r.prompt.clone();
                sessions::prompt(state, PromptKind::RecipePrompt, &value);
            }
            None => state.error("this step has no recipe: it was not planned from words"),
        },
        Command::CycleOp if n > 0 => {
            let d = &mut plan.steps[i];
            let k = Op::ALL.iter().position(|o| *o == d.op).unwrap_or(0);
            d.op = Op::ALL[(k + 1) % Op::ALL.len()];
        }
        Command::CycleRegion if n > 0 => {
            let named: Vec<Region> = Region::named().collect();
            let d = &mut plan.steps[i];
            d.region = match d.region.and_then(|r| named.iter().position(|n| *n == r)) {
                None => named.first().copied(),
                Some(k) => named.get(k + 1).copied(),
            };
        }
        Command::StrengthUp | Command::StrengthDown if n > 0 => {
            let delta = if c == Command::StrengthUp {
                0.05
            } else {
                -0.05
            };
            let d = &mut plan.steps[i];
            d.strength = ((d.strength + delta).clamp(0.0, 1.0) * 100.0).round() / 100.0;
        }
        Command::NewSeed if n > 0 => {
            let seed = next_seed(state);
            if let Some(p) = &mut state.plan {
                p.steps[i].seed = seed;
            }
        }
        Command::MoveStepUp if i > 0 => {
            plan.steps.swap(i, i - 1);
            plan.selected = i - 1;
        }
        Command::MoveStepDown if i + 1 < n => {
            plan.steps.swap(i, i + 1);
            plan.selected = i + 1;
        }
        Command::DeleteStep if n > 0 => {
            plan.steps.remove(i);
            plan.selected = i.min(plan.steps.len().saturating_sub(1));
            if plan.steps.is_empty() {
                state.plan = None;
                state.focus = Focus::Input;
            }
        }
        Command::AddStep => {
            let seed = next_seed(state);
            if let Some(p) = &mut state.plan {
                let at = if p.steps.is_empty() { 0 } else { i + 1 };
                p.steps.insert(
                    at,
                    DraftStep {
                        op: Op::Edit,
                        instruction: String::new(),
                        strength: 0.6,
                        seed,
                        region: None,
                        mask: None,
                        base: None,
                        overlay: None,
                        recipe: None,
                        target: None,
                    },
                );
                p.selected = at;
                p.field = Field::Text;
            }
            sessions::prompt(state, PromptKind::Field(Field::Text), "");
        }
        Command::MaskEdit if n > 0 => return mask::begin(state, MaskTarget::PlanStep(i)),
        Command::MaskLoad if n > 0 => sessions::prompt(state, PromptKind::MaskFile, ""),
        Command::RunAll => {
            let drafts = plan.steps.clone();
            return start_run(state, drafts);
        }
        Command::RunOne if n > 0 => {
            let drafts = vec![plan.steps[i].clone()];
            return start_run(state, drafts);
        }
        Command::Back => {
            state.plan = None;
            state.focus = Focus::Input;
        }
        Command::Quit => state.quit = true,
        _ => {}
    }
    Vec::new()
}

fn start_run(state: &mut State, drafts: Vec<DraftStep>) -> Vec<Effect> {
    let head = state.session.as_ref().and_then(|v| v.doc.head);
    let effects = run(state, drafts, head);
    if state.run.is_some() {
        state.plan = None;
        state.focus = Focus::Steps;
        state.input.clear();
        state.next_mask = None;
    }
    effects
}

/// Sets a planned step's field from a prompt; a bad value is reported by field and value.
pub fn set_field(state: &mut State, f: Field, text: &str) -> Vec<Effect> {
    let Some(plan) = &mut state.plan else {
        return Vec::new();
    };
    let Some(d) = plan.steps.get_mut(plan.selected) else {
        return Vec::new();
    };
    let result: Result<(), String> = match f {
        Field::Op => text
            .parse()
            .map(|op| d.op = op)
            .map_err(|e: crate::core::ParseOpError| e.to_string()),
        Field::Text if text.is_empty() => Err("text: say what this step changes".into()),
        Field::Text => {
            d.instruction = text.to_string();
            Ok(())
        }
        Field::Strength => match text.parse::<f32>() {
            Ok(v) if (0.0..=1.0).contains(&v) => {
                d.strength = v;
                Ok(())
            }
            _ => Err(format!("strength '{text}' is not a number in [0, 1]")),
        },
        Field::Seed => text
            .parse::<u64>()
            .map(|s| d.seed = s)
            .map_err(|_| format!("seed '{text}' is not a whole number >= 0")),
        Field::Region if text.is_empty() || text == "none" => {
            d.region = None;
            Ok(())
        }
        Field::Region => text
            .parse::<Region>()
            .map(|r| d.region = Some(r))
            .map_err(|e| e.to_string()),
    };
    if let Err(e) = result {
        state.error(e);
    }
    Vec::new()
}

/// Sets the selected planned step's recipe prompt.
pub fn set_prompt(state: &mut State, text: &str) -> Vec<Effect> {
    let step = state
        .plan
        .as_mut()
        .and_then(|p| p.steps.get_mut(p.selected));
    match step.and_then(|d| d.recipe.as_mut()) {
        Some(_) if text.trim().is_empty() => {
            state.error("prompt: say what the picture should show")
        }
        Some(r) => r.prompt = text.to_string(),
        None => {}
    }
    Vec::new()
}
