//! Op classification of one clause: the earliest action verb decides the pattern (把X换成Y,
//! replace X with Y, make X blue, …), and the new value decides between recolor, relight,
//! restyle and replace.

use super::lexicon::{
    find_word, has_any, has_light, has_style_suffix, is_colour_only, is_style, is_style_value,
    LIGHTING_SUBJECTS, LIGHT_NOUNS,
};
use super::slots::{clean, make_slots, split_at_any, swap_slots, zh_ba, zh_subject};
use super::target::is_whole_image;
use super::verbs::{earliest_verb, Verb, VERBS};
use crate::core::Op;

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
}

impl Reading {
    fn step(op: Op, subject: Option<String>, value: Option<String>) -> Self {
        Reading {
            kind: Kind::Step(op),
            subject,
            value,
            verbless: false,
        }
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
        || VERBS.iter().any(|(w, _)| find_word(rest, w) == Some(0))
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
    let lower = clause.to_ascii_lowercase();
    if light_switch(&lower) {
        return Reading::step(Op::Relight, None, None);
    }
    let Some((at, mut len, verb)) = earliest_verb(&lower) else {
        return read_verbless(clause);
    };
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
    match verb {
        Verb::Delete => {
            let subject = zh_ba(before)
                .or_else(|| after.clone())
                .or_else(|| clean(before));
            Reading::step(Op::Delete, subject, None)
        }
        Verb::Add => {
            let object = after.clone().or_else(|| zh_ba(before));
            let text = object.as_deref().unwrap_or("");
            if has_light_noun(text) {
                Reading::step(Op::Relight, None, object)
            } else if has_style_suffix(text) {
                Reading::step(Op::Restyle, None, object)
            } else {
                Reading::step(Op::Add, object, None)
            }
        }
        Verb::Swap | Verb::SwapWith | Verb::UseFor => {
            let word = &lower[at..at + len];
            let (x, y) = swap_slots(clause, before, after, (word, verb));
            decide(Mode::Replace, x, y)
        }
        Verb::Paint | Verb::Make => {
            let (x, y, into) = make_slots(clause, before, after, verb);
            let mode = match (into, verb) {
                (true, _) => Mode::Replace,
                (false, Verb::Paint) => Mode::Paint,
                _ => Mode::Make,
            };
            decide(mode, x, y)
        }
        Verb::Tune => decide(Mode::Tune, zh_subject(before), after),
        Verb::Give => {
            let text = after.clone().unwrap_or_default();
            let (to, gift) = split_at_any(&text, &[" a ", " an ", " some ", " two ", " more "])
                .unwrap_or((None, after));
            let gift_text = gift.as_deref().unwrap_or("");
            if has_light(gift_text) || is_style(gift_text) || is_colour_only(gift_text) {
                decide(Mode::Tune, to, gift)
            } else {
                Reading::step(Op::Add, gift, None)
            }
        }
        Verb::Relight => {
            let subject = zh_ba(before).or(after);
            Reading::step(Op::Relight, subject, None)
        }
        Verb::Restyle => Reading::step(Op::Restyle, None, after),
        Verb::Fill | Verb::Keep => Reading {
            kind: Kind::Support,
            subject: after,
            value: None,
            verbless: false,
        },
    }
}

fn read_verbless(clause: &str) -> Reading {
    let kind = if is_colour_only(clause) {
        Kind::Attribute
    } else if has_light(clause) {
        Kind::Step(Op::Relight)
    } else if is_style(clause) {
        Kind::Step(Op::Restyle)
    } else {
        Kind::Attribute
    };
    Reading {
        kind,
        subject: None,
        value: Some(clause.to_string()),
        verbless: true,
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
        .any(|w| find_word(lower, w).is_some());
    zh || (lamp && switch && turned)
}

/// Light a user can add as a thing ("增加午后阳光效果", "add warm evening light").
fn has_light_noun(text: &str) -> bool {
    has_any(&text.to_ascii_lowercase(), LIGHT_NOUNS)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Replace,
    Paint,
    Make,
    Tune,
}

/// Which op a change of `subject` into `value` is. The value decides first (only a colour →
/// recolor, a style → restyle); light only wins over a replace when the subject is the whole
/// picture, so "把天空改成傍晚火烧云" replaces the sky rather than relighting.
fn decide(mode: Mode, subject: Option<String>, value: Option<String>) -> Reading {
    let x = subject.as_deref().unwrap_or("");
    let y = value.as_deref().unwrap_or("");
    let whole = x.is_empty() || is_whole_image(x);
    let x_lower = x.to_ascii_lowercase();
    let lighting = LIGHTING_SUBJECTS
        .iter()
        .any(|w| find_word(&x_lower, w).is_some());
    // "把白天改成夜晚", "阴天改成晴天": from one light to another.
    let light_to_light = has_light(x) && has_light(y) && !is_colour_only(y);
    let op = if !x.is_empty() && (lighting || light_to_light) {
        Op::Relight
    } else if y.is_empty() {
        match mode {
            Mode::Replace => Op::Replace,
            Mode::Paint if x.is_empty() => Op::Edit,
            Mode::Paint => Op::Add,
            Mode::Make => Op::Edit,
            Mode::Tune => Op::Relight,
        }
    } else if is_colour_only(y) || (is_colour_subject(&x_lower) && !has_light(y)) {
        Op::Recolor
    } else if is_style_value(y) {
        Op::Restyle
    } else if has_light(y) && (whole || mode != Mode::Replace) {
        Op::Relight
    } else {
        match mode {
            Mode::Replace | Mode::Paint => Op::Replace,
            Mode::Make | Mode::Tune => Op::Edit,
        }
    };
    Reading::step(op, subject, value)
}

/// "the colors", "颜色", "色彩": changing them is a recolor whatever the new value says.
fn is_colour_subject(x_lower: &str) -> bool {
    [
        "颜色",
        "色彩",
        "colors",
        "colours",
        "color",
        "colour",
        "saturation",
        "饱和度",
    ]
    .iter()
    .any(|w| find_word(x_lower, w).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(clause: &str) -> Option<Op> {
        match read(clause).kind {
            Kind::Step(op) => Some(op),
            _ => None,
        }
    }

    #[test]
    fn classifies_each_op_in_both_languages() {
        let table = [
            ("删除画面右侧的垃圾桶", Op::Delete),
            ("把背景里的电线杆去掉", Op::Delete),
            ("Get rid of the car", Op::Delete),
            ("在窗台上放一盆绿植", Op::Add),
            ("Add a cup of coffee on the table", Op::Add),
            ("给男人戴上一顶帽子", Op::Add),
            ("把红色T恤换成磨砂黑色皮夹克", Op::Replace),
            ("Turn the dog into a cat", Op::Replace),
            ("把天空改成傍晚火烧云的效果", Op::Replace),
            ("把墙面刷成浅绿色", Op::Recolor),
            ("Make the shirt black", Op::Recolor),
            ("让天空变成粉紫色", Op::Recolor),
            ("全部产品图调成冷白光", Op::Relight),
            ("增加午后阳光效果", Op::Relight),
            ("把灯关掉", Op::Relight),
            ("Make the photo cooler and a bit darker", Op::Relight),
            ("把照片改成日系胶片风格", Op::Restyle),
            ("Make it look like a pencil sketch", Op::Restyle),
            ("让她笑一笑", Op::Edit),
        ];
        for (clause, want) in table {
            assert_eq!(op(clause), Some(want), "{clause}");
        }
    }

    #[test]
    fn slots_hold_subject_and_new_value() {
        let r = read("把坐在沙发上的男人换成穿旗袍的女人");
        assert_eq!(r.subject.as_deref(), Some("坐在沙发上的男人"));
        assert_eq!(r.value.as_deref(), Some("穿旗袍的女人"));
        let r = read("Replace the red sofa with a grey fabric one");
        assert_eq!(r.subject.as_deref(), Some("the red sofa"));
        assert_eq!(r.value.as_deref(), Some("a grey fabric one"));
        let r = read("用一盆仙人掌替换桌上的台灯");
        assert_eq!(r.subject.as_deref(), Some("桌上的台灯"));
        assert_eq!(r.value.as_deref(), Some("一盆仙人掌"));
    }

    #[test]
    fn descriptions_and_completions_are_not_steps() {
        assert_eq!(read("面带微笑").kind, Kind::Attribute);
        assert_eq!(read("深棕色").kind, Kind::Attribute);
        assert_eq!(read("dark brown").kind, Kind::Attribute);
        assert_eq!(read("补全地面").kind, Kind::Support);
        assert_eq!(read("fill in the background").kind, Kind::Support);
        assert_eq!(op("窗外阳光洒入"), Some(Op::Relight));
        assert!(read("窗外阳光洒入").verbless);
    }

    #[test]
    fn verb_starts_and_back_references() {
        assert!(starts_with_verb("添加一只猫") && starts_with_verb("整体提亮"));
        assert!(starts_with_verb("add a bench") && !starts_with_verb("a bit darker"));
        assert!(!starts_with_verb("white cat"));
        assert!(refers_back("让它趴在地毯上") && refers_back("have her smile"));
        assert!(!refers_back("让天空变蓝"));
    }
}
