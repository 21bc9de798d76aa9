//! Slots of a clause: where its subject and its new value are, around the verb, in each
//! language's word order (把X换成Y, 用Y替换X, replace X with Y, make X Y, 让X变Y).

use super::lexicon::{
    find_word, has_light, is_chinese, is_colour_only, is_style, SHADE_FILLERS_EN,
};
use super::verbs::Verb;

/// The part of a Chinese clause between 把/将 and the verb.
pub fn zh_ba(before: &str) -> Option<String> {
    let at = ["把", "将"].iter().filter_map(|w| before.find(w)).min()?;
    clean(&before[at + '把'.len_utf8()..])
}

/// The subject of a Chinese clause that names it before the verb ("背景换成咖啡馆").
pub fn zh_subject(before: &str) -> Option<String> {
    let bare = ["给", "对", "在", "让"]
        .iter()
        .find_map(|p| before.trim().strip_prefix(p))
        .unwrap_or(before);
    zh_ba(before).or_else(|| clean(bare).filter(|b| lexicon_zh(b)))
}

pub fn swap_slots(
    clause: &str,
    before: &str,
    after: Option<String>,
    (word, verb): (&str, Verb),
) -> (Option<String>, Option<String>) {
    let after_text = after.clone().unwrap_or_default();
    let after_text = after_text
        .strip_prefix("out ")
        .map_or(after_text.clone(), str::to_string);
    let after = clean(&after_text);
    // 用Y替换X: the new value comes first.
    if let Some(rest) = before.strip_prefix('用') {
        return (after, clean(rest));
    }
    if verb == Verb::UseFor {
        if let Some((y, x)) = split_at_any(&after_text, &[" for "]) {
            return (x, y);
        }
        return split_at_any(&after_text, &[" with ", " by "]).unwrap_or((None, after));
    }
    // "the background changed to a beach", "I'd like the sofa swapped for a chair".
    let lower_after = after_text.to_ascii_lowercase();
    if !lexicon_zh(clause) {
        for lead in ["to ", "into ", "with ", "for ", "by ", "as "] {
            if lower_after.starts_with(lead) {
                return (clean(before), clean(&after_text[lead.len()..]));
            }
        }
    }
    let zh_x = zh_subject(before);
    // "改成", "换为" carry their own "into": what follows is the new value even when the
    // subject is left implicit ("改成吉卜力动画风").
    if lexicon_zh(clause) && (zh_x.is_some() || word.ends_with(['成', '为', '回'])) {
        return (zh_x, after);
    }
    // "替换X为Y", "replace X with Y", "change X to Y".
    let separators: &[&str] = match verb {
        Verb::SwapWith => &[
            " out for ",
            " out with ",
            " with ",
            " by ",
            " for ",
            " to ",
            " into ",
        ],
        _ if lexicon_zh(clause) => &["为", "成"],
        _ => &[" into ", " to ", " as "],
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
        const MARKERS: &[&str] = &[
            "变成",
            "变得",
            "变为",
            "看起来",
            "显得",
            "变",
            "更",
            "有",
            "是",
            "像",
        ];
        let cut = MARKERS
            .iter()
            .filter_map(|m| text.find(m).map(|i| (i, *m)))
            .min_by_key(|(i, m)| (*i, usize::MAX - m.len()));
        return match cut {
            Some((at, m)) => (
                clean(&text[..at]),
                clean(&text[at + m.len()..]),
                matches!(m, "变成" | "变为"),
            ),
            None => (None, after, false),
        };
    }
    if let Some((x, y)) = split_at_any(&text, &[" into "]) {
        return (x, y, true);
    }
    // "let the sky be pink", "make the sign say OPEN", "make the table out of marble".
    if let Some((x, y)) = split_at_any(&text, &[" be "]) {
        return (x, y, false);
    }
    if let Some((x, y)) = split_at_any(&text, &[" say ", " says ", " read ", " reads "]) {
        return (x, y, true);
    }
    if let Some(at) = ["made of", "out of", "made from", " from "]
        .iter()
        .find_map(|m| find_word(&text.to_ascii_lowercase(), m.trim()).filter(|at| *at > 0))
    {
        let material = text[at..].trim();
        let material = if material.to_ascii_lowercase().starts_with("from") {
            format!("made {material}")
        } else {
            material.to_string()
        };
        return (clean(&text[..at]), clean(&material), false);
    }
    // English puts the value after the subject: the first word that names a colour, a
    // material, light, a style or a look starts it ("make the shirt black").
    let lower = text.to_ascii_lowercase();
    let mut offset = 0;
    let words: Vec<&str> = lower.split(' ').collect();
    for (i, word) in words.iter().enumerate() {
        let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let next = words.get(i + 1).copied().unwrap_or("");
        // "make the man a woman", but not "let the cat sit on a couch".
        const BETWEEN: &[&str] = &[
            "on", "in", "at", "with", "from", "to", "into", "by", "near", "under", "over",
            "behind", "sit", "sits", "stand", "look", "looks", "be", "hold", "have", "like",
        ];
        let plain_subject = words[..i].iter().all(|w| !BETWEEN.contains(w));
        let article = ["a", "an"].contains(&bare)
            && plain_subject
            && !["bit", "little", "touch", "lot", "tad", "few"].contains(&next);
        if i > 0 && (starts_value(bare) || article) {
            return (clean(&text[..offset]), clean(&text[offset..]), false);
        }
        offset += word.len() + 1;
    }
    (after, None, false)
}

pub fn starts_value(word: &str) -> bool {
    const LOOKS: &[&str] = &[
        "look", "looks", "appear", "seem", "seems", "more", "less", "as", "like", "feel", "feels",
        "made",
    ];
    const INTENSE: &[&str] = &[
        "pure",
        "plain",
        "solid",
        "completely",
        "totally",
        "entirely",
        "fully",
        "all",
    ];
    !word.is_empty()
        && (LOOKS.contains(&word)
            || INTENSE.contains(&word)
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
