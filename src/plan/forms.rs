//! Sentence forms: a clause written as a description, a question or a wish ("the cat is
//! wearing a hat", "what if the sky was green", "there should be a boat", "I want the walls
//! to be white", "天空是粉色的", "草地上没有人") is rewritten into the imperative the rules
//! read ("give the cat a hat", "make the sky green", "add a boat", "删除草地上的人").

use super::forms_zh::canonical_zh;
use super::lexicon::{find_word, has_light, is_chinese, is_colour_only, is_style};
use super::verbs::{earliest_verb, lemma_of};

/// A clause rewritten into an order, and the name of the form it was written in.
pub struct Canonical {
    pub text: String,
    pub form: Option<&'static str>,
}

/// The clause as an order the rules can read, and the form it came in (`None`: as written).
pub fn canonical(clause: &str) -> Canonical {
    let found = if is_chinese(clause) {
        canonical_zh(clause)
    } else {
        canonical_en(clause, false)
    };
    match found {
        Some((text, form)) => Canonical {
            text,
            form: Some(form),
        },
        None => Canonical {
            text: clause.to_string(),
            form: None,
        },
    }
}

const FIRST_PERSON: &[&str] = &["i", "my", "me", "we", "our", "us", "mine", "i'm", "i've"];
const DEFINITE: &[&str] = &[
    "the", "my", "his", "her", "their", "its", "our", "your", "this", "that", "these", "those",
];
const BE: &[&str] = &[
    "should be",
    "must be",
    "needs to be",
    "need to be",
    "has to be",
    "have to be",
    "ought to be",
    "could be",
    "would be",
    "will be",
    "can be",
    "to be",
    "is now",
    "are now",
    "is",
    "are",
    "was",
    "were",
    "be",
];

fn canonical_en(clause: &str, imagined: bool) -> Option<(String, &'static str)> {
    let lower = clause.to_ascii_lowercase();
    let text = clause.trim();
    let lower = lower.trim();
    // "What if the man had a beard?", "imagine the cat as a lion".
    for lead in [
        "what if ",
        "what about if ",
        "imagine if ",
        "suppose ",
        "imagine ",
    ] {
        if let Some(rest) = lower.strip_prefix(lead) {
            let rest_text = &text[lead.len()..];
            if lead == "imagine " && find_word(rest, "as").is_some() {
                return Some((
                    format!("make {}", rest_text.replacen(" as ", " into ", 1)),
                    "imagine X as Y",
                ));
            }
            let inner = canonical_en(rest_text, true).map_or(rest_text.to_string(), |(t, _)| t);
            return Some((inner, "what if …"));
        }
    }
    if let Some(found) = there_is(text, lower) {
        return Some(found);
    }
    if let Some(found) = instead_of(text, lower) {
        return Some(found);
    }
    if let Some(found) = phrasal_delete(text, lower) {
        return Some(found);
    }
    if let Some(found) = count_change(text, lower) {
        return Some(found);
    }
    // "No cars on the street", "the photo without the tourists".
    if earliest_verb(lower).is_none() {
        if let Some(rest) = lower.strip_prefix("no ") {
            return Some((
                format!("remove {}", &text[text.len() - rest.len()..]),
                "no X",
            ));
        }
        if let Some(at) = find_word(lower, "without") {
            let rest = text[at + "without".len()..].trim();
            if !rest.is_empty() {
                return Some((format!("remove {rest}"), "X without Y"));
            }
        }
    }
    // "Could the sky be a little more blue?": a question about how a thing should be.
    for modal in ["could ", "can ", "would ", "should ", "will "] {
        if let Some(rest) = lower.strip_prefix(modal) {
            if let Some(at) = find_word(rest, "be").filter(|at| *at > 0) {
                let x = &text[modal.len()..modal.len() + at];
                let y = &text[modal.len() + at + 2..];
                return Some((format!("make {} {}", x.trim(), y.trim()), "could X be Y"));
            }
        }
    }
    if let Some(found) = x_be_y(text, lower, imagined) {
        return Some(found);
    }
    if let Some(found) = possession(text, lower) {
        return Some(found);
    }
    // "(I want) a hat on the dog": a thing and where it goes.
    let first = lower.split(' ').next().unwrap_or("");
    let second = lower.split(' ').nth(1).unwrap_or("");
    let placed = [
        "on", "in", "at", "near", "over", "under", "next", "beside", "behind",
    ]
    .iter()
    .any(|p| find_word(lower, p).is_some());
    let thing = ["a", "an", "some"].contains(&first)
        && !["bit", "little", "touch", "lot", "tad"].contains(&second);
    (thing && placed && earliest_verb(lower).is_none()).then(|| (format!("add {text}"), "a X on Y"))
}

/// "There is a rainbow", "there should be no people": an add, or a delete of what is not there.
fn there_is(text: &str, lower: &str) -> Option<(String, &'static str)> {
    let rest_at = [
        "there's ",
        "there is ",
        "there are ",
        "there should be ",
        "there will be ",
    ]
    .iter()
    .chain(&[
        "there must be ",
        "there needs to be ",
        "there would be ",
        "there be ",
    ])
    .find(|p| lower.starts_with(**p))
    .map(|p| p.len())?;
    let rest = &text[rest_at..];
    let rest_lower = &lower[rest_at..];
    match rest_lower.strip_prefix("no ") {
        Some(_) => Some((format!("remove {}", &rest[3..]), "there is no X")),
        None => Some((format!("add {rest}"), "there is X")),
    }
}

/// "Use a lantern instead of the lamp", "put a teddy bear in place of the child", "instead of
/// the sedan show a truck": a replace of the thing named after "instead of".
fn instead_of(text: &str, lower: &str) -> Option<(String, &'static str)> {
    let (at, marker) = ["instead of ", "in place of ", "rather than "]
        .iter()
        .find_map(|m| find_word(lower, m.trim_end()).map(|at| (at, *m)))?;
    let openers = [
        "use", "have", "put", "add", "show", "place", "with", "want", "see", "get",
    ];
    let strip_opener = |s: &str| -> String {
        let s = s.trim();
        let first = s.split(' ').next().unwrap_or("").to_ascii_lowercase();
        match openers.contains(&first.as_str()) {
            true => s[first.len()..].trim().to_string(),
            false => s.to_string(),
        }
    };
    let old_and_rest = &text[(at + marker.len()).min(text.len())..];
    if at == 0 {
        // "instead of the sedan show a pickup truck": the old thing runs up to the verb.
        let verb_at = old_and_rest
            .to_ascii_lowercase()
            .split(' ')
            .scan(0, |pos, w| {
                let here = *pos;
                *pos += w.len() + 1;
                Some((here, w.to_string()))
            })
            .find(|(_, w)| openers.contains(&w.as_str()))
            .map(|(p, _)| p)?;
        let old = old_and_rest[..verb_at].trim().trim_end_matches(',');
        let new = strip_opener(&old_and_rest[verb_at..]);
        return Some((format!("replace {old} with {new}"), "instead of X, Y"));
    }
    let before = lower[..at].trim();
    let first = before.split(' ').next().unwrap_or("");
    let adds = openers.contains(&first) || earliest_verb(before).is_none();
    if !adds {
        return None;
    }
    let new = strip_opener(&text[..at]);
    Some((
        format!("replace {} with {new}", old_and_rest.trim()),
        "Y instead of X",
    ))
}

/// "Take the car out", "get the bird out of the picture", "wipe the graffiti off the wall".
fn phrasal_delete(text: &str, lower: &str) -> Option<(String, &'static str)> {
    let first = lower.split(' ').next()?;
    let particles: &[&str] = match first {
        "take" | "get" | "cut" | "edit" | "photoshop" | "crop" => &["out"],
        "wipe" | "scrub" | "rub" | "clean" | "strip" => &["off", "away", "out", "up"],
        _ => return None,
    };
    let rest = &lower[first.len()..];
    let (at, particle) = particles
        .iter()
        .filter_map(|p| find_word(rest, p).map(|at| (at, *p)))
        .min()?;
    let object = text[first.len()..first.len() + at].trim();
    if object.is_empty() || object.split(' ').count() > 8 {
        return None;
    }
    let tail = text[first.len() + at + particle.len()..].trim();
    let tail = tail.strip_prefix("of ").unwrap_or(tail);
    let text = match tail.is_empty() {
        true => format!("remove {object}"),
        false => format!("remove {object} from {tail}"),
    };
    Some((text, "take X out"))
}

/// "Increase the number of balloons", "double the number of fish", "fewer trees".
fn count_change(text: &str, lower: &str) -> Option<(String, &'static str)> {
    let at = find_word(lower, "number of")?;
    let thing = text[at + "number of".len()..].trim();
    let before = &lower[..at];
    let more = ["increase", "double", "triple", "more", "raise", "boost"]
        .iter()
        .any(|w| find_word(before, w).is_some());
    let fewer = [
        "reduce", "decrease", "fewer", "less", "lower", "halve", "cut",
    ]
    .iter()
    .any(|w| find_word(before, w).is_some());
    match (more, fewer) {
        (true, false) => Some((format!("add more {thing}"), "more of X")),
        (false, true) => Some((format!("remove some {thing}"), "fewer of X")),
        _ => None,
    }
}

/// "The dress should be yellow", "the walls need to be painted yellow", "it is nighttime",
/// "the picture looks like a painting": how a thing should be, as "make X Y".
fn x_be_y(text: &str, lower: &str, imagined: bool) -> Option<(String, &'static str)> {
    if FIRST_PERSON.iter().any(|w| find_word(lower, w).is_some()) {
        return None;
    }
    if let Some(at) = ["looks like", "look like", "looks", "seems"]
        .iter()
        .find_map(|w| find_word(lower, w).filter(|at| *at > 0))
        .filter(|_| earliest_verb(lower).is_none())
    {
        let x = text[..at].trim();
        return Some((format!("make {x} {}", text[at..].trim()), "X looks like Y"));
    }
    let (at, be) = BE
        .iter()
        .filter_map(|b| find_word(lower, b).filter(|at| *at > 0).map(|at| (at, *b)))
        .min_by_key(|(at, b)| (*at, usize::MAX - b.len()))?;
    let mut x = text[..at].trim();
    let y = text[at + be.len()..].trim();
    let y_lower = y.to_ascii_lowercase();
    // "let the sky be pink", "have the bus be red".
    for lead in ["let ", "have ", "make "] {
        if x.len() > lead.len()
            && x.get(..lead.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(lead))
        {
            x = x[lead.len()..].trim();
        }
    }
    let modal = [
        "would", "could", "should", "will", "can", "must", "might", "may",
    ]
    .contains(
        &x.split(' ')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str(),
    );
    if x.is_empty() || y.is_empty() || modal || earliest_verb(&x.to_ascii_lowercase()).is_some() {
        return None;
    }
    // "needs to be painted yellow", "should be removed": the verb is in the participle.
    let first = y_lower.split(' ').next().unwrap_or("");
    if let Some((verb, lemma)) =
        lemma_of(first).filter(|_| first.ends_with("ed") || first.ends_with('n'))
    {
        let rest = y[first.len()..].trim();
        let rest = rest
            .strip_prefix("with ")
            .or_else(|| rest.strip_prefix("by "))
            .map_or(rest.to_string(), |r| format!("with {r}"));
        let _ = verb;
        return Some((
            format!("{lemma} {x} {rest}").trim().to_string(),
            "X should be done",
        ));
    }
    let stated = matches!(be, "is" | "are" | "was" | "were" | "is now" | "are now");
    let first_of_x = x.split(' ').next().unwrap_or("").to_ascii_lowercase();
    if stated && ["a", "an", "some", "two", "three", "several"].contains(&first_of_x.as_str()) {
        // "A dog is sitting on the bench": something that is not there yet.
        return Some((format!("add {x} {y}"), "a X is …"));
    }
    if stated && !imagined {
        // A plain statement is only an edit when what it says is a look the rules know
        // ("the sky is purple"), not a remark ("it's for a listing").
        let known = is_colour_only(y)
            || has_light(y)
            || is_style(y)
            || y_lower.starts_with("made of")
            || y_lower.starts_with("covered in");
        if !known || earliest_verb(&lower[..at]).is_some() {
            return None;
        }
        if matches!(
            first,
            "for" | "in" | "on" | "at" | "from" | "by" | "so" | "too" | "very"
        ) && !has_light(y)
        {
            return None;
        }
    }
    Some((format!("make {x} {y}"), "X should be Y"))
}

/// "The man has a beard", "what if the dog had a hat", "the man with a mustache".
fn possession(text: &str, lower: &str) -> Option<(String, &'static str)> {
    if earliest_verb(lower).is_some() || FIRST_PERSON.iter().any(|w| find_word(lower, w).is_some())
    {
        return None;
    }
    let first = lower.split(' ').next().unwrap_or("");
    if !DEFINITE.contains(&first) && !["a", "an"].contains(&first) {
        return None;
    }
    let (at, word) = ["has", "have", "had", "with"]
        .iter()
        .filter_map(|w| find_word(lower, w).filter(|at| *at > 0).map(|at| (at, *w)))
        .min()?;
    let owner = text[..at].trim();
    let thing = text[at + word.len()..].trim();
    let thing = thing.strip_suffix(" on").unwrap_or(thing);
    (!thing.is_empty()).then(|| (format!("add {thing} to {owner}"), "X has Y"))
}

#[cfg(test)]
#[path = "forms_tests.rs"]
mod tests;
