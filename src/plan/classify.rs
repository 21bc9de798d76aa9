//! Op classification of one clause: the earliest action verb decides the pattern (把X换成Y,
//! replace X with Y, make X blue, …), and the new value decides between recolor, relight,
//! restyle and replace.

use super::lexicon::{
    find_word, has_any, has_light, has_style_suffix, is_colour_only, is_style, LIGHTING_SUBJECTS,
};
use super::target::is_whole_image;
use crate::core::Op;

/// The family of an action verb; each family has its own slots for subject and new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Delete,
    Add,
    /// 把X换成Y, change X to Y: subject before, new value after.
    Swap,
    /// replace X with Y.
    SwapWith,
    /// substitute Y for X, 用Y替换X.
    UseFor,
    /// 把X刷成Y, paint X Y.
    Paint,
    /// make X Y, 让X变Y.
    Make,
    /// 调成Y, adjust Y: a relight unless the value says otherwise.
    Tune,
    /// give X Y: Y is added to X, unless Y is light or a style ("give it a warm tone").
    Give,
    Relight,
    Restyle,
    /// "补全地面", "fill in the background": completes the previous step.
    Fill,
    /// "保留沙发", "keep the sofa": a constraint on the previous step.
    Keep,
}

#[rustfmt::skip]
const VERBS: &[(&str, Verb)] = &[
    ("删除", Verb::Delete), ("删掉", Verb::Delete), ("删去", Verb::Delete), ("去掉", Verb::Delete),
    ("去除", Verb::Delete), ("除去", Verb::Delete), ("移除", Verb::Delete), ("移走", Verb::Delete),
    ("移掉", Verb::Delete), ("抹掉", Verb::Delete), ("抹去", Verb::Delete), ("抹除", Verb::Delete),
    ("擦掉", Verb::Delete), ("擦除", Verb::Delete), ("擦去", Verb::Delete), ("消除", Verb::Delete),
    ("清除", Verb::Delete), ("清掉", Verb::Delete), ("拿掉", Verb::Delete), ("拿走", Verb::Delete),
    ("抠掉", Verb::Delete), ("抠除", Verb::Delete), ("p掉", Verb::Delete), ("干掉", Verb::Delete),
    ("隐去", Verb::Delete), ("删", Verb::Delete),
    ("remove", Verb::Delete), ("delete", Verb::Delete), ("erase", Verb::Delete),
    ("get rid of", Verb::Delete), ("take out", Verb::Delete), ("take away", Verb::Delete),
    ("eliminate", Verb::Delete), ("clear away", Verb::Delete), ("wipe out", Verb::Delete),
    ("cut out", Verb::Delete), ("edit out", Verb::Delete), ("paint out", Verb::Delete),
    ("rub out", Verb::Delete), ("clean up", Verb::Delete),
    ("添加", Verb::Add), ("加上", Verb::Add), ("加入", Verb::Add), ("增加", Verb::Add),
    ("添上", Verb::Add), ("放上", Verb::Add), ("放置", Verb::Add), ("放入", Verb::Add),
    ("放一", Verb::Add), ("放个", Verb::Add), ("放只", Verb::Add), ("放些", Verb::Add),
    ("放几", Verb::Add), ("放两", Verb::Add), ("摆上", Verb::Add), ("摆放", Verb::Add),
    ("摆一", Verb::Add), ("摆个", Verb::Add), ("插入", Verb::Add), ("画上", Verb::Add),
    ("画一", Verb::Add), ("画个", Verb::Add), ("加一", Verb::Add), ("加个", Verb::Add),
    ("加只", Verb::Add), ("加些", Verb::Add), ("加点", Verb::Add), ("加几", Verb::Add),
    ("加两", Verb::Add), ("新增", Verb::Add), ("戴上", Verb::Add), ("穿上", Verb::Add),
    ("挂上", Verb::Add), ("贴上", Verb::Add), ("种上", Verb::Add), ("长出", Verb::Add),
    ("多加", Verb::Add), ("添", Verb::Add),
    ("add", Verb::Add), ("put", Verb::Add), ("place", Verb::Add), ("insert", Verb::Add),
    ("draw", Verb::Add), ("include", Verb::Add), ("bring in", Verb::Add),
    ("introduce", Verb::Add),
    ("换成", Verb::Swap), ("换为", Verb::Swap), ("替换成", Verb::Swap), ("替换为", Verb::Swap),
    ("改成", Verb::Swap), ("改为", Verb::Swap), ("变成", Verb::Swap), ("变为", Verb::Swap),
    ("改造成", Verb::Swap), ("转换成", Verb::Swap), ("转换为", Verb::Swap), ("转成", Verb::Swap),
    ("转为", Verb::Swap), ("变回", Verb::Swap), ("更换", Verb::Swap), ("替换", Verb::Swap),
    ("换掉", Verb::Swap), ("代替", Verb::Swap), ("取代", Verb::Swap), ("换", Verb::Swap),
    ("change", Verb::Swap), ("transform", Verb::Swap), ("convert", Verb::Swap),
    ("replace", Verb::SwapWith), ("swap", Verb::SwapWith), ("exchange", Verb::SwapWith),
    ("substitute", Verb::UseFor),
    ("刷成", Verb::Paint), ("染成", Verb::Paint), ("涂成", Verb::Paint), ("漆成", Verb::Paint),
    ("喷成", Verb::Paint), ("上色", Verb::Paint), ("染", Verb::Paint),
    ("paint", Verb::Paint), ("color", Verb::Paint), ("colour", Verb::Paint), ("dye", Verb::Paint),
    ("tint", Verb::Paint), ("recolor", Verb::Paint), ("recolour", Verb::Paint),
    ("让", Verb::Make), ("使得", Verb::Make), ("使", Verb::Make),
    ("make", Verb::Make), ("turn", Verb::Make), ("let", Verb::Make), ("render", Verb::Make),
    ("调成", Verb::Tune), ("调为", Verb::Tune), ("调到", Verb::Tune), ("调整", Verb::Tune),
    ("调节", Verb::Tune), ("调色", Verb::Tune), ("调得", Verb::Tune), ("调高", Verb::Tune),
    ("调低", Verb::Tune), ("调一下", Verb::Tune), ("使用", Verb::Tune), ("营造", Verb::Tune),
    ("adjust", Verb::Tune), ("increase", Verb::Tune), ("decrease", Verb::Tune),
    ("reduce", Verb::Tune), ("boost", Verb::Tune),
    ("enhance", Verb::Tune), ("apply", Verb::Tune), ("give", Verb::Give), ("set", Verb::Tune),
    ("use", Verb::Tune), ("create", Verb::Tune),
    ("提亮", Verb::Relight), ("调亮", Verb::Relight), ("调暗", Verb::Relight),
    ("压暗", Verb::Relight), ("变亮", Verb::Relight), ("变暗", Verb::Relight),
    ("打亮", Verb::Relight), ("加亮", Verb::Relight), ("补光", Verb::Relight),
    ("打光", Verb::Relight), ("照亮", Verb::Relight), ("点亮", Verb::Relight),
    ("变暖", Verb::Relight), ("变冷", Verb::Relight), ("变得更亮", Verb::Relight),
    ("brighten", Verb::Relight), ("darken", Verb::Relight), ("dim", Verb::Relight),
    ("lighten", Verb::Relight), ("relight", Verb::Relight), ("illuminate", Verb::Relight),
    ("light up", Verb::Relight), ("warm up", Verb::Relight), ("cool down", Verb::Relight),
    ("tone down", Verb::Relight),
    ("风格化", Verb::Restyle), ("转绘", Verb::Restyle),
    ("stylize", Verb::Restyle), ("stylise", Verb::Restyle),
    ("补全", Verb::Fill), ("填补", Verb::Fill), ("补齐", Verb::Fill), ("修补", Verb::Fill),
    ("填充", Verb::Fill), ("修复", Verb::Fill),
    ("fill", Verb::Fill), ("inpaint", Verb::Fill), ("patch", Verb::Fill), ("restore", Verb::Fill),
    ("保留", Verb::Keep), ("保持", Verb::Keep), ("留下", Verb::Keep),
    ("keep", Verb::Keep), ("preserve", Verb::Keep), ("retain", Verb::Keep),
    ("leave", Verb::Keep),
];

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
    let glued = lower[at..at + len].chars().last().filter(|c| "一个只些几两".contains(*c));
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

/// The earliest action verb; at one position the longest wins ("调亮" over "调").
fn earliest_verb(lower: &str) -> Option<(usize, usize, Verb)> {
    VERBS
        .iter()
        .filter_map(|(w, verb)| find_word(lower, w).map(|at| (at, w.len(), *verb)))
        .min_by_key(|(at, len, _)| (*at, usize::MAX - len))
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
    const NOUNS: &[&str] = &[
        "光",
        "色调",
        "色温",
        "暖调",
        "冷调",
        "氛围",
        "阴影",
        "黄昏",
        "夕阳",
        "曝光",
        "亮度",
        "light",
        "lights",
        "lighting",
        "sunlight",
        "sunshine",
        "sunbeam",
        "sunbeams",
        "glow",
        "rays",
        "shadows",
        "backlight",
        "moonlight",
        "candlelight",
        "lamplight",
        "golden hour",
        "sunset",
        "sunrise",
        "tone",
        "tones",
        "contrast",
        "exposure",
        "brightness",
        "warmth",
    ];
    has_any(&text.to_ascii_lowercase(), NOUNS)
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
    let lighting = LIGHTING_SUBJECTS.iter().any(|w| find_word(&x_lower, w).is_some());
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
    } else if is_colour_only(y) {
        Op::Recolor
    } else if is_style(y) {
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

/// The part of a Chinese clause between 把/将 and the verb.
fn zh_ba(before: &str) -> Option<String> {
    let at = ["把", "将"].iter().filter_map(|w| before.find(w)).min()?;
    clean(&before[at + '把'.len_utf8()..])
}

/// The subject of a Chinese clause that names it before the verb ("背景换成咖啡馆").
fn zh_subject(before: &str) -> Option<String> {
    zh_ba(before).or_else(|| clean(before).filter(|b| lexicon_zh(b)))
}

fn swap_slots(
    clause: &str,
    before: &str,
    after: Option<String>,
    (word, verb): (&str, Verb),
) -> (Option<String>, Option<String>) {
    let after_text = after.clone().unwrap_or_default();
    // 用Y替换X: the new value comes first.
    if let Some(rest) = before.strip_prefix('用') {
        return (after, clean(rest));
    }
    if verb == Verb::UseFor {
        return split_at_any(&after_text, &[" for "]).map_or((None, after), |(y, x)| (x, y));
    }
    let zh_x = zh_subject(before);
    // "改成", "换为" carry their own "into": what follows is the new value even when the
    // subject is left implicit ("改成吉卜力动画风").
    if lexicon_zh(clause) && (zh_x.is_some() || word.ends_with(['成', '为', '回'])) {
        return (zh_x, after);
    }
    // "替换X为Y", "replace X with Y", "change X to Y".
    let separators: &[&str] = match verb {
        Verb::SwapWith => &[" with ", " by ", " for "],
        _ if lexicon_zh(clause) => &["为", "成"],
        _ => &[" into ", " to "],
    };
    split_at_any(&after_text, separators).unwrap_or((after, None))
}

/// Slots of "make X Y" / "paint X Y" / "让X变Y"; the flag says the value came after "into".
fn make_slots(
    clause: &str,
    before: &str,
    after: Option<String>,
    verb: Verb,
) -> (Option<String>, Option<String>, bool) {
    let text = after.clone().unwrap_or_default();
    if lexicon_zh(clause) {
        if verb == Verb::Paint {
            return (zh_subject(before), after, false);
        }
        const MARKERS: &[&str] = &["变成", "变得", "变为", "看起来", "显得", "变", "更", "有"];
        let cut = MARKERS
            .iter()
            .filter_map(|m| text.find(m).map(|i| (i, m.len())))
            .min_by_key(|(i, len)| (*i, usize::MAX - len));
        return match cut {
            Some((at, len)) => (clean(&text[..at]), clean(&text[at + len..]), false),
            None => (None, after, false),
        };
    }
    if let Some((x, y)) = split_at_any(&text, &[" into "]) {
        return (x, y, true);
    }
    // English puts the value after the subject: the first word that names a colour, a
    // material, light, a style or a look starts it ("make the shirt black").
    let lower = text.to_ascii_lowercase();
    let mut offset = 0;
    for (i, word) in lower.split(' ').enumerate() {
        let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if i > 0 && starts_value(bare) {
            return (clean(&text[..offset]), clean(&text[offset..]), false);
        }
        offset += word.len() + 1;
    }
    (after, None, false)
}

fn starts_value(word: &str) -> bool {
    const LOOKS: &[&str] = &[
        "look", "looks", "appear", "seem", "more", "less", "as", "like",
    ];
    !word.is_empty()
        && (LOOKS.contains(&word)
            || is_colour_only(word)
            || has_light(word)
            || is_style(word)
            || super::lexicon::SHADE_FILLERS_EN[..6].contains(&word))
}

fn split_at_any(text: &str, separators: &[&str]) -> Option<(Option<String>, Option<String>)> {
    let lower = text.to_ascii_lowercase();
    let (at, len) = separators
        .iter()
        .filter_map(|s| lower.find(s).map(|i| (i, s.len())))
        .min()?;
    Some((clean(&text[..at]), clean(&text[at + len..])))
}

fn lexicon_zh(text: &str) -> bool {
    super::lexicon::is_chinese(text)
}

/// Trims spaces and particles; an empty slot is `None`.
pub fn clean(text: &str) -> Option<String> {
    let t = text
        .trim()
        .trim_start_matches(['了', '掉'])
        .trim_end_matches(['了', '掉', '吧', '也', '都', '还'])
        .trim();
    (!t.is_empty()).then(|| t.to_string())
}
