//! The prompts of a recipe, written from the planner's slots in the user's language.

use crate::plan::PlannedStep;

/// Whether the text is Chinese (any CJK ideograph); mixed text counts as Chinese, and is kept
/// as written either way.
pub fn is_zh(text: &str) -> bool {
    text.chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c))
}

/// A picture described as nothing in particular: the source of a relight or restyle.
pub fn neutral(zh: bool) -> &'static str {
    if zh {
        "一张照片"
    } else {
        "a photo"
    }
}

/// What the masked area of a delete should show: what the user keeps or asks to complete,
/// else plain background; never the thing removed.
pub fn what_remains(step: &PlannedStep, zh: bool) -> String {
    let removed = [step.target.as_deref(), step.subject.as_deref()];
    let names_removed = |text: &str| {
        removed
            .iter()
            .flatten()
            .any(|r| !r.trim().is_empty() && contains_ci(text, r))
    };
    match step.keep.as_deref().map(str::trim) {
        Some(keep) if !keep.is_empty() && !names_removed(keep) => keep.to_string(),
        _ if zh => "干净自然的背景".to_string(),
        _ => "clean natural background".to_string(),
    }
}

/// The new thing of an add or replace, with its attributes and setting.
pub fn new_thing(step: &PlannedStep) -> String {
    step.new_value
        .clone()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| without_verb(&step.instruction))
}

/// The thing as it is now: the FlowEdit source of a replace or recolor.
pub fn old_thing(step: &PlannedStep) -> String {
    step.subject
        .clone()
        .or_else(|| step.target.clone())
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| neutral(is_zh(&step.instruction)).to_string())
}

/// The recoloured thing: a bare colour or material goes with the thing's name ("深棕色" →
/// "深棕色的沙发", "black" → "black shirt"); a full description stands as written.
pub fn recoloured(step: &PlannedStep, zh: bool) -> String {
    let value = new_thing(step);
    let Some(head) = step.target.as_deref().filter(|h| !h.trim().is_empty()) else {
        return value;
    };
    if contains_ci(&value, head) {
        return value;
    }
    let short = if zh {
        value.chars().count() <= 4
    } else {
        value.split_whitespace().count() <= 2
    };
    match (short, zh) {
        (false, _) => value,
        (true, true) => format!("{value}的{head}"),
        (true, false) => format!("{value} {head}"),
    }
}

/// The picture with the light or style asked for: the FlowEdit target of a relight or restyle.
pub fn with_look(step: &PlannedStep, zh: bool) -> String {
    let look = step
        .new_value
        .clone()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| step.instruction.clone());
    if zh {
        format!("{},{look}", neutral(true))
    } else {
        format!("{}, {look}", neutral(false))
    }
}

/// An instruction without its leading command ("Add a cat on the sofa" → "a cat on the sofa").
fn without_verb(text: &str) -> String {
    const VERBS: &[&str] = &[
        "添加", "增加", "加上", "加入", "放上", "放置", "画上", "换成", "add ", "put ", "place ",
        "insert ", "draw ",
    ];
    let t = text.trim();
    for v in VERBS {
        if t.get(..v.len()).is_some_and(|p| p.eq_ignore_ascii_case(v)) {
            return t[v.len()..].trim().to_string();
        }
    }
    t.to_string()
}

fn contains_ci(text: &str, part: &str) -> bool {
    text.to_lowercase().contains(&part.trim().to_lowercase())
}
