//! Clause segmentation: punctuation and connectives ("然后", "再", "then", "and") split an
//! instruction into clauses; lists inside one clause ("红色、蓝色", "black and white") stay whole.

use super::classify::starts_with_verb;
use super::lexicon::find_word;
use super::split::{split_unjoined, Quotes};

/// Longest input the planner reads, in characters. Planning is linear in the text, but nobody
/// writes an edit instruction this long; capping keeps the worst case bounded all the same.
pub const MAX_CHARS: usize = 2000;

/// Words that only join clauses: dropped from the front of a clause.
#[rustfmt::skip]
const LEADING_ZH: &[&str] = &[
    "然后", "接着", "随后", "之后", "并且", "而且", "同时", "另外", "还要", "最后", "首先",
    "第一步", "第二步", "第三步", "第四步", "第五步", "请你", "请", "帮我", "麻烦你", "麻烦",
    "帮忙", "我想要", "我想", "我要", "我希望", "我需要", "希望", "能不能", "能否", "可不可以",
    "可以", "求大神", "求", "大神", "给我", "你能", "你可以", "想要", "想", "需要", "试着", "尝试",
    "让我们", "我们", "能帮我", "能帮忙", "再", "并", "还", "也", "且", "先",
];
#[rustfmt::skip]
const LEADING_EN: &[&str] = &[
    "and then", "then", "and also", "and", "also", "after that", "afterwards", "next", "finally",
    "lastly", "firstly", "first", "secondly", "second", "thirdly", "third", "plus", "please",
    "pls", "kindly", "can you", "could you", "would you", "will you", "can someone",
    "could someone", "can anyone", "could anyone", "can somebody", "someone", "somebody",
    "would you mind", "do you mind", "would it be possible to", "is it possible to",
    "is there a way to", "is there any way to", "would love it if you could",
    "i'd love it if you could", "i'd love it if someone could", "would love it if someone could",
    "i'd love for you to", "i'd love you to", "i want you to", "i want to", "i'd like you to",
    "i'd like to", "i would like you to", "i would like to", "i need you to", "i need to",
    "i wish to", "we want to", "we need to", "we'd like to", "i want", "i'd like", "i would like",
    "i need", "i wish", "we want", "we need", "help me", "help", "try to", "try and",
    "go ahead and", "let's", "lets", "let us", "just", "now", "also", "maybe", "perhaps",
    "ideally", "you should", "you can", "you could", "we should", "need to", "want to",
    "can i get", "could i get", "can we get", "could we get", "can i have", "could i have",
    "i'm hoping you can", "hoping you can", "hoping someone can", "make sure to", "be sure to",
    "hi", "hello", "hey", "ok", "okay", "simply", "quickly", "then please",
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
    let mut quotes = Quotes::default();
    for (i, &(at, c)) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j].1);
        if quotes.step(c, prev) {
            continue;
        }
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
    // "Instead of the sedan, show a truck": the piece that names the old thing goes on.
    let mut merged: Vec<&str> = Vec::with_capacity(pieces.len());
    let mut glue_next = false;
    for piece in pieces {
        match merged.last_mut() {
            Some(last) if glue_next => {
                let from = last.as_ptr() as usize - text.as_ptr() as usize;
                let to = piece.as_ptr() as usize - text.as_ptr() as usize + piece.len();
                *last = &text[from..to];
            }
            _ => merged.push(piece),
        }
        let lower = piece.trim().to_ascii_lowercase();
        glue_next = ["instead of ", "rather than ", "in place of "]
            .iter()
            .any(|w| lower.starts_with(w))
            && lower.split(' ').count() <= 6;
    }
    merged
}

/// Cuts a piece before each connective that introduces a new action.
fn split_connectives(piece: &str) -> Vec<&str> {
    let lower = piece.to_ascii_lowercase();
    let quoted = Quotes::spans(piece);
    let mut found: Vec<(usize, usize)> = INNER_ZH
        .iter()
        .chain(INNER_EN.iter())
        .flat_map(|w| lower.match_indices(w).map(|(i, m)| (i, m.len())))
        .filter(|(i, _)| !quoted.iter().any(|(a, b)| a <= i && i < b))
        .collect();
    found.sort_by_key(|(at, len)| (*at, usize::MAX - len));
    let mut cuts = Vec::new();
    let mut from = 0;
    // Where the first word that is not a joining word starts: a connective before it has no
    // clause to end.
    let stripped = strip_lead(piece);
    let first_word = stripped.as_ptr() as usize - piece.as_ptr() as usize;
    for (at, len) in found {
        if at < from {
            continue;
        }
        // Only the next words decide, so the work stays linear in the input.
        let mut window = (at + len + 120).min(piece.len());
        while !piece.is_char_boundary(window) {
            window -= 1;
        }
        let rest = strip_lead(&piece[at + len..window]);
        let mut end = rest.len().min(80);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let rest = &rest[..end];
        if !stripped.is_empty() && at > first_word && starts_with_verb(rest) {
            cuts.push(at);
        }
        from = at + len;
    }
    cuts.extend(split_unjoined(&lower, &quoted));
    cuts.sort_unstable();
    cuts.dedup();
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
        if digits > 0 {
            if let Some(mark) = s[digits..]
                .chars()
                .next()
                .filter(|c| [')', '、'].contains(c))
            {
                s = &s[digits + mark.len_utf8()..];
            }
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
    let mut s = s.trim_end_matches(|c: char| c.is_whitespace() || "吧啊呀哦~吗呢".contains(c));
    loop {
        let before = s.len();
        for tail in TRAILING {
            let Some(head) = s.len().checked_sub(tail.len()).and_then(|at| s.get(..at)) else {
                continue;
            };
            let matches = s[head.len()..].eq_ignore_ascii_case(tail);
            let bounded = head
                .chars()
                .last()
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            if matches && (bounded || !tail.is_ascii()) && !head.trim().is_empty() {
                s = head.trim_end();
            }
        }
        if s.len() == before {
            break;
        }
    }
    s.trim()
}

/// Courtesy words that end a request without saying anything about it.
#[rustfmt::skip]
const TRAILING: &[&str] = &[
    "please", "thanks", "thank you", "if possible", "if you can", "for me", "lol", "pls",
    "thx", "thank you so much", "谢谢", "谢谢啦", "谢谢了", "好吗", "可以吗", "行吗", "一下", "吧",
];

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
