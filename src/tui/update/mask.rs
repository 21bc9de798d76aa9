//! Masks from the keyboard: a rectangle or ellipse moved and resized in image pixels, grown and
//! feathered, then attached to the next edit or to a planned step.

use super::super::action::Command;
use super::super::effect::Effect;
use super::super::state::{Focus, MaskEdit, MaskSpec, MaskTarget, SessionView, Shape, State};
use crate::core::{ImageRef, Rect};

const GROW_STEP: u32 = 4;

fn size_of(view: &SessionView) -> (u32, u32) {
    view.image_size.unwrap_or((512, 512))
}

/// A centred rectangle a third of the image, the starting point for a new mask.
fn initial(view: &SessionView) -> MaskSpec {
    let (w, h) = size_of(view);
    MaskSpec {
        shape: Shape::Rect,
        rect: Rect {
            x: w / 3,
            y: h / 3,
            w: (w / 3).max(1),
            h: (h / 3).max(1),
        },
        grow: 0,
        feather: 0,
        file: None,
    }
}

pub fn pending(view: &SessionView, target: MaskTarget) -> MaskEdit {
    MaskEdit {
        spec: initial(view),
        target,
    }
}

fn current(state: &State, target: MaskTarget) -> Option<MaskSpec> {
    match target {
        MaskTarget::NextEdit => state.next_mask.clone(),
        MaskTarget::PlanStep(i) => state
            .plan
            .as_ref()
            .and_then(|p| p.steps.get(i))
            .and_then(|d| d.mask.clone()),
    }
}

fn set(state: &mut State, target: MaskTarget, spec: Option<MaskSpec>) {
    match target {
        MaskTarget::NextEdit => state.next_mask = spec,
        MaskTarget::PlanStep(i) => {
            if let Some(d) = state.plan.as_mut().and_then(|p| p.steps.get_mut(i)) {
                d.mask = spec;
            }
        }
    }
}

pub fn begin(state: &mut State, target: MaskTarget) -> Vec<Effect> {
    let Some(view) = &state.session else {
        return Vec::new();
    };
    let mut spec = current(state, target)
        .filter(|s| s.rect.w > 0)
        .unwrap_or_else(|| initial(view));
    spec.file = None;
    state.mask_edit = Some(MaskEdit { spec, target });
    state.focus = Focus::Mask;
    state.info(
        "mask: hjkl move, HJKL resize, Ctrl for big steps, e ellipse, g/f grow/feather, Enter use",
    );
    Vec::new()
}

fn leave(state: &mut State, target: MaskTarget) {
    state.mask_edit = None;
    state.focus = match target {
        MaskTarget::NextEdit => Focus::Steps,
        MaskTarget::PlanStep(_) => Focus::Plan,
    };
}

pub fn command(state: &mut State, c: Command) -> Vec<Effect> {
    let Some(view) = &state.session else {
        return Vec::new();
    };
    let (iw, ih) = size_of(view);
    let dir = view.dir.clone();
    let Some(edit) = &mut state.mask_edit else {
        state.focus = Focus::Steps;
        return Vec::new();
    };
    let target = edit.target;
    let small = (iw.max(ih) / 50).max(1) as i64;
    let big = (iw.max(ih) / 10).max(1) as i64;
    let r = &mut edit.spec.rect;
    let (mut x, mut y, mut w, mut h) = (r.x as i64, r.y as i64, r.w as i64, r.h as i64);
    match c {
        Command::MoveLeft => x -= small,
        Command::MoveRight => x += small,
        Command::MoveUp => y -= small,
        Command::MoveDown => y += small,
        Command::MoveLeftBig => x -= big,
        Command::MoveRightBig => x += big,
        Command::MoveUpBig => y -= big,
        Command::MoveDownBig => y += big,
        Command::Narrower => w -= small,
        Command::Wider => w += small,
        Command::Shorter => h -= small,
        Command::Taller => h += small,
        Command::MaskShape => {
            edit.spec.shape = match edit.spec.shape {
                Shape::Rect => Shape::Ellipse,
                Shape::Ellipse => Shape::Rect,
            }
        }
        Command::Grow => edit.spec.grow += GROW_STEP,
        Command::Shrink => edit.spec.grow = edit.spec.grow.saturating_sub(GROW_STEP),
        Command::FeatherMore => edit.spec.feather += GROW_STEP,
        Command::FeatherLess => edit.spec.feather = edit.spec.feather.saturating_sub(GROW_STEP),
        Command::Confirm => {
            let spec = edit.spec.clone();
            leave(state, target);
            if spec.shape == Shape::Ellipse {
                state.mask_pending = Some(MaskEdit {
                    spec: spec.clone(),
                    target,
                });
                return vec![Effect::StoreEllipse {
                    dir,
                    size: (iw, ih),
                    rect: spec.rect,
                }];
            }
            let msg = format!(
                "mask {},{} {}x{} set",
                spec.rect.x, spec.rect.y, spec.rect.w, spec.rect.h
            );
            set(state, target, Some(spec));
            state.info(msg);
            return Vec::new();
        }
        Command::MaskClear => {
            leave(state, target);
            set(state, target, None);
            return Vec::new();
        }
        Command::Back => {
            leave(state, target);
            return Vec::new();
        }
        Command::Quit => {
            state.quit = true;
            return Vec::new();
        }
        _ => {}
    }
    // Keep the rectangle at least one pixel and inside the image.
    w = w.clamp(1, iw as i64);
    h = h.clamp(1, ih as i64);
    x = x.clamp(0, iw as i64 - w);
    y = y.clamp(0, ih as i64 - h);
    *r = Rect {
        x: x as u32,
        y: y as u32,
        w: w as u32,
        h: h as u32,
    };
    Vec::new()
}

/// A mask image arrived in the session's store: attach it where it was meant to go.
pub fn stored(state: &mut State, r: ImageRef) -> Vec<Effect> {
    if let Some(mut edit) = state.mask_pending.take() {
        edit.spec.file = Some(r.clone());
        set(state, edit.target, Some(edit.spec));
        state.info(format!("mask {} stored in the session", short(&r.path)));
    }
    Vec::new()
}

fn short(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.chars().take(12).collect()
}
