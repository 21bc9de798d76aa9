//! Slots of a clause: where its subject and its new value are, around the verb, in each
//! language's word order (把X换成Y, 用Y替换X, replace X with Y, make X Y, 让X变Y).

use super::lexicon::{has_light, is_chinese, is_colour_only, is_style, SHADE_FILLERS_EN};
use super::verbs::Verb;

/// The part of a Chinese clause between 把/将 and the verb.
pub fn zh_ba(before: &str) -> Option<String> {
    let at = ["把", "将"].iter().filter_map(|w| before.find(w)).min()?;
    clean(&before[at + '把'.len_utf8()..])
}

/// The subject of a Chinese clause that names it before the verb ("背景换成咖啡馆").
pub fn zh_subject(before: &str) -> Option<String> {
    zh_ba(before).or_else(|| clean(before).filter(|b| lexicon_zh(b)))
}

pub fn swap_slots(
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
pub fn make_slots(
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

pub fn starts_value(word: &str) -> bool {
    const LOOKS: &[&str] = &[
        "look", "looks", "appear", "seem", "more", "less", "as", "like",
    ];
    !word.is_empty()
        && (LOOKS.contains(&word)
            || is_colour_only(word)
            || has_light(word)
            || is_style(word)
            || SHADE_FILLERS_EN[..6].contains(&word))
}

pub fn split_at_any(text: &str, separators: &[&str]) -> Option<(Option<String>, Option<String>)> {
    let lower = text.to_ascii_lowercase();
    let (at, len) = separators
        .iter()
        .filter_map(|s| lower.find(s).map(|i| (i, s.len())))
        .min()?;
    Some((clean(&text[..at]), clean(&text[at + len..])))
}

pub fn lexicon_zh(text: &str) -> bool {
    is_chinese(text)
}

/// Trims spaces and particles; an empty slot is `None`.
pub fn clean(text: &str) -> Option<String> {
    // Degree words say how much, not what: "调亮一些" has no subject.
    const DEGREES: &[&str] = &[
        "一点", "一些", "一下", "些许", "稍微", "a bit", "a little", "slightly", "a touch",
    ];
    let mut t = text
        .trim()
        .trim_start_matches(['了', '掉', '个'])
        .trim_end_matches(['了', '掉', '吧', '也', '都', '还'])
        .trim();
    for degree in DEGREES {
        if let Some(rest) = t.strip_suffix(degree) {
            t = rest.trim();
        }
    }
    (!t.is_empty()).then(|| t.to_string())
}
