//! The session screen: moving through the step tree, checkout, undo, retry, replay, cancel,
//! and the job events that move a running chain along.

use super::super::action::Command;
use super::super::backend::JobEvent;
use super::super::effect::Effect;
use super::super::state::{DraftStep, Focus, PreviewMode, Screen, State};
use super::{mask, plan, sessions, step};
use crate::core::{MaskShape, MaskSpec, Status, Step};

pub fn command(state: &mut State, c: Command) -> Vec<Effect> {
    let Some(view) = &mut state.session else {
        state.screen = Screen::Sessions;
        return Vec::new();
    };
    let n = view.rows.len();
    match c {
        Command::Down => view.selected = step(view.selected, n, 1),
        Command::Up => view.selected = step(view.selected, n, -1),
        Command::Top => view.selected = 0,
        Command::Bottom => view.selected = n.saturating_sub(1),
        Command::FocusInput => state.focus = Focus::Input,
        Command::Checkout | Command::Confirm => {
            let id = view.selected_id();
            if let Some(s) = id.and_then(|i| view.doc.step(i)) {
                if s.output.is_none() {
                    let msg = format!(
                        "step #{} is {} and has no image to check out: press r to retry it",
                        s.id, s.status
                    );
                    state.error(msg);
                    return Vec::new();
                }
            }
            let dir = view.dir.clone();
            state.info(match id {
                Some(i) => format!("head is #{i}: the next edit branches from it"),
                None => "head is the source image".into(),
            });
            return vec![Effect::Checkout { dir, step: id }];
        }
        Command::Undo => {
            if view.doc.head.is_none() {
                state.error("nothing to undo: head is the source image");
                return Vec::new();
            }
            return vec![Effect::Undo(view.dir.clone())];
        }
        Command::Cancel => match &mut state.run {
            Some(run) => {
                run.queue.clear();
                run.cancelling = true;
                if let Some(job) = run.current {
                    return vec![Effect::Cancel(job)];
                }
            }
            None => state.info("no job is running"),
        },
        Command::Retry => {
            let Some(s) = view.selected_id().and_then(|i| view.doc.step(i)) else {
                state.error("select a failed step to retry");
                return Vec::new();
            };
            if s.status == Status::Done {
                let msg = format!("step #{} is done: check it out and edit instead", s.id);
                state.error(msg);
                return Vec::new();
            }
            let (draft, parent) = (draft_of(s), s.parent);
            return plan::run(state, vec![draft], parent);
        }
        Command::Replay => {
            let chain: Vec<DraftStep> = view
                .doc
                .chain_to(view.doc.head)
                .into_iter()
                .map(draft_of)
                .collect();
            if chain.is_empty() {
                state.error("nothing to replay: head is the source image");
                return Vec::new();
            }
            let count = chain.len();
            let effects = plan::run(state, chain, None);
            if state.run.is_some() {
                state.info(format!(
                    "replaying {count} steps from the source as a new branch"
                ));
            }
            return effects;
        }
        Command::ToggleBefore => {
            view.preview = match view.preview {
                PreviewMode::Before => PreviewMode::After,
                _ => PreviewMode::Before,
            }
        }
        Command::ToggleSplit => {
            view.preview = match view.preview {
                PreviewMode::Split => PreviewMode::After,
                _ => PreviewMode::Split,
            }
        }
        Command::MaskEdit => return mask::begin(state, super::super::state::MaskTarget::NextEdit),
        Command::MaskLoad => sessions::prompt(state, super::super::state::PromptKind::MaskFile, ""),
        Command::MaskClear => {
            state.next_mask = None;
            state.info("mask cleared");
        }
        Command::Back => {
            state.screen = Screen::Sessions;
            return vec![Effect::ListSessions];
        }
        _ => {}
    }
    Vec::new()
}

/// A draft that re-runs a recorded step with its op, text, params, mask and overlay.
fn draft_of(s: &Step) -> DraftStep {
    DraftStep {
        op: s.op,
        instruction: s.instruction.clone(),
        strength: s.params.strength,
        seed: s.params.seed,
        region: s.params.region,
        // The spec as asked, else (a step from an older zedit) its mask image; the recorded
        // params keep any grow and feather that applied to that image.
        mask: s.mask_spec.clone().or_else(|| {
            s.mask
                .as_ref()
                .map(|m| MaskSpec::new(MaskShape::File { image: m.clone() }))
        }),
        base: Some(s.params.clone()),
        overlay: s.overlay.clone(),
        recipe: s.recipe.clone(),
        target: match s.mask_spec.as_ref().map(|m| &m.shape) {
            Some(MaskShape::Text { target, .. }) => Some(target.clone()),
            _ => None,
        },
    }
}

/// Submits the next queued step of the running chain, or ends the run.
pub fn submit_next(state: &mut State) -> Vec<Effect> {
    let loras = super::loras::refs(state);
    let Some(run) = &mut state.run else {
        return Vec::new();
    };
    match run.queue.pop_front() {
        Some(d) => {
            run.current = None;
            run.progress = None;
            let generative = !matches!(state.engine.as_str(), "" | "classic");
            let mut req = plan::request(&d, run.parent, generative);
            if let Some(r) = &mut req.recipe {
                r.loras = loras;
            }
            vec![Effect::Submit {
                dir: run.dir.clone(),
                req: Box::new(req),
            }]
        }
        None => {
            state.run = None;
            Vec::new()
        }
    }
}

pub fn event(state: &mut State, ev: JobEvent) -> Vec<Effect> {
    if let JobEvent::Runner { state: text, note } = &ev {
        state.backend = text.clone();
        if let Some(n) = note {
            if n.error {
                state.error(n.text.clone());
            } else {
                state.info(n.text.clone());
            }
        }
        return Vec::new();
    }
    let Some(run) = &mut state.run else {
        return Vec::new();
    };
    if run.current.is_some_and(|j| Some(j) != ev.job()) {
        return Vec::new();
    }
    let dir = run.dir.clone();
    match ev {
        JobEvent::Accepted { job, position } => {
            run.current = Some(job);
            run.position = position;
            Vec::new()
        }
        JobEvent::Started { job, .. } => {
            run.current = Some(job);
            // The step is now recorded as running; show it in the tree.
            vec![Effect::OpenSession(dir)]
        }
        JobEvent::Progress { job, step, total } => {
            run.current = Some(job);
            run.progress = Some((step, total));
            Vec::new()
        }
        JobEvent::Done { step, .. } => {
            let mut effects = vec![Effect::OpenSession(dir)];
            match step.status {
                Status::Done => {
                    run.done += 1;
                    run.parent = Some(step.id);
                    let (done, total) = (run.done, run.total);
                    let took = step.took_ms.unwrap_or(0);
                    state.info(format!(
                        "step #{} {} done in {took} ms ({done}/{total})",
                        step.id, step.op
                    ));
                    effects.extend(submit_next(state));
                }
                Status::Cancelled => {
                    state.run = None;
                    state.info(format!("step #{} cancelled", step.id));
                }
                _ => {
                    state.run = None;
                    state.error(format!(
                        "step #{} {} failed: {} (select it and press r to retry)",
                        step.id,
                        step.op,
                        step.error
                            .as_ref()
                            .map_or("no reason given", |e| e.message.as_str())
                    ));
                }
            }
            effects
        }
        JobEvent::Failed { kind, message, .. } => {
            state.run = None;
            state.error(format!("job failed ({kind}): {message}"));
            vec![Effect::OpenSession(dir)]
        }
        JobEvent::Cancelled { .. } => {
            state.run = None;
            state.info("job cancelled");
            vec![Effect::OpenSession(dir)]
        }
        JobEvent::Runner { .. } => Vec::new(),
    }
}
