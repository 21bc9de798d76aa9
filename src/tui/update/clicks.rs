//! Masks found by Segment Anything from the keyboard: a crosshair moved in image pixels, points
//! added to keep or to leave out (or the drawn rectangle sent as a box), each change segmented
//! off the UI thread, the candidates cycled, and the choice kept as a points or box `MaskSpec`
//! that records the model, so the runner and replay find the same mask again.

use super::super::action::{Command, SegmentReply};
use super::super::effect::Effect;
use super::super::state::{ClickEdit, MaskEdit, State};
use crate::core::{MaskPoint, MaskShape, MaskSpec, Rect, Segmenter};

/// Starts clicking from the current shape (its centre, or its box for `boxed`).
pub fn begin(state: &mut State, boxed: bool) -> Vec<Effect> {
    let Some(view) = &state.session else {
        return Vec::new();
    };
    let size = view.image_size.unwrap_or((512, 512));
    let image = view.doc.head_image().clone();
    let Some(edit) = &mut state.mask_edit else {
        return Vec::new();
    };
    let r = edit.spec.shape.bounds().unwrap_or(Rect {
        x: size.0 / 3,
        y: size.1 / 3,
        w: (size.0 / 3).max(1),
        h: (size.1 / 3).max(1),
    });
    let cursor = (
        (r.x + r.w / 2).min(size.0.saturating_sub(1)),
        (r.y + r.h / 2).min(size.1.saturating_sub(1)),
    );
    edit.clicks = Some(ClickEdit {
        cursor,
        points: Vec::new(),
        boxed: boxed.then_some(r),
        image,
        size,
        found: None,
        pick: 0,
        seq: 0,
        segmenting: false,
    });
    if boxed {
        return resend(state);
    }
    state.info(
        "clicks: hjkl move (HJKL, Ctrl: big), a keep, x leave out, u undo, c next candidate, \
         s shapes, Enter use",
    );
    Vec::new()
}

/// The prompt as a mask spec, with the model that found the shown candidate.
pub fn spec_of(c: &ClickEdit, grow: u32, feather: u32) -> MaskSpec {
    let segmenter = c.found.as_ref().map(|f| Segmenter {
        model: f.model.clone(),
        digest: f.digest.clone(),
        candidate: c.pick as u32,
        width: c.size.0,
        height: c.size.1,
    });
    MaskSpec {
        shape: MaskShape::prompt(c.points.clone(), c.boxed, segmenter),
        grow,
        feather,
    }
}

/// Asks for the current prompt's candidates (a newer answer replaces an older one).
pub fn resend(state: &mut State) -> Vec<Effect> {
    let (Some(view), Some(edit)) = (&state.session, &mut state.mask_edit) else {
        return Vec::new();
    };
    let dir = view.dir.clone();
    let Some(c) = &mut edit.clicks else {
        return Vec::new();
    };
    if c.points.is_empty() && c.boxed.is_none() {
        c.found = None;
        c.segmenting = false;
        return Vec::new();
    }
    c.seq += 1;
    c.segmenting = true;
    let mut mask = spec_of(c, 0, 0);
    // The model is chosen by the request; the recorded one comes with the answer.
    match &mut mask.shape {
        MaskShape::Points { segmenter, .. } | MaskShape::Box { segmenter, .. } => *segmenter = None,
        _ => {}
    }
    let effect = Effect::Segment {
        dir,
        image: c.image.clone(),
        mask: Box::new(mask),
        model: state.segment_model.clone(),
        seq: c.seq,
    };
    state.info("segmenting…");
    vec![effect]
}

/// Keys while clicking; `None` for those the shape editor handles the same way (grow,
/// feather, clear, back, quit).
pub fn command(state: &mut State, c: Command) -> Option<Vec<Effect>> {
    let edit = state.mask_edit.as_mut()?;
    let clicks = edit.clicks.as_mut()?;
    let (w, h) = clicks.size;
    let small = (w.max(h) / 50).max(1) as i64;
    let big = (w.max(h) / 10).max(1) as i64;
    let (mut x, mut y) = (clicks.cursor.0 as i64, clicks.cursor.1 as i64);
    match c {
        Command::MoveLeft => x -= small,
        Command::MoveRight => x += small,
        Command::MoveUp => y -= small,
        Command::MoveDown => y += small,
        Command::MoveLeftBig | Command::Narrower => x -= big,
        Command::MoveRightBig | Command::Wider => x += big,
        Command::MoveUpBig | Command::Shorter => y -= big,
        Command::MoveDownBig | Command::Taller => y += big,
        Command::PointAdd | Command::PointNeg => {
            let positive = c == Command::PointAdd;
            let (x, y) = clicks.cursor;
            clicks.points.retain(|p| (p.x, p.y) != (x, y));
            clicks.points.push(MaskPoint { x, y, positive });
            return Some(resend(state));
        }
        Command::PointUndo => {
            if clicks.points.pop().is_none() {
                clicks.boxed = None;
            }
            return Some(resend(state));
        }
        Command::NextCandidate => {
            let n = clicks.found.as_ref().map_or(0, |f| f.candidates.len());
            if n == 0 {
                state.info("no candidates yet: add a point with a");
                return Some(Vec::new());
            }
            clicks.pick = (clicks.pick + 1) % n;
            let text = describe(clicks);
            state.info(text);
            return Some(Vec::new());
        }
        Command::Segment => {
            edit.clicks = None;
            state.info("shapes: hjkl move, HJKL resize, e ellipse, b box for the model");
            return Some(Vec::new());
        }
        Command::Confirm => {
            // The shown candidate must be the answer to the clicks as they are now.
            if clicks.found.is_none() || clicks.segmenting {
                let why = if clicks.segmenting {
                    "still segmenting: wait for the mask, then Enter"
                } else {
                    "no mask yet: add a point with a (x leaves out), or s for shapes"
                };
                state.info(why);
                return Some(Vec::new());
            }
            let spec = spec_of(clicks, edit.spec.grow, edit.spec.feather);
            edit.spec = spec;
            edit.clicks = None;
            return None;
        }
        _ => return None,
    }
    clicks.cursor = (
        x.clamp(0, w as i64 - 1) as u32,
        y.clamp(0, h as i64 - 1) as u32,
    );
    Some(Vec::new())
}

fn describe(c: &ClickEdit) -> String {
    let Some(f) = &c.found else {
        return "no candidates".into();
    };
    let Some(best) = f.candidates.get(c.pick) else {
        return "no candidates".into();
    };
    format!(
        "candidate {}/{} · IoU {:.2} · {} px · c next",
        c.pick + 1,
        f.candidates.len(),
        best.iou,
        best.area
    )
}

/// A segmentation answered: shown when it is the latest asked for.
pub fn segmented(state: &mut State, seq: u64, result: Result<SegmentReply, String>) -> Vec<Effect> {
    let Some(MaskEdit {
        clicks: Some(c), ..
    }) = &mut state.mask_edit
    else {
        return Vec::new();
    };
    if seq != c.seq {
        return Vec::new();
    }
    c.segmenting = false;
    match result {
        Ok(reply) if reply.candidates.is_empty() => {
            c.found = None;
            state.error("the model found no mask for these clicks");
        }
        Ok(reply) => {
            c.found = Some(reply);
            c.pick = 0;
            let text = describe(c);
            state.info(text);
        }
        Err(e) => {
            c.found = None;
            state.error(e);
        }
    }
    Vec::new()
}
