//! Purpose and manner: "…, as if watching the sunset", "to add a sense of leisure",
//! "营造温馨的感觉", "让画面更有生活气息" say why or how an action is done. They belong to the
//! step they follow and never make a step of their own.

use super::lexicon::{find_word, has_light, is_chinese, is_colour_only, is_style};

/// Openings of an English clause that gives a purpose or a manner.
#[rustfmt::skip]
const OPENERS_EN: &[&str] = &[
    "as if", "as though", "almost as if", "just like", "like it", "to give", "to add", "to make",
    "to create", "to evoke", "to enhance", "to bring", "to emphasize", "to emphasise",
    "to highlight", "to suggest", "to show", "to convey", "to capture", "to set", "to match",
    "to complement", "to balance", "to frame", "in order to", "so that", "so the", "so it",
    "so they", "so there", "so as to", "giving", "making", "creating", "adding a", "adding some",
    "adding an", "evoking", "bathed", "casting", "bringing", "suggesting", "emphasizing",
    "emphasising", "highlighting", "enhancing", "conveying", "capturing", "reflecting",
    "symbolizing", "symbolising", "its", "which", "that", "for a", "for an", "for some",
    "for more", "while", "with its", "with their", "resulting in", "letting", "allowing",
    "hinting", "implying", "looking like", "appearing", "seemingly", "evoking", "framing",
    "filling", "lending", "imparting", "injecting", "infusing", "conveying", "complementing",
    "echoing", "mimicking", "as it", "as they", "as he", "as she", "facing", "looking",
    "holding", "wearing", "carrying", "dressed", "sitting", "standing", "lying", "smiling",
    "with a", "with an", "with some", "with its", "gazing", "watching", "perched", "floating",
    "surrounded", "glowing softly", "in a", "in an",
];
/// Openings of a Chinese clause that gives a purpose or a manner.
#[rustfmt::skip]
const OPENERS_ZH: &[&str] = &[
    "仿佛", "好像", "似乎", "宛如", "犹如", "像是", "如同", "营造", "增添", "以", "来", "为了",
    "使画面", "使得画面", "使整体", "使照片", "使其", "让主体", "显得", "看起来", "突出", "凸显",
    "烘托", "衬托", "带来", "给人", "更有", "更显", "体现", "展现", "表现出", "寓意", "象征",
    "形成", "打造", "呈现出", "让人感觉", "让人觉得", "彷佛",
];
/// Chinese openings that are a purpose only when what follows is a feeling, not a change of
/// light or colour ("增加一点生机" but "增加一点暖色").
const SOFT_OPENERS_ZH: &[&str] = &["增加", "增强", "让画面", "使画面", "让照片", "让整体"];
const FEELINGS_ZH: &[&str] = &[
    "感",
    "氛围",
    "气息",
    "感觉",
    "意境",
    "活力",
    "生机",
    "趣味",
    "气氛",
    "故事性",
    "层次",
    "突出",
    "干净",
    "有趣",
    "生动",
    "温馨",
];

/// Whether a clause gives the purpose or the manner of the step before it.
pub fn is_purpose(clause: &str) -> bool {
    let lower = clause.trim().to_ascii_lowercase();
    if is_chinese(&lower) {
        if let Some(w) = OPENERS_ZH.iter().find(|w| lower.starts_with(**w)) {
            // "以油画风格重绘" is a restyle of its own, "以增强氛围" a purpose.
            return !(matches!(*w, "以" | "来") && is_style(&lower));
        }
        let soft = SOFT_OPENERS_ZH.iter().any(|w| lower.starts_with(w));
        let feeling = FEELINGS_ZH.iter().any(|w| lower.contains(w));
        let change = is_colour_only(&lower) || is_style(&lower) || has_light(&lower);
        return soft && feeling && !change;
    }
    OPENERS_EN.iter().any(|w| find_word(&lower, w) == Some(0))
}

/// Markers inside a clause after which the rest is a purpose or a manner.
#[rustfmt::skip]
const INNER_EN: &[&str] = &[
    " to add ", " to give ", " to make ", " to create ", " to evoke ", " to enhance ",
    " to bring ", " to suggest ", " so that ", " so the ", " so it ", " as if ", " as though ",
    " for a ", " for an ", " making ", " giving ", " creating ", " which ", " that ", " evoking ",
    " in order to ", " adding a ",
];

/// The part of a phrase before any purpose or manner ("a candle on the table" of "a candle on
/// the table to create a cozy mood").
pub fn cut_purpose(text: &str) -> &str {
    let lower = text.to_ascii_lowercase();
    let at = INNER_EN
        .iter()
        .filter_map(|m| lower.find(m))
        .min()
        .unwrap_or(text.len());
    text[..at].trim_end()
}

/// Whether a clause only says why the step is done ("to add a sense of leisure", "使画面更
/// 有趣"), as opposed to how the new thing looks ("holding a balloon").
pub fn is_why(clause: &str) -> bool {
    const MANNER: &[&str] = &[
        "holding",
        "wearing",
        "carrying",
        "dressed",
        "sitting",
        "standing",
        "lying",
        "smiling",
        "with",
        "in a",
        "in an",
        "looking",
        "facing",
        "gazing",
        "watching",
        "perched",
        "floating",
        "surrounded",
    ];
    let lower = clause.trim().to_ascii_lowercase();
    is_purpose(clause) && !MANNER.iter().any(|w| find_word(&lower, w) == Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_in_both_languages() {
        assert!(is_purpose("as if watching the sunset") && is_purpose("giving the room a glow"));
        assert!(is_purpose("营造温馨的感觉") && is_purpose("让画面更有生活气息"));
        assert!(is_purpose("增加一点生机") && !is_purpose("增加一点暖色调"));
        assert!(!is_purpose("add a dog") && !is_purpose("把天空变蓝"));
        assert_eq!(cut_purpose("a candle to create a cozy mood"), "a candle");
    }
}
