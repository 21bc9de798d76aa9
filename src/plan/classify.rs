//! Op classification of one clause: the clause is put in the imperative (`forms`), the earliest
//! action verb decides the pattern (把X换成Y, replace X with Y, make X blue, …), and the
//! subject and new value decide between the ops (`decide`). Each reading names its rule.

use super::decide::{decide, Decision, Mode};
use super::forms::canonical;
use super::lexicon::{find_word, has_light, is_colour_only, is_style};
use super::purpose::cut_purpose;
use super::scene::mentions_background;
use super::slots::{clean, make_slots, split_at_any, swap_slots, zh_ba, zh_subject};
use super::target::is_whole_image;
use super::verbs::{earliest_verb, verb_at_start, Hit, Verb, BARE_EN, VERBS_ZH};
use crate::core::{Op, Region};

/// Words that open a Chinese clause the way a verb does (把X…, 在X放Y, 用Y替换X).
const CLAUSE_OPENERS_ZH: &[&str] = &["把", "将", "在", "用", "给"];
/// Subjects a Chinese clause may put before its verb ("整体提亮").
const WHOLE_SUBJECTS_ZH: &[&str] = &["整体", "画面", "整张图", "全图", "图片", "照片"];

/// What a clause is: a step of its own, or words that qualify the step next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Step(Op),
    /// A description with no action ("面带微笑", "dark brown"): goes with its step.
    Attribute,
    /// A completion or constraint ("补全地面", "keep the sofa"): goes with the previous step.
    Support,
}

/// One clause read: its kind, the thing it acts on and the new value, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub kind: Kind,
    pub subject: Option<String>,
    pub value: Option<String>,
    /// No action verb: a relight written as a description ("窗外阳光洒入").
    pub verbless: bool,
    /// The rule that chose the op, for `zedit plan --explain`.
    pub rule: String,
    /// A region the rule itself implies (a changed background).
    pub region: Option<Region>,
}

impl Reading {
    pub(super) fn step(
        op: Op,
        subject: Option<String>,
        value: Option<String>,
        rule: String,
    ) -> Self {
        Reading {
            kind: Kind::Step(op),
            subject,
            value,
            verbless: false,
            rule,
            region: None,
        }
    }

    pub(super) fn decided(
        d: Decision,
        subject: Option<String>,
        value: Option<String>,
        verb: &str,
    ) -> Self {
        let mut r = Reading::step(d.op, subject, value, format!("{verb}; {}", d.rule));
        if d.background {
            r.region = Some(Region::Background);
        }
        r
    }
}

/// Whether the clause opens with an action: used to decide whether "and"/"再" starts a clause.
pub fn starts_with_verb(clause: &str) -> bool {
    let lower = clause.trim().to_ascii_lowercase();
    let mut rest = lower.as_str();
    for subject in WHOLE_SUBJECTS_ZH {
        rest = rest.strip_prefix(subject).unwrap_or(rest);
    }
    CLAUSE_OPENERS_ZH.iter().any(|w| rest.starts_with(w))
        || VERBS_ZH.iter().any(|(w, _)| rest.starts_with(w))
        || verb_at_start(rest)
        || light_switch(rest)
}

/// Whether a clause speaks of the subject just named ("让它趴在地毯上", "have her smile"):
/// such a free-form clause describes that subject rather than being a step of its own.
pub fn refers_back(clause: &str) -> bool {
    let lower = clause.trim().to_ascii_lowercase();
    let rest = ["让", "使", "make ", "let ", "have "]
        .iter()
        .find_map(|w| lower.strip_prefix(w))
        .unwrap_or(&lower);
    ["它", "她", "他", "其"].iter().any(|p| rest.starts_with(p))
        || ["it", "she", "he", "her", "him", "them", "they"]
            .iter()
            .any(|p| find_word(rest, p) == Some(0))
}

/// Reads one clause (already stripped of joining words).
pub fn read(clause: &str) -> Reading {
    let form = canonical(clause);
    let mut reading = read_order(&form.text);
    if let Some(name) = form.form {
        reading.rule = format!("written as \"{name}\"; {}", reading.rule);
    }
    reading
}

fn read_order(clause: &str) -> Reading {
    let lower = clause.to_ascii_lowercase();
    if light_switch(&lower) {
        return Reading::step(Op::Relight, None, None, "a light switched on or off".into());
    }
    let Some(mut hit) = earliest_verb(&lower) else {
        return read_verbless(clause);
    };
    // "把穿着灰色外套的老人换成…": "穿着" describes the subject; the later verb acts.
    if hit.word.ends_with('着') {
        let from = hit.at + hit.len;
        if let Some(later) = earliest_verb(&lower[from..]).filter(|h| !h.word.ends_with('着')) {
            hit = Hit {
                at: from + later.at,
                ..later
            };
        }
    }
    read_verb(clause, &lower, hit)
}

fn read_verb(clause: &str, lower: &str, hit: Hit) -> Reading {
    let Hit {
        at,
        mut len,
        verb,
        word,
    } = hit;
    // "放一盆绿植": the verb table spells "放一" to tell the verb from "放大", but the "一"
    // belongs to the object.
    let glued = lower[at..at + len]
        .chars()
        .last()
        .filter(|c| "一个只些几两".contains(*c));
    if let Some(last) = glued.filter(|c| len > c.len_utf8()) {
        len -= last.len_utf8();
    }
    let before = clause[..at].trim();
    let after = clean(&clause[at + len..]);
    let why = format!("{} verb \"{word}\"", family(verb));
    match verb {
        Verb::Delete => {
            let subject = zh_ba(before)
                .or_else(|| after.clone())
                .or_else(|| clean(before));
            Reading::step(Op::Delete, subject, None, why)
        }
        Verb::Add => super::adds::read_add(before, after, why, word),
        Verb::Swap | Verb::SwapWith | Verb::UseFor => {
            let word = &lower[at..at + len];
            let (x, y) = swap_slots(clause, before, after, (word, verb));
            let y = y.map(|v| cut_purpose(&v).to_string());
            let mode = if verb == Verb::Swap {
                Mode::Replace
            } else {
                Mode::Swap
            };
            let d = decide(mode, x.as_deref(), y.as_deref());
            Reading::decided(d, x, y, &why)
        }
        Verb::Paint | Verb::Make => {
            // "make the man wear a hat", "让路人消失": the verb after the causative acts.
            let rest = &clause[at + len..];
            if verb == Verb::Make {
                if let Some(inner) = earliest_verb(&rest.to_ascii_lowercase()).filter(|h| {
                    matches!(
                        h.verb,
                        Verb::Delete | Verb::Add | Verb::Swap | Verb::Relight
                    ) && !BARE_EN.iter().any(|(w, _)| *w == h.word)
                }) {
                    let mut r = read_verb(rest, &rest.to_ascii_lowercase(), inner);
                    r.rule = format!("{why} around another; {}", r.rule);
                    return r;
                }
            }
            let (x, y, into) = make_slots(clause, before, after, verb);
            let mode = match (into, verb) {
                (true, _) => Mode::Replace,
                (false, Verb::Paint) => Mode::Paint,
                _ => Mode::Make,
            };
            let d = decide(mode, x.as_deref(), y.as_deref());
            Reading::decided(d, x, y, &why)
        }
        Verb::Colorize => Reading::step(
            Op::Recolor,
            zh_subject(before).or(after),
            None,
            format!("{why}; colour changes: recolor"),
        ),
        Verb::Tune => {
            let (x, y) = tune_slots(clause, before, after);
            let d = decide(Mode::Tune, x.as_deref(), y.as_deref());
            Reading::decided(d, x, y, &why)
        }
        Verb::Give => super::adds::read_give(after, why),
        Verb::Relight => {
            let subject = zh_ba(before).or(after);
            // "darken the hair to auburn": a colour after "to" makes it a recolor.
            if let Some((x, Some(y))) = subject
                .as_deref()
                .and_then(|s| split_at_any(s, &[" to ", " into "]))
                .filter(|(_, y)| y.as_deref().is_some_and(is_colour_only))
            {
                let rule = format!("{why}; to a colour: recolor");
                return Reading::step(Op::Recolor, x, Some(y), rule);
            }
            Reading::step(Op::Relight, subject, None, why)
        }
        Verb::Restyle => Reading::step(Op::Restyle, None, after, why),
        Verb::Edit => Reading::step(
            Op::Edit,
            zh_ba(before).or(after),
            None,
            format!("{why}; a move, a size or a blur: edit"),
        ),
        Verb::Fill | Verb::Keep => Reading {
            kind: Kind::Support,
            subject: after,
            value: None,
            verbless: false,
            rule: format!("{why}; goes with the step before"),
            region: None,
        },
    }
}

fn family(verb: Verb) -> &'static str {
    match verb {
        Verb::Delete => "removal",
        Verb::Add => "adding",
        Verb::Swap | Verb::SwapWith | Verb::UseFor => "swap",
        Verb::Paint | Verb::Colorize => "colour",
        Verb::Make => "make",
        Verb::Tune => "adjusting",
        Verb::Give => "give",
        Verb::Relight => "light",
        Verb::Restyle => "style",
        Verb::Edit => "free-form",
        Verb::Fill => "completion",
        Verb::Keep => "keep",
    }
}

/// "adjust the backdrop to a forest", "set it at dusk", "调成暖色".
fn tune_slots(
    clause: &str,
    before: &str,
    after: Option<String>,
) -> (Option<String>, Option<String>) {
    if super::lexicon::is_chinese(clause) {
        return (zh_subject(before), after);
    }
    let text = after.clone().unwrap_or_default();
    match split_at_any(&text, &[" to ", " into "]) {
        Some((x, y)) if x.is_some() => (x, y),
        _ => (None, after),
    }
}

fn read_verbless(clause: &str) -> Reading {
    let (kind, rule) = if is_colour_only(clause) {
        (Kind::Attribute, "a colour said alone: goes with its step")
    } else if mentions_background(clause) && !is_whole_image(clause) {
        (
            Kind::Step(Op::Replace),
            "a background named: replace the background",
        )
    } else if has_light(clause) {
        (
            Kind::Step(Op::Relight),
            "light, weather or a time of day described: relight",
        )
    } else if is_style(clause) {
        (Kind::Step(Op::Restyle), "a style described: restyle")
    } else {
        (Kind::Attribute, "no action: goes with its step")
    };
    let region = (kind == Kind::Step(Op::Replace)).then_some(Region::Background);
    Reading {
        kind,
        subject: None,
        value: Some(clause.to_string()),
        verbless: true,
        rule: rule.to_string(),
        region,
    }
}

/// "把灯关掉", "turn off the lights": the light switch is a relight, whatever verb it uses.
fn light_switch(lower: &str) -> bool {
    let zh = lower.contains('灯')
        && ["关", "熄", "打开", "开灯", "开着"]
            .iter()
            .any(|w| lower.contains(w));
    let lamp = ["light", "lights", "lamp", "lamps"]
        .iter()
        .any(|w| find_word(lower, w).is_some());
    let switch = [
        "turn off",
        "switch off",
        "turn on",
        "switch on",
        "off",
        "on",
    ]
    .iter()
    .any(|w| find_word(lower, w).is_some());
    let turned = ["turn", "switch"]
        .iter()
        .any(|w| find_word(lower, w) == Some(0));
    zh || (lamp && switch && turned)
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
