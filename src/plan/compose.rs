//! Writing the steps: each step's instruction in the user's language, standing alone, with its
//! target, suggested strength and mask advice.

use super::classify::Kind;
use super::lexicon::{has_light, is_chinese, is_colour_only};
use super::order::{Draft, Extra};
use super::target::{head, is_frame_part, is_whole_image, locate};
use super::PlannedStep;
use crate::core::{Op, Region};

pub fn is_zh(text: &str) -> bool {
    is_chinese(text)
}

/// Suggested denoise strength. Light and colour keep the structure, so they need little;
/// delete and a new subject need the model to invent pixels.
pub fn strength(op: Op, swaps_being: bool) -> f32 {
    match op {
        Op::Delete => 0.8,
        Op::Add => 0.75,
        Op::Replace if swaps_being => 0.85,
        Op::Replace => 0.8,
        Op::Recolor => 0.5,
        Op::Relight => 0.4,
        Op::Restyle | Op::Edit => 0.6,
    }
}

/// The finished step.
pub fn finish(draft: Draft) -> PlannedStep {
    let target = draft.target.clone().or_else(|| target_of(&draft));
    // A mask keeps delete and add (and a local replace or recolor) from touching the rest.
    let mask_advised = match draft.op {
        Op::Delete | Op::Add => true,
        Op::Replace | Op::Recolor => target.is_some(),
        Op::Relight | Op::Restyle | Op::Edit => false,
    };
    PlannedStep {
        op: draft.op,
        instruction: instruction(&draft),
        target,
        region: draft.region,
        strength: strength(draft.op, draft.swaps_being),
        mask_advised,
        subject: subject_of(&draft),
        new_value: new_value_of(&draft),
        keep: keep_of(&draft),
        rule: draft.reading.rule.clone(),
    }
}

/// The thing acted on, without the place it is described by ("坐在沙发上的男人" → "男人").
fn subject_of(draft: &Draft) -> Option<String> {
    if matches!(draft.op, Op::Add | Op::Edit) {
        return None;
    }
    let subject = draft.reading.subject.as_deref()?;
    let core = locate(subject).core;
    let core = core.trim();
    (!core.is_empty()).then(|| core.to_string())
}

/// The new thing with the attributes said about it; an add written by the planner ("添加Y坐在
/// 沙发上") keeps its setting.
fn new_value_of(draft: &Draft) -> Option<String> {
    let zh = is_zh(&draft.clause);
    let main = match draft.op {
        Op::Delete | Op::Edit => return None,
        Op::Add => match &draft.rewritten {
            Some(text) => text
                .split_once("添加")
                .map(|(_, y)| y.to_string())
                .or_else(|| text.strip_prefix("Add ").map(str::to_string)),
            None => draft.reading.subject.clone(),
        },
        _ => draft.reading.value.clone(),
    }?;
    let extras = draft
        .extras
        .iter()
        .filter(|e| e.kind != Kind::Support)
        .map(|e| extra_text(e, zh));
    let text = std::iter::once(main)
        .chain(extras)
        .filter(|p| !p.trim().is_empty())
        .collect::<Vec<_>>()
        .join(if zh { "," } else { ", " });
    (!text.trim().is_empty()).then_some(text)
}

/// What the user asked to keep or complete ("保留沙发", "补全地面"), else what the subject was
/// described by ("坐在沙发上的男人" keeps the sofa).
fn keep_of(draft: &Draft) -> Option<String> {
    let support = draft
        .extras
        .iter()
        .filter(|e| e.kind == Kind::Support)
        .find_map(|e| super::classify::read(&e.text).subject);
    support.or_else(|| match draft.op {
        Op::Delete | Op::Add => draft
            .reading
            .subject
            .as_deref()
            .and_then(|s| locate(s).keep),
        _ => None,
    })
}

fn target_of(draft: &Draft) -> Option<String> {
    if draft.op == Op::Edit {
        return None;
    }
    let subject = draft.reading.subject.as_deref()?;
    // "把白天改成夜晚" relights the picture; "白天" is a time, not a thing to mask.
    let light_itself = draft.op == Op::Relight && (has_light(subject) || is_colour_only(subject));
    if is_whole_image(subject) || light_itself {
        return None;
    }
    head(subject).filter(|h| !is_frame_part(h))
}

fn instruction(draft: &Draft) -> String {
    let zh = is_zh(&draft.clause);
    let main = match &draft.rewritten {
        Some(text) => text.clone(),
        None if draft.reading.verbless && !zh => {
            // "with sunlight streaming in" said after a comma reads as "add sunlight …" alone.
            let lower = draft.clause.to_ascii_lowercase();
            match lower.strip_prefix("with ") {
                Some(_) => format!("Add {}", &draft.clause[5..]),
                None => draft.clause.clone(),
            }
        }
        None => draft.clause.clone(),
    };
    let extras = draft.extras.iter().map(|e| extra_text(e, zh));
    join(std::iter::once(main).chain(extras), zh)
}

fn extra_text(extra: &Extra, _zh: bool) -> String {
    // "面带微笑" qualifies a face the step already shows; the expression is what to send.
    extra
        .text
        .strip_prefix("面带")
        .unwrap_or(&extra.text)
        .to_string()
}

fn join(parts: impl Iterator<Item = String>, zh: bool) -> String {
    let parts: Vec<String> = parts.filter(|p| !p.trim().is_empty()).collect();
    let text = parts.join(if zh { "," } else { ", " });
    capitalize(&text)
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) if c.is_ascii_lowercase() => c.to_ascii_uppercase().to_string() + chars.as_str(),
        _ => text.to_string(),
    }
}

/// "把坐在沙发上的男人换成穿旗袍的女人" → "删除男人,保留沙发" and "添加穿旗袍的女人坐在沙发上".
pub fn split_replace(draft: &Draft) -> (Draft, Draft) {
    let zh = is_zh(&draft.clause);
    let old = draft.reading.subject.clone().unwrap_or_default();
    let new = draft.reading.value.clone().unwrap_or_default();
    let located = locate(&old);
    let (attributes, supports): (Vec<Extra>, Vec<Extra>) = draft
        .extras
        .iter()
        .cloned()
        .partition(|e| e.kind == Kind::Attribute);

    let mut delete_text = if zh {
        format!("删除{}", located.core)
    } else {
        format!("Remove {}", located.core)
    };
    if let Some(keep) = &located.keep {
        delete_text += &if zh {
            format!(",保留{keep}")
        } else {
            format!(", keep {keep}")
        };
    }
    let mut delete = draft.clone();
    delete.op = Op::Delete;
    delete.swaps_being = false;
    delete.rewritten = Some(delete_text);
    delete.extras = supports;

    let place = located
        .place
        .map(|p| if zh { p } else { format!(" {p}") })
        .unwrap_or_default();
    let frame = draft
        .region
        .filter(|_| !located.core.is_empty() && place.is_empty());
    let add_text = match (zh, frame.map(|r| region_phrase(r, zh))) {
        (true, Some(at)) => format!("在{at}添加{new}"),
        (true, None) => format!("添加{new}{place}"),
        (false, Some(at)) => format!("Add {new} {at}"),
        (false, None) => format!("Add {new}{place}"),
    };
    let mut add = draft.clone();
    add.op = Op::Add;
    add.swaps_being = false;
    add.rewritten = Some(add_text);
    add.target = head(&new);
    add.extras = attributes;
    (delete, add)
}

fn region_phrase(region: Region, zh: bool) -> &'static str {
    match (region, zh) {
        (Region::Left, true) => "画面左侧",
        (Region::Right, true) => "画面右侧",
        (Region::Top, true) => "画面上方",
        (Region::Bottom, true) => "画面下方",
        (Region::Center, true) => "画面中间",
        (Region::TopLeft, true) => "画面左上角",
        (Region::TopRight, true) => "画面右上角",
        (Region::BottomLeft, true) => "画面左下角",
        (Region::BottomRight, true) => "画面右下角",
        (Region::Background, true) => "背景中",
        (Region::Rect(_), true) => "原位置",
        (Region::Left, false) => "on the left",
        (Region::Right, false) => "on the right",
        (Region::Top, false) => "at the top",
        (Region::Bottom, false) => "at the bottom",
        (Region::Center, false) => "in the center",
        (Region::TopLeft, false) => "in the top-left corner",
        (Region::TopRight, false) => "in the top-right corner",
        (Region::BottomLeft, false) => "in the bottom-left corner",
        (Region::BottomRight, false) => "in the bottom-right corner",
        (Region::Background, false) => "in the background",
        (Region::Rect(_), false) => "in its place",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strengths_follow_the_op() {
        assert_eq!(strength(Op::Relight, false), 0.4);
        assert_eq!(strength(Op::Recolor, false), 0.5);
        assert!(strength(Op::Replace, true) >= 0.8);
        assert_eq!(strength(Op::Delete, false), 0.8);
    }

    #[test]
    fn capitalizes_english_only() {
        assert_eq!(capitalize("remove it"), "Remove it");
        assert_eq!(capitalize("删除"), "删除");
    }
}
