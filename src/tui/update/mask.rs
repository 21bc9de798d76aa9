//! Masks from the keyboard: a rectangle or ellipse moved and resized in image pixels, grown and
//! feathered, then attached to the next edit or to a planned step as a `MaskSpec`. Nothing is
//! rasterised here: the runner does that, and the preview draws the same spec.

use super::super::action::Command;
use super::super::effect::Effect;
use super::super::state::{Focus, MaskEdit, MaskTarget, SessionView, State};
use crate::core::{ImageRef, MaskShape, MaskSpec, Rect, Region};

const GROW_STEP: u32 = 4;

fn size_of(view: &SessionView) -> (u32, u32) {
    view.image_size.unwrap_or((512, 512))
}

/// A centred rectangle a third of the image, the starting point for a new mask.
fn initial(view: &SessionView) -> MaskSpec {
    let (w, h) = size_of(view);
    MaskSpec::new(MaskShape::rect(Rect {
        x: w / 3,
        y: h / 3,
        w: (w / 3).max(1),
        h: (h / 3).max(1),
    }))
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
    // Only drawn shapes are edited; a mask file starts over from a rectangle.
    let kept = current(state, target);
    // Clicks and boxes given to the model are taken up again as clicks.
    let clicked = kept.as_ref().and_then(|s| match &s.shape {
        MaskShape::Points { points, .. } => Some((points.clone(), None)),
        MaskShape::Box {
            x, y, w, h, points, ..
        } => Some((
            points.clone(),
            Some(Rect {
                x: *x,
                y: *y,
                w: *w,
                h: *h,
            }),
        )),
        _ => None,
    });
    let spec = kept
        .filter(|s| matches!(s.shape, MaskShape::Rect { .. } | MaskShape::Ellipse { .. }))
        .unwrap_or_else(|| initial(view));
    state.mask_edit = Some(MaskEdit {
        spec,
        target,
        clicks: None,
    });
    state.focus = Focus::Mask;
    state.info(
        "mask: hjkl move, HJKL resize, Ctrl big steps, e ellipse, g/f grow/feather, s clicks for \
         the model, b box for the model, t the step's words, Enter use",
    );
    if let Some((points, boxed)) = clicked {
        let mut effects = super::clicks::begin(state, boxed.is_some());
        if let Some(c) = state.mask_edit.as_mut().and_then(|e| e.clicks.as_mut()) {
            c.points = points;
            c.boxed = boxed;
            effects = super::clicks::resend(state);
        }
        return effects;
    }
    Vec::new()
}

/// The words the mask is for and the part of the frame they name: the planned step's, or
/// those of the typed instruction's first step that names a target.
fn target_words(state: &State, target: MaskTarget) -> Option<(String, Option<Region>)> {
    match target {
        MaskTarget::PlanStep(i) => {
            let d = state.plan.as_ref()?.steps.get(i)?;
            Some((d.target.clone()?, d.region))
        }
        MaskTarget::NextEdit => crate::plan::plan(state.input.text())
            .ok()?
            .steps
            .into_iter()
            .find_map(|s| Some((s.subject.or(s.target)?, s.region))),
    }
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
    if let Some(effects) = super::clicks::command(state, c) {
        return effects;
    }
    let Some(edit) = &mut state.mask_edit else {
        state.focus = Focus::Steps;
        return Vec::new();
    };
    let target = edit.target;
    match c {
        Command::Segment => return super::clicks::begin(state, false),
        Command::SegmentBox => return super::clicks::begin(state, true),
        Command::MaskWords => {
            let (grow, feather) = (edit.spec.grow, edit.spec.feather);
            let Some((words, region)) = target_words(state, target) else {
                state.error("no target words: the plan names nothing this step acts on");
                return Vec::new();
            };
            let spec = MaskSpec {
                shape: MaskShape::Text {
                    target: words,
                    region,
                    grounder: None,
                },
                grow,
                feather,
            };
            leave(state, target);
            state.info(format!("mask from the words {spec}"));
            set(state, target, Some(spec));
            return Vec::new();
        }
        _ => {}
    }
    let Some(edit) = &mut state.mask_edit else {
        return Vec::new();
    };
    let small = (iw.max(ih) / 50).max(1) as i64;
    let big = (iw.max(ih) / 10).max(1) as i64;
    let ellipse = matches!(edit.spec.shape, MaskShape::Ellipse { .. });
    let r = edit.spec.shape.bounds().unwrap_or(Rect {
        x: 0,
        y: 0,
        w: 1,
        h: 1,
    });
    let (mut x, mut y, mut w, mut h) = (r.x as i64, r.y as i64, r.w as i64, r.h as i64);
    let mut ellipse_next = ellipse;
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
        Command::MaskShape => ellipse_next = !ellipse,
        Command::Grow => edit.spec.grow += GROW_STEP,
        Command::Shrink => edit.spec.grow = edit.spec.grow.saturating_sub(GROW_STEP),
        Command::FeatherMore => edit.spec.feather += GROW_STEP,
        Command::FeatherLess => edit.spec.feather = edit.spec.feather.saturating_sub(GROW_STEP),
        Command::Confirm => {
            let spec = edit.spec.clone();
            leave(state, target);
            state.info(format!("mask {spec} set"));
            set(state, target, Some(spec));
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
    let r = Rect {
        x: x as u32,
        y: y as u32,
        w: w as u32,
        h: h as u32,
    };
    edit.spec.shape = if ellipse_next {
        MaskShape::ellipse(r)
    } else {
        MaskShape::rect(r)
    };
    Vec::new()
}

/// A mask file arrived in the session's store: attach it where it was meant to go.
pub fn stored(state: &mut State, r: ImageRef) -> Vec<Effect> {
    if let Some(target) = state.mask_pending.take() {
        let spec = MaskSpec::new(MaskShape::File { image: r });
        state.info(format!("mask {spec} stored in the session"));
        set(state, target, Some(spec));
    }
    Vec::new()
}
