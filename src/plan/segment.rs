//! Clause segmentation: punctuation and connectives ("然后", "再", "then", "and") split an
//! instruction into clauses; lists inside one clause ("红色、蓝色", "black and white") stay whole.

use super::classify::starts_with_verb;
use super::lexicon::find_word;

/// Longest input the planner reads, in characters. Planning is linear in the text, but nobody
/// writes an edit instruction this long; capping keeps the worst case bounded all the same.
pub const MAX_CHARS: usize = 2000;

/// Words that only join clauses: dropped from the front of a clause.
#[rustfmt::skip]
const LEADING_ZH: &[&str] = &[
    "然后", "接着", "随后", "之后", "并且", "而且", "同时", "另外", "还要", "最后", "首先",
    "第一步", "第二步", "第三步", "第四步", "请你", "请", "帮我", "麻烦", "帮忙", "我想要", "我想",
    "我要", "希望", "再", "并", "还", "也", "且", "先",
];
#[rustfmt::skip]
const LEADING_EN: &[&str] = &[
    "and then", "then", "and also", "and", "also", "after that", "afterwards", "next", "finally",
    "lastly", "firstly", "first", "secondly", "second", "thirdly", "third", "plus", "please",
    "can you", "could you", "i want to", "i'd like to", "i would like to", "now",
];
/// Connectives that may start a new clause in the middle of a piece, when what follows them
/// is a new action (so "合并", "再次", "black and white" are not split).
#[rustfmt::skip]
const INNER_ZH: &[&str] = &[
    "然后", "接着", "随后", "之后", "并且", "同时", "另外", "还要", "最后", "再", "并",
];
#[rustfmt::skip]
const INNER_EN: &[&str] = &[
    " and then ", " then ", " and also ", " and ", " after that ", " also ", " plus ",
];
/// Words that say the user's order is deliberate, so the planner keeps it.
#[rustfmt::skip]
const EXPLICIT_ORDER: &[&str] = &[
    "首先", "第一步", "最后", "first", "firstly", "finally", "lastly", "at the end", "before that",
    "beforehand",
];

/// Full-width forms to ASCII, sentence punctuation unified, length capped.
pub fn normalize(text: &str) -> String {
    text.chars()
        .take(MAX_CHARS)
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' | '\t' => ' ',
            '。' => '.',
            '\n' | '\r' => ';',
            other => other,
        })
        .collect()
}

/// Whether the user spelled out the order of the steps ("先…", "first…", "finally…").
pub fn explicit_order(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let without_mister = lower.replace("先生", "");
    EXPLICIT_ORDER
        .iter()
        .any(|w| find_word(&lower, w).is_some())
        || without_mister.contains('先')
}

/// Splits normalized text into clauses, each stripped of joining words.
pub fn clauses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for piece in split_punctuation(text) {
        for clause in split_connectives(piece) {
            let clause = strip_lead(clause);
            // A clause with no word at all ("1" of "1.", "--") carries nothing to plan.
            if clause.chars().any(char::is_alphabetic) {
                out.push(clause.to_string());
            }
        }
    }
    out
}

fn split_punctuation(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, &(at, c)) in chars.iter().enumerate() {
        let cut = match c {
            ',' | ';' | '!' | '?' => true,
            // A dot between digits is a decimal ("0.5"), not the end of a sentence.
            '.' => {
                let prev = i.checked_sub(1).map(|j| chars[j].1);
                let next = chars.get(i + 1).map(|p| p.1);
                !(prev.is_some_and(|p| p.is_ascii_digit())
                    && next.is_some_and(|n| n.is_ascii_digit()))
            }
            _ => false,
        };
        if cut {
            pieces.push(&text[start..at]);
            start = at + c.len_utf8();
        }
    }
    pieces.push(&text[start..]);
    pieces
}

/// Cuts a piece before each connective that introduces a new action.
fn split_connectives(piece: &str) -> Vec<&str> {
    let lower = piece.to_ascii_lowercase();
    let mut cuts = Vec::new();
    let mut from = 0;
    while from < lower.len() {
        let next = INNER_ZH
            .iter()
            .chain(INNER_EN.iter())
            .filter_map(|w| lower[from..].find(w).map(|i| (from + i, w.len())))
            .min();
        let Some((at, len)) = next else { break };
        let rest = strip_lead(&piece[at + len..]);
        let lead = piece[..at].trim();
        if at > 0 && !strip_lead(lead).is_empty() && starts_with_verb(rest) {
            cuts.push(at);
        }
        from = at + len;
    }
    let mut out = Vec::new();
    let mut start = 0;
    for at in cuts {
        out.push(&piece[start..at]);
        start = at;
    }
    out.push(&piece[start..]);
    out
}

/// Drops joining words, polite prefixes and list numbers from the front of a clause, and
/// trailing particles from its end.
pub fn strip_lead(clause: &str) -> &str {
    let mut s = clause.trim();
    loop {
        let before = s.len();
        s = s.trim_start_matches(|c: char| c.is_whitespace() || "(:-*•①②③④⑤⑥⑦⑧⑨".contains(c));
        // "1)" or "2、" numbering a list of steps.
        let digits = s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && s[digits..].starts_with([')', '、']) {
            s = &s[digits + 1..];
        }
        for w in LEADING_ZH {
            if let Some(rest) = s.strip_prefix(w) {
                s = rest;
                break;
            }
        }
        for w in LEADING_EN {
            let (Some(head), Some(rest)) = (s.get(..w.len()), s.get(w.len()..)) else {
                continue;
            };
            let boundary = rest
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            if head.eq_ignore_ascii_case(w) && boundary {
                s = rest;
                break;
            }
        }
        if s.len() == before {
            break;
        }
    }
    s.trim_end_matches(|c: char| c.is_whitespace() || "吧啊呀哦~".contains(c))
        .trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<String> {
        clauses(&normalize(text))
    }

    #[test]
    fn splits_on_punctuation_of_both_widths() {
        assert_eq!(
            split("把坐在沙发上的男人换成穿旗袍的女人，面带微笑；窗外阳光洒入。"),
            [
                "把坐在沙发上的男人换成穿旗袍的女人",
                "面带微笑",
                "窗外阳光洒入"
            ]
        );
        assert_eq!(
            split("删除画面右侧的垃圾桶,并补全地面"),
            ["删除画面右侧的垃圾桶", "补全地面"]
        );
    }

    #[test]
    fn splits_on_connectives_only_before_an_action() {
        assert_eq!(split("删除男人再添加一只猫"), ["删除男人", "添加一只猫"]);
        assert_eq!(split("去掉路人然后整体提亮"), ["去掉路人", "整体提亮"]);
        assert_eq!(
            split("Delete the trash can and add a bench"),
            ["Delete the trash can", "add a bench"]
        );
        assert_eq!(
            split("Make the photo cooler and a bit darker"),
            ["Make the photo cooler and a bit darker"]
        );
        assert_eq!(
            split("make it black and white"),
            ["make it black and white"]
        );
        assert_eq!(split("把两张桌子合并"), ["把两张桌子合并"]);
    }

    #[test]
    fn strips_joining_words_numbers_and_decimals_survive() {
        assert_eq!(
            split("1. remove the dog; 2. then add a cat"),
            ["remove the dog", "add a cat"]
        );
        assert_eq!(
            split("And then brighten it by 0.5 stops"),
            ["brighten it by 0.5 stops"]
        );
        assert_eq!(split("，，"), Vec::<String>::new());
    }

    #[test]
    fn normalizes_full_width_and_caps_length() {
        assert_eq!(normalize("ＬＯＧＯ，删除"), "LOGO,删除");
        assert_eq!(normalize(&"字".repeat(5000)).chars().count(), MAX_CHARS);
    }

    #[test]
    fn detects_explicit_order() {
        assert!(explicit_order("先提亮,再删除路人"));
        assert!(explicit_order("First brighten it, then remove the man"));
        assert!(!explicit_order("删除路人,然后提亮"));
        assert!(!explicit_order("把先生的帽子去掉"));
    }
}
