//! Adding, giving and placing: "add a hat", "give the dog a bow tie", "put the dog on a beach"
//! (a new background), "draw it as a sketch" (a restyle), "add warm light" (a relight).

use super::classify::Reading;
use super::decide::{decide, Mode};
use super::lexicon::{
    find_word, has_any, has_light, is_colour_only, is_style, LIGHT_NOUNS, STYLE_SUFFIXES_EN,
};
use super::purpose::cut_purpose;
use super::scene::{mentions_background, placed_in_scene};
use super::slots::{clean, split_at_any, zh_ba};
use super::target::head;
use crate::core::{Op, Region};

pub fn read_add(before: &str, after: Option<String>, why: String, word: &str) -> Reading {
    // "把花瓶放到桌子上": what follows the verb is where the thing goes.
    let moves = ["放到", "放在", "放进", "放入", "挂在", "摆在", "摆到"].contains(&word);
    let object = match zh_ba(before) {
        Some(thing) if moves => Some(thing),
        _ => after.clone().or_else(|| zh_ba(before)),
    };
    // "put my cat in a space suit": a definite subject is dressed in what follows "in a".
    let zh_place = (moves && zh_ba(before).is_some())
        .then(|| after.clone())
        .flatten()
        .filter(|place| placed_in_scene(place));
    let lower_object = object.as_deref().unwrap_or("").to_ascii_lowercase();
    let dressed = [
        "the ", "my ", "his ", "her ", "their ", "our ", "your ", "this ",
    ]
    .iter()
    .any(|d| lower_object.starts_with(d))
    .then(|| {
        [" in a ", " in an ", " into a ", " into an "]
            .iter()
            .find_map(|m| lower_object.find(m).map(|at| at + m.len()))
    })
    .flatten();
    let object = match (dressed, object.as_deref()) {
        (Some(at), Some(o)) if !placed_in_scene(o) => clean(&o[at..]).or(object.clone()),
        _ => object,
    };
    let text = object.as_deref().unwrap_or("");
    let zh = super::lexicon::is_chinese(text) || super::lexicon::is_chinese(before);
    // "put the dog on a beach", "把人物放到海边": the subject moves to a new background.
    let placed = if zh {
        zh_place.is_some() || (zh_ba(before).is_some() && placed_in_scene(text))
    } else {
        placed_in_scene(text)
    };
    if placed {
        let mut r = Reading::step(
            Op::Replace,
            None,
            object,
            format!("{why}; a subject put in a new place: replace the background"),
        );
        r.region = Some(Region::Background);
        return r;
    }
    // "draw it as a line drawing": the whole picture is redone, nothing is added.
    let lower = text.to_ascii_lowercase();
    let whole_first = [
        "it ",
        "this ",
        "the photo ",
        "the image ",
        "the picture ",
        "everything ",
    ]
    .iter()
    .find(|w| lower.starts_with(**w));
    if let Some(w) = whole_first {
        let d = decide(Mode::Make, Some(w.trim()), Some(&text[w.len()..]));
        if d.op != Op::Edit {
            return Reading::decided(d, Some(w.trim().to_string()), object, &why);
        }
    }
    let core = cut_purpose(text);
    let named = if zh {
        core.to_string()
    } else {
        head(core).unwrap_or_default()
    };
    let last = named.rsplit(' ').next().unwrap_or("").to_ascii_lowercase();
    if has_any(&named.to_ascii_lowercase(), LIGHT_NOUNS) && (zh || has_any(&last, LIGHT_NOUNS)) {
        return Reading::step(
            Op::Relight,
            None,
            object,
            format!("{why}; light is added: relight"),
        );
    }
    let trimmed = lower.trim_end_matches(|c: char| !c.is_alphanumeric());
    let style_tail = STYLE_SUFFIXES_EN
        .iter()
        .chain(&["effect", "look"])
        .any(|s| trimmed.ends_with(s) && find_word(trimmed, s).is_some())
        && is_style(trimmed)
        || ["风格", "画风", "滤镜"]
            .iter()
            .any(|s| trimmed.ends_with(s))
        || (zh && trimmed.ends_with('风'))
        || find_word(trimmed, "in the style of").is_some();
    if style_tail {
        return Reading::step(
            Op::Restyle,
            None,
            object,
            format!("{why}; a style is added: restyle"),
        );
    }
    let new_background = if zh {
        core.ends_with("背景")
    } else {
        super::scene::is_background(&named)
    };
    if new_background {
        let mut r = Reading::step(
            Op::Replace,
            None,
            object,
            format!("{why}; a new background: replace"),
        );
        r.region = Some(Region::Background);
        return r;
    }
    Reading::step(Op::Add, object, None, why)
}

pub fn read_give(after: Option<String>, why: String) -> Reading {
    let text = after.clone().unwrap_or_default();
    let (to, gift) =
        split_at_any(&text, &[" a ", " an ", " some ", " two ", " more "]).unwrap_or((None, after));
    let gift_text = gift.as_deref().unwrap_or("");
    if has_light(gift_text)
        || is_style(gift_text)
        || is_colour_only(gift_text)
        || mentions_background(gift_text)
    {
        let d = decide(Mode::Tune, to.as_deref().or(Some("it")), gift.as_deref());
        return Reading::decided(d, to, gift, &why);
    }
    Reading::step(
        Op::Add,
        gift,
        None,
        format!("{why}; something given is added"),
    )
}
