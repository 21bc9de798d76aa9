//! Where a clause ends when nothing marks it: quoted text is never cut, and in a request
//! written without punctuation or "and" ("去掉水印提亮画面", "remove the watermark brighten
//! the image") a new action verb after a finished action starts a new clause.

use super::verbs::{ascii_words, earliest_verb, lemma_of, Verb};

/// Quoted text, which is the words to write and never holds a clause boundary.
#[derive(Debug, Default)]
pub struct Quotes {
    open: Option<char>,
    inside: usize,
}

/// Longest quotation honoured, in characters: past it an unclosed quote is ignored.
const LONGEST_QUOTE: usize = 80;

impl Quotes {
    fn closer(open: char) -> char {
        match open {
            '“' => '”',
            '‘' => '’',
            '「' => '」',
            '『' => '』',
            other => other,
        }
    }

    /// Feeds one character; returns whether it is inside a quotation (quote marks included).
    pub fn step(&mut self, c: char, prev: Option<char>) -> bool {
        if let Some(open) = self.open {
            self.inside += 1;
            if c == Self::closer(open) || self.inside > LONGEST_QUOTE {
                self.open = None;
            }
            return true;
        }
        let opens = match c {
            '"' | '“' | '‘' | '「' | '『' => true,
            '\'' => prev.is_none_or(|p| !p.is_alphanumeric()),
            _ => false,
        };
        if opens {
            self.open = Some(c);
            self.inside = 0;
        }
        opens
    }

    /// The byte ranges of the quotations in `text`.
    pub fn spans(text: &str) -> Vec<(usize, usize)> {
        let mut quotes = Quotes::default();
        let mut spans = Vec::new();
        let mut start = None;
        let mut prev = None;
        for (i, c) in text.char_indices() {
            let inside = quotes.step(c, prev);
            match (inside, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    spans.push((s, i));
                    start = None;
                }
                _ => {}
            }
            if inside && quotes.open.is_none() {
                if let Some(s) = start.take() {
                    spans.push((s, i + c.len_utf8()));
                }
            }
            prev = Some(c);
        }
        if let Some(s) = start {
            spans.push((s, text.len()));
        }
        spans
    }
}

/// Verbs that start a new action even with nothing before them.
#[rustfmt::skip]
const STRONG_EN: &[&str] = &[
    "remove", "delete", "erase", "add", "replace", "change", "make", "brighten", "darken",
    "swap", "insert", "recolor", "recolour", "convert", "transform", "lighten", "eliminate",
];
/// Words after which a verb is part of the phrase ("to add", "the change", "can remove").
#[rustfmt::skip]
const BOUND_EN: &[&str] = &[
    "to", "and", "or", "the", "a", "an", "its", "his", "her", "their", "my", "your", "our",
    "this", "that", "these", "those", "in", "of", "for", "with", "please", "can", "could",
    "would", "will", "should", "must", "you", "i", "we", "not", "don't", "dont", "also", "then",
    "just", "help", "me", "us", "let's", "lets", "let", "might", "may", "who", "which", "shall",
    "cannot", "can't", "how", "what", "why", "did", "do", "does", "be", "being", "been", "is",
    "are", "was", "were", "easily", "some", "no", "any", "next", "quick", "small", "big",
    "slight", "final", "first", "last", "one", "another", "colour", "color", "nice", "new",
];
#[rustfmt::skip]
const STRONG_ZH: &[&str] = &[
    "删除", "删掉", "去掉", "去除", "移除", "抹掉", "擦掉", "添加", "加上", "加一", "加个", "放一",
    "增加", "提亮", "调亮", "调暗", "压暗", "只保留", "保留", "把", "将",
];

/// The largest char boundary of `text` at or below `at`.
fn floor(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Cuts inside a piece with no punctuation and no connective, before each new action.
pub fn split_unjoined(lower: &str, quoted: &[(usize, usize)]) -> Vec<usize> {
    let in_quote = |at: usize| quoted.iter().any(|(a, b)| *a <= at && at < *b);
    let mut cuts = Vec::new();
    if super::lexicon::is_chinese(lower) {
        let mut start = 0;
        let mut found: Vec<(usize, usize)> = STRONG_ZH
            .iter()
            .flat_map(|w| lower.match_indices(w).map(|(at, m)| (at, at + m.len())))
            .collect();
        found.sort_by_key(|(at, end)| (*at, usize::MAX - end));
        // A candidate inside a longer one ("加一" of "添加一只") is part of that word.
        let mut covered = 0;
        let mut candidates = Vec::new();
        for (at, end) in found {
            if at >= covered {
                candidates.push(at);
            }
            covered = covered.max(end);
        }
        for at in candidates {
            // "一把伞": a measure word, not the 把 of an action.
            let measure = lower[..at]
                .chars()
                .last()
                .is_some_and(|c| "一两几这那每半".contains(c));
            if at <= start || in_quote(at) || measure {
                continue;
            }
            // Only the recent text decides, so the work stays linear in the input.
            let from = floor(lower, at.saturating_sub(90)).max(start);
            let window = &lower[from..at];
            let Some(hit) = earliest_verb(window) else {
                continue;
            };
            let end = hit.at + hit.len;
            let object = window[end..].chars().any(super::lexicon::is_cjk);
            let ba = window[..hit.at].contains('把') || window[..hit.at].contains('将');
            // A connective already ends the clause; "整体", "画面" are the next verb's subject.
            let particle = [
                "的", "要", "想", "来", "去", "再", "并", "整体", "画面", "照片", "图片", "全图",
            ]
            .iter()
            .any(|p| window.ends_with(p))
                || [
                    "然后", "接着", "随后", "之后", "并且", "同时", "另外", "还要", "最后", "再",
                    "并",
                ]
                .iter()
                .any(|c| window[end..].contains(c));
            if (object || ba) && !particle && hit.verb != Verb::Keep {
                cuts.push(at);
                start = at;
            }
        }
        return cuts;
    }
    let words: Vec<(usize, &str)> = ascii_words(lower).collect();
    let mut start = 0;
    let mut clause_has_verb = false;
    for (i, &(at, word)) in words.iter().enumerate() {
        if i == start {
            clause_has_verb = lemma_of(word).is_some();
            continue;
        }
        let strong = STRONG_EN.contains(&word);
        let bound = BOUND_EN.contains(&words[i - 1].1);
        if strong
            && !bound
            && clause_has_verb
            && i >= start + 2
            && i + 1 < words.len()
            && !in_quote(at)
        {
            cuts.push(at);
            start = i;
            clause_has_verb = true;
        }
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str) -> Vec<usize> {
        let lower = text.to_ascii_lowercase();
        split_unjoined(&lower, &Quotes::spans(text))
    }

    #[test]
    fn unjoined_actions_are_cut() {
        assert_eq!(cut("去掉水印提亮画面"), ["去掉水印".len()]);
        assert_eq!(cut("remove the watermark brighten the image"), [21]);
        assert!(cut("把坐在沙发上的男人换成穿旗袍的女人").is_empty());
        assert!(cut("place a bicycle in the foreground to add a sense of leisure").is_empty());
        assert!(cut("add the text 'remove me' on top").is_empty());
    }

    #[test]
    fn quotes_are_spans() {
        assert_eq!(Quotes::spans("say \"a, b\" now"), [(4, 10)]);
        assert_eq!(Quotes::spans("the man's hat"), []);
    }
}
