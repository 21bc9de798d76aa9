//! Typo repair: the verbs and the few nouns the rules hinge on, misspelt the common ways
//! ("reaplce", "remvoe", "chnage", "backgroud", "teh"), are put right before planning. Only
//! words that are not themselves English words near a verb ("remote", "darker") are touched.

/// Words the rules hinge on, long enough to repair by edit distance.
#[rustfmt::skip]
const TARGETS: &[&str] = &[
    "remove", "delete", "replace", "change", "erase", "eliminate", "insert", "paint", "colour",
    "color", "brighten", "darken", "lighten", "transform", "convert", "substitute", "background",
    "backdrop", "recolor", "stylize", "picture", "exchange", "illuminate", "switch", "instead",
];
/// Short words misspelt by a swap of two letters, put right as listed.
#[rustfmt::skip]
const FIXED: &[(&str, &str)] = &[
    ("teh", "the"), ("hte", "the"), ("wiht", "with"), ("wtih", "with"), ("whit", "with"),
    ("adn", "and"), ("nad", "and"), ("mkae", "make"), ("amke", "make"), ("maek", "make"),
    ("tunr", "turn"), ("trun", "turn"), ("swpa", "swap"), ("sawp", "swap"), ("addd", "add"),
    ("romve", "remove"), ("remvoe", "remove"), ("reomve", "remove"), ("plz", "please"),
    ("pls", "please"), ("inot", "into"), ("itno", "into"),
];
/// Real words one edit away from a target: never "repaired".
#[rustfmt::skip]
const REAL_WORDS: &[&str] = &[
    "remote", "removal", "chance", "charge", "changes", "paints", "point", "print", "pant",
    "faint", "saint", "taint", "colon", "dolor", "ease", "eraser", "erased", "insect", "invert",
    "inserts", "convent", "concert", "covert", "darker", "lighter", "brighter", "lighted",
    "colors", "colours", "pictures", "switch", "twitch", "stitch", "swatch", "inters", "inerts",
    "instead", "replica", "delight", "relate", "repeat", "remake", "revoke", "recover",
    "pointed", "painted", "printed", "colored", "coloured", "changer", "changed", "removed",
    "deleted", "replaced", "inserted", "converts", "select", "deflect", "detect", "pint",
    "pain", "inset", "insects",
];

/// Whether `word` is one edit (a letter changed, added, dropped, or two swapped) away from
/// `target`, with the same first letter.
fn one_edit(word: &[u8], target: &[u8]) -> bool {
    if word.first() != target.first() || word == target {
        return false;
    }
    match word.len() as isize - target.len() as isize {
        0 => {
            let diff: Vec<usize> = (0..word.len()).filter(|&i| word[i] != target[i]).collect();
            match diff.as_slice() {
                [_] => target.len() >= 6,
                [a, b] => *b == a + 1 && word[*a] == target[*b] && word[*b] == target[*a],
                _ => false,
            }
        }
        1 | -1 => {
            let (long, short) = if word.len() > target.len() {
                (word, target)
            } else {
                (target, word)
            };
            let at = (0..short.len())
                .find(|&i| long[i] != short[i])
                .unwrap_or(short.len());
            long[at + 1..] == short[at..] && target.len() >= 5
        }
        _ => false,
    }
}

/// Same letters in another order ("reaplce"), for the long words only.
fn anagram(word: &[u8], target: &[u8]) -> bool {
    if word.len() != target.len() || word.len() < 6 || word.first() != target.first() {
        return false;
    }
    let mut a = word.to_vec();
    let mut b = target.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

fn repair_word(word: &str) -> Option<&'static str> {
    let lower = word.to_ascii_lowercase();
    if let Some((_, right)) = FIXED.iter().find(|(wrong, _)| *wrong == lower) {
        return Some(right);
    }
    if lower.len() < 4 || REAL_WORDS.contains(&lower.as_str()) || TARGETS.contains(&lower.as_str())
    {
        return None;
    }
    let w = lower.as_bytes();
    TARGETS
        .iter()
        .find(|t| one_edit(w, t.as_bytes()) || anagram(w, t.as_bytes()))
        .copied()
}

/// The text with misspelt key words put right; everything else is kept byte for byte.
pub fn repair(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word_start: Option<usize> = None;
    let flush = |out: &mut String, word: &str| match repair_word(word) {
        Some(right) => out.push_str(right),
        None => out.push_str(word),
    };
    for (i, c) in text.char_indices() {
        if c.is_ascii_alphabetic() {
            word_start.get_or_insert(i);
            continue;
        }
        if let Some(start) = word_start.take() {
            flush(&mut out, &text[start..i]);
        }
        out.push(c);
    }
    if let Some(start) = word_start {
        flush(&mut out, &text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_misspellings_are_repaired() {
        assert_eq!(
            repair("reaplce teh dog wiht a cat"),
            "replace the dog with a cat"
        );
        assert_eq!(
            repair("remvoe the car, delte the text"),
            "remove the car, delete the text"
        );
        assert_eq!(repair("chnage the backgroud"), "change the background");
        assert_eq!(repair("brigthen it"), "brighten it");
    }

    #[test]
    fn real_words_stay() {
        for text in [
            "make it darker",
            "the remote",
            "a print",
            "plate",
            "a changed man",
            "把猫删除",
        ] {
            assert_eq!(repair(text), text);
        }
    }
}
