//! Which op a change of a subject into a new value is: the subject and the value decide
//! (a pose or an expression → edit, the light itself → relight, the background → replace, a
//! colour or a material → recolor, a style → restyle, light or weather → relight), in that
//! order; each answer names the rule that gave it.

use super::lexicon::{
    find_word, has_light, has_style_suffix, is_colour_only, is_style, is_style_value,
    LIGHTING_SUBJECTS,
};
use super::scene::{is_background, is_blur, light_only, mentions_background, names_scene};
use super::target::{head, is_whole_image};
use crate::core::Op;

/// How the clause said the change, which decides what an unknown new value means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// change X to Y, turn X into Y, 把X换成Y.
    Replace,
    /// replace X with Y, swap X for Y, substitute Y for X: one thing for another.
    Swap,
    Paint,
    Make,
    Tune,
}

/// The op, the rule that chose it, and whether the change is the background's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub op: Op,
    pub rule: &'static str,
    pub background: bool,
}

fn found(op: Op, rule: &'static str) -> Decision {
    Decision {
        op,
        rule,
        background: false,
    }
}

/// Subjects whose change is a pose, an expression, a size or a place: none of the six ops.
#[rustfmt::skip]
const POSE_SUBJECTS: &[&str] = &[
    "expression", "expressions", "pose", "posture", "gesture", "position", "size", "facial expression",
    "表情", "姿势", "动作", "姿态", "位置", "大小", "尺寸", "神态", "手势",
];
/// Values that are an action, an expression or an age rather than a thing.
#[rustfmt::skip]
const ACTIONS: &[&str] = &[
    "smile", "smiling", "laugh", "laughing", "frown", "frowning", "cry", "crying", "sad", "happy",
    "angry", "surprised", "shocked", "scared", "jump", "jumping", "run", "running", "sit",
    "sitting", "stand", "standing", "wave", "waving", "dance", "dancing", "sleep", "sleeping",
    "older", "younger", "old", "young", "bigger", "smaller", "larger", "taller", "shorter",
    "thinner", "fatter", "wink", "winking", "yawn", "yawning",
    "笑", "哭", "跳", "跑", "坐", "站", "睡", "惊讶", "生气", "开心", "难过", "伤心", "年轻", "老",
];
/// Subjects that are words in the picture.
#[rustfmt::skip]
const TEXT_SUBJECTS: &[&str] = &[
    "text", "word", "words", "title", "caption", "label", "letters", "lettering", "sign", "number",
    "numbers", "price", "headline", "slogan", "writing", "font",
    "文字", "字", "标题", "字母", "招牌", "标语", "数字", "英文", "中文", "日期", "价格",
];

fn has(text: &str, table: &[&str]) -> bool {
    let lower = text.to_ascii_lowercase();
    table.iter().any(|w| find_word(&lower, w).is_some())
}

/// A value in quotes is text to write, whatever its words mean ("'Good Morning'").
fn quoted(value: &str) -> bool {
    let t = value.trim();
    ["\"", "'", "“", "‘", "「", "『"]
        .iter()
        .any(|q| t.starts_with(q))
}

/// "made of gingerbread", "out of marble": a material, whatever the word.
fn made_of(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    [
        "made of",
        "made out of",
        "out of",
        "made from",
        "做的",
        "制成",
        "材质",
    ]
    .iter()
    .any(|w| find_word(&lower, w).is_some())
        && !lower.starts_with("out of focus")
}

/// "the wooden floor" into "a marble floor": the same thing with a new surface.
fn same_thing_new_surface(subject: &str, value: &str) -> bool {
    let (Some(x), Some(y)) = (head(subject), head(value)) else {
        return false;
    };
    let last = |h: &str| h.rsplit(' ').next().unwrap_or("").to_ascii_lowercase();
    let (xl, yl) = (last(&x), last(&y));
    let noun = if super::lexicon::is_chinese(&x) {
        // "地板" into "实木地板".
        let core = x.chars().rev().take(2).collect::<Vec<_>>();
        let core: String = core.into_iter().rev().collect();
        if !value.contains(&core) {
            return false;
        }
        core
    } else if xl == yl || yl == "one" {
        yl
    } else {
        return false;
    };
    let rest = value.replace(&noun, " ");
    is_colour_only(&rest)
}

/// Starts like "a …" naming a thing ("a bus"), not a degree ("a bit darker").
fn names_a_thing(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let mut words = lower.split_whitespace();
    let first = words.next().unwrap_or("");
    let second = words.next().unwrap_or("");
    ["a", "an", "one"].contains(&first)
        && ![
            "bit", "little", "touch", "lot", "tad", "few", "more", "less",
        ]
        .contains(&second)
}

/// Which op turning `subject` into `value` is.
pub fn decide(mode: Mode, subject: Option<&str>, value: Option<&str>) -> Decision {
    let x = subject.unwrap_or("");
    let y = value.unwrap_or("");
    let whole = x.is_empty() || is_whole_image(x);
    let x_lower = x.to_ascii_lowercase();
    if !x.is_empty() && has(x, POSE_SUBJECTS) {
        return found(
            Op::Edit,
            "a pose, an expression, a size or a place changes: edit",
        );
    }
    let lighting = LIGHTING_SUBJECTS
        .iter()
        .any(|w| find_word(&x_lower, w).is_some());
    if !x.is_empty() && lighting && !is_background(x) {
        return found(
            Op::Relight,
            "the subject is the light, the weather or the season",
        );
    }
    if !x.is_empty() && has_light(x) && has_light(y) && !is_colour_only(y) {
        return found(Op::Relight, "from one light or time of day to another");
    }
    if !x.is_empty()
        && has(x, &["style", "art style", "aesthetic", "风格", "画风"])
        && !y.is_empty()
    {
        return found(Op::Restyle, "the subject is the style");
    }
    let background = is_background(x)
        || (whole && mentions_background(y))
        || (whole && !has_light(y) && names_scene(y));
    if background {
        let op = if is_blur(y) || is_blur(x) {
            return found(Op::Edit, "the background is blurred: edit");
        } else if light_only(y) {
            Op::Relight
        } else if is_style(y) && !mentions_background(y) && !is_colour_only(y) {
            Op::Restyle
        } else {
            Op::Replace
        };
        return Decision {
            op,
            rule: "the background changes: replace the background",
            background: op == Op::Replace,
        };
    }
    if y.is_empty() {
        let op = match mode {
            Mode::Replace | Mode::Swap => Op::Replace,
            Mode::Paint
                if ["a ", "an ", "some "]
                    .iter()
                    .any(|a| x_lower.starts_with(a)) =>
            {
                Op::Add
            }
            Mode::Paint => Op::Recolor,
            Mode::Make => Op::Edit,
            Mode::Tune => Op::Relight,
        };
        return found(op, "no new value: the verb decides");
    }
    if quoted(y) {
        return found(
            Op::Replace,
            "the new value is quoted text: replace the text",
        );
    }
    if whole && is_style(y) {
        return found(Op::Restyle, "the whole picture in a style: restyle");
    }
    let swap = mode == Mode::Swap;
    let bare = !names_a_thing(y);
    if is_colour_only(y) && (!swap || bare) {
        return found(
            Op::Recolor,
            "the new value is a colour or a material: recolor",
        );
    }
    if made_of(y) {
        return found(Op::Recolor, "made of a new material: recolor");
    }
    if !swap && !x.is_empty() && same_thing_new_surface(x, y) {
        return found(
            Op::Recolor,
            "the same thing with a new colour or material: recolor",
        );
    }
    if is_colour_subject(&x_lower) && !has_light(y) {
        return found(Op::Recolor, "the subject is a colour: recolor");
    }
    if is_style_value(y) && (whole || !swap || has_style_suffix(y)) {
        return found(Op::Restyle, "the new value is a style: restyle");
    }
    if has_light(y) && (whole || !matches!(mode, Mode::Replace | Mode::Swap)) {
        return found(
            Op::Relight,
            "the new value is light, weather or a time of day",
        );
    }
    if has(y, ACTIONS) && !names_a_thing(y) && matches!(mode, Mode::Make | Mode::Tune) {
        return found(Op::Edit, "an action, an expression or an age: edit");
    }
    if mode == Mode::Make && names_a_thing(y) && !whole {
        return found(Op::Replace, "made into another thing: replace");
    }
    match mode {
        Mode::Replace | Mode::Swap | Mode::Paint => found(Op::Replace, "a new thing: replace"),
        Mode::Make | Mode::Tune if has(x, TEXT_SUBJECTS) => {
            found(Op::Replace, "new words: replace the text")
        }
        Mode::Make | Mode::Tune => found(Op::Edit, "none of the six ops: edit"),
    }
}

/// "the colors", "颜色", "色彩": changing them is a recolor whatever the new value says.
fn is_colour_subject(x_lower: &str) -> bool {
    [
        "颜色",
        "色彩",
        "毛色",
        "肤色",
        "发色",
        "colors",
        "colours",
        "color",
        "colour",
        "saturation",
        "饱和度",
        "材质",
        "材料",
        "质地",
        "material",
        "texture",
        "fabric",
        "finish",
    ]
    .iter()
    .any(|w| find_word(x_lower, w).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(mode: Mode, x: &str, y: &str) -> Op {
        decide(mode, Some(x), Some(y)).op
    }

    #[test]
    fn the_value_and_the_subject_decide() {
        assert_eq!(
            op(Mode::Replace, "the backdrop", "a snowy forest"),
            Op::Replace
        );
        assert!(decide(Mode::Replace, Some("背景"), Some("海边")).background);
        assert_eq!(
            op(Mode::Replace, "the wooden floor", "a marble floor"),
            Op::Recolor
        );
        assert_eq!(
            op(Mode::Swap, "the red sofa", "a grey fabric one"),
            Op::Replace
        );
        assert_eq!(op(Mode::Swap, "the clock", "a painting"), Op::Replace);
        assert_eq!(op(Mode::Make, "the man", "a woman"), Op::Replace);
        assert_eq!(op(Mode::Make, "it", "a bit darker"), Op::Relight);
        assert_eq!(op(Mode::Replace, "his expression", "surprised"), Op::Edit);
        assert_eq!(op(Mode::Replace, "the text", "'Good Morning'"), Op::Replace);
        assert_eq!(
            op(Mode::Make, "the house", "made of gingerbread"),
            Op::Recolor
        );
        assert_eq!(op(Mode::Replace, "地板", "实木地板"), Op::Recolor);
    }
}
