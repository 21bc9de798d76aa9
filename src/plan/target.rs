//! Target extraction: the short noun phrase a step acts on ("坐在沙发上的男人" → "男人",
//! "the man sitting on the sofa" → "man"), and the location a subject is described by.

use super::lexicon::{is_chinese, is_cjk, BEINGS_EN, BEINGS_ZH, WHOLE_IMAGE_EN};

/// Place words that may open a Chinese noun phrase without being part of the thing.
#[rustfmt::skip]
const PLACE_PREFIXES_ZH: &[&str] = &[
    "画面中", "画面里", "画面上", "画面", "图中", "图里", "图片中", "图片里", "照片中", "照片里",
    "背景里", "背景中", "背景上", "左上角", "右上角", "左下角", "右下角", "左侧", "右侧", "左边",
    "右边", "中间", "上方", "下方", "这个", "那个", "这些", "那些", "这位", "那位", "所有", "全部",
];
const LOCATION_MARKERS_ZH: &[&str] = &["坐在", "站在", "躺在", "靠在", "蹲在", "趴在", "在", "于"];
const NUMERALS_ZH: &str = "一两二三四五六七八九十几数半每这那";
const CLASSIFIERS_ZH: &str =
    "个只张盆朵棵条件位台辆本杯块幅株座头匹群些片双对把顶束瓶碗盘盏艘架轮枝根道行";
#[rustfmt::skip]
const DETERMINERS_EN: &[&str] = &[
    "the", "a", "an", "this", "that", "these", "those", "some", "all", "any", "every", "his",
    "her", "their", "its", "my", "our", "your", "one", "two", "three", "few", "several", "teh",
    "more", "both", "each", "any", "another", "other", "extra",
];
/// Words that end an English noun phrase ("the man | sitting on the sofa").
#[rustfmt::skip]
const STOPS_EN: &[&str] = &[
    "on", "in", "at", "with", "from", "near", "behind", "beside", "next", "by", "under", "over",
    "above", "below", "that", "which", "who", "whose", "sitting", "standing", "lying", "leaning",
    "wearing", "holding", "to", "into", "for", "of", "and", "so", "a", "an", "as", "completely",
    "entirely", "please", "except", "but", "swimming", "flying", "running", "walking", "playing",
    "sleeping", "floating", "hanging", "falling", "jumping", "looking", "smiling", "eating",
    "drinking", "reading", "riding", "coming", "streaming", "shining", "perched", "dressed",
    "instead", "there", "here", "look", "looks", "like", "be", "is", "are", "should", "say",
    "says", "feel", "feels", "seem", "seems", "made", "facing", "where", "across", "around",
    "against", "inside", "onto", "through", "toward", "towards", "along", "if", "then", "while",
    "parked", "placed", "covered", "filled", "removed", "replaced", "changed", "than", "rather",
    "during", "before", "after", "between", "up", "down", "out", "off", "the", "was", "were",
];
/// Containers that keep their "of" ("a cup of coffee").
#[rustfmt::skip]
const MEASURES_EN: &[&str] = &[
    "cup", "glass", "bowl", "vase", "bunch", "pair", "piece", "bottle", "plate", "pile", "stack",
    "box", "bouquet", "group", "flock", "pot", "basket", "jar", "slice", "herd",
];
/// Objects of a location that are parts of the frame, not things to keep.
#[rustfmt::skip]
const FRAME_WORDS: &[&str] = &[
    "left", "right", "top", "bottom", "corner", "center", "centre", "middle", "background",
    "foreground", "side", "image", "photo", "picture", "frame", "edge", "左", "右", "上", "下",
    "中", "角", "背景", "画面", "图",
];

/// The short noun phrase naming what `phrase` points at; `None` when nothing is left.
pub fn head(phrase: &str) -> Option<String> {
    let found = if is_chinese(phrase) {
        head_zh(phrase)
    } else {
        head_en(phrase)
    };
    found.filter(|h| !h.is_empty())
}

fn head_zh(phrase: &str) -> Option<String> {
    let mut s = phrase.trim_matches(|c: char| !c.is_alphanumeric());
    // Of "一本书和一杯茶" the first thing named is the target.
    for and in ["以及", "和", "与", "跟", "及", "还有"] {
        if let Some(at) = s.find(and).filter(|at| *at > 0) {
            s = &s[..at];
        }
    }
    // The head noun follows the last modifier ("坐在沙发上的男人" → "男人").
    if let Some(at) = s.rfind('的') {
        let tail = &s[at + '的'.len_utf8()..];
        // "雪花飘落的效果" is about the snow: a generic noun defers to its modifier.
        let generic = [
            "效果", "部分", "样子", "感觉", "东西", "颜色", "毛色", "肤色", "发色", "材质", "质地",
            "材料", "表情", "姿势", "数量",
        ]
        .contains(&tail);
        if tail.chars().any(char::is_alphanumeric) && !generic {
            s = tail;
        } else {
            s = &s[..at];
        }
    }
    // "头发颜色" is the hair.
    s = s
        .strip_suffix("颜色")
        .filter(|r| !r.is_empty())
        .unwrap_or(s);
    for marker in LOCATION_MARKERS_ZH {
        if let Some(at) = s.find(marker).filter(|at| *at > 0) {
            s = &s[..at];
        }
    }
    loop {
        let before = s.len();
        for prefix in PLACE_PREFIXES_ZH {
            if let Some(rest) = s.strip_prefix(prefix).filter(|r| !r.is_empty()) {
                s = rest;
            }
        }
        s = strip_numeral(s);
        s = s.trim_start_matches(['点', '些']);
        s = strip_colour(s);
        if s.len() == before {
            break;
        }
    }
    let s = s.trim_matches(|c: char| !c.is_alphanumeric());
    // The head is at the end of a Chinese phrase; keep a readable tail of an over-long one.
    let chars: Vec<char> = s.chars().collect();
    Some(chars[chars.len().saturating_sub(12)..].iter().collect())
}

/// "一盆绿植" → "绿植".
fn strip_numeral(s: &str) -> &str {
    let mut chars = s.char_indices();
    let (Some((_, n)), Some((_, c))) = (chars.next(), chars.next()) else {
        return s;
    };
    match chars.next() {
        Some((at, _)) if NUMERALS_ZH.contains(n) && CLASSIFIERS_ZH.contains(c) => &s[at..],
        _ => s,
    }
}

/// "红色T恤" → "T恤": a leading colour is a modifier, the thing comes after it.
fn strip_colour(s: &str) -> &str {
    let Some(at) = s.find('色') else { return s };
    let rest = s[at + '色'.len_utf8()..].trim_start_matches('的');
    let modifier = &s[..at];
    let short = modifier.chars().count() <= 3;
    if short && !rest.is_empty() && super::lexicon::is_colour_only(&s[..at + '色'.len_utf8()]) {
        rest
    } else {
        s
    }
}

fn head_en(phrase: &str) -> Option<String> {
    let words: Vec<&str> = phrase
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    // "the car's color" is about the car.
    let owner = lower.iter().position(|w| {
        ["color", "colour", "colors", "colours", "shade", "tone"].contains(&w.as_str())
    });
    if let Some(i) = owner.filter(|i| *i > 0 && lower[i - 1].ends_with("'s")) {
        let before: Vec<&str> = words[..i].to_vec();
        let mut joined = before.join(" ");
        joined.truncate(joined.len() - 2);
        return head_en(&joined);
    }
    let mut start = 0;
    // "the colour of the car" is about the car.
    if let Some(of) = lower.iter().position(|w| w == "of") {
        if lower[..of].iter().any(|w| {
            [
                "color",
                "colour",
                "shade",
                "tone",
                "material",
                "texture",
                "fabric",
                "finish",
                "pose",
                "expression",
                "size",
                "number",
                "colors",
                "colours",
            ]
            .contains(&w.as_str())
        }) {
            start = of + 1;
        }
    }
    while start < words.len() && DETERMINERS_EN.contains(&lower[start].as_str()) {
        start += 1;
    }
    let mut end = start;
    while end < words.len() {
        let w = lower[end].as_str();
        let kept_of = w == "of" && end > start && MEASURES_EN.contains(&lower[end - 1].as_str());
        // "black and white cat" is one phrase: "and" between colours does not end it.
        let colours_joined = w == "and"
            && [end.checked_sub(1), Some(end + 1)].iter().all(|i| {
                i.and_then(|i| lower.get(i))
                    .is_some_and(|w| super::lexicon::COLOURS_EN.contains(&w.as_str()))
            });
        if end > start && STOPS_EN.contains(&w) && !kept_of && !colours_joined {
            break;
        }
        end += 1;
    }
    let from = start.max(end.saturating_sub(4));
    Some(words[from..end].join(" "))
}

/// Whether the head names a person or an animal.
pub fn is_being(head: &str) -> bool {
    if is_chinese(head) {
        // The noun that ends the head decides: "路人" is a person, "三人座" a sofa.
        let bare = head.trim_end_matches(|c: char| !is_cjk(c));
        return BEINGS_ZH.iter().any(|w| bare.ends_with(w));
    }
    head.split_whitespace().any(|w| {
        let w = w.to_ascii_lowercase();
        let singular = w.strip_suffix('s').unwrap_or(&w);
        BEINGS_EN.contains(&w.as_str()) || BEINGS_EN.contains(&singular)
    })
}

/// Whether a subject means the whole picture ("照片", "全部产品图", "the whole scene", "it"):
/// decided by its head, so "图片中所有的文字" is the text, not the picture.
pub fn is_whole_image(phrase: &str) -> bool {
    const ZH_ENDINGS: &[&str] = &[
        "照片", "图片", "画面", "图像", "相片", "场景", "图", "整体", "全局",
    ];
    const ZH_ALONE: &[&str] = &["整体", "全部", "所有", "整个", "整张", "全图", "整幅"];
    if is_chinese(phrase) {
        let bare = phrase.trim_matches(|c: char| !is_cjk(c));
        if ZH_ALONE.contains(&bare) {
            return true;
        }
        let h = head_zh(phrase).unwrap_or_default();
        return ZH_ENDINGS.iter().any(|w| h.ends_with(w));
    }
    let h = head_en(&phrase.to_ascii_lowercase()).unwrap_or_default();
    h.rsplit(' ')
        .next()
        .is_some_and(|last| WHOLE_IMAGE_EN.contains(&last))
}

/// Whether a subject is a part of the frame (the background) rather than an object.
pub fn is_frame_part(head: &str) -> bool {
    let h = head.to_ascii_lowercase();
    [
        "背景",
        "前景",
        "background",
        "foreground",
        "backdrop",
        "setting",
        "surroundings",
        "environment",
        "scenery",
        "环境",
        "场景",
        "景色",
        "风景",
    ]
    .contains(&h.as_str())
}

/// A subject described by where it is: what to call it without the place, the place phrase
/// for the thing that replaces it, and the thing to keep while deleting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub core: String,
    pub place: Option<String>,
    pub keep: Option<String>,
}

/// "坐在沙发上的男人" → core "男人", place "坐在沙发上", keep "沙发";
/// "the man sitting on the sofa" → core "the man", place "sitting on the sofa", keep "the sofa".
pub fn locate(subject: &str) -> Located {
    let plain = Located {
        core: subject.to_string(),
        place: None,
        keep: None,
    };
    if is_chinese(subject) {
        let Some(at) = subject.find('在') else {
            return plain;
        };
        let Some(de) = subject[at..].find('的').map(|d| at + d) else {
            return plain;
        };
        let posture_at = subject[..at]
            .char_indices()
            .last()
            .filter(|(_, c)| "坐站躺靠蹲趴停挂摆放".contains(*c))
            .map_or(at, |(i, _)| i);
        let place = &subject[posture_at..de];
        let object = subject[at + '在'.len_utf8()..de]
            .trim_end_matches(|c: char| "上里中旁边前后下内外面".contains(c));
        let core = format!(
            "{}{}",
            &subject[..posture_at],
            &subject[de + '的'.len_utf8()..]
        );
        let keep = (!object.is_empty() && !FRAME_WORDS.iter().any(|w| object.contains(w)))
            .then(|| object.to_string());
        return Located {
            core,
            place: Some(place.to_string()),
            keep,
        };
    }
    let words: Vec<&str> = subject.split_whitespace().collect();
    const PLACE_OPENERS: &[&str] = &[
        "sitting", "standing", "lying", "leaning", "on", "in", "at", "by", "near", "next",
        "beside", "under", "behind",
    ];
    let Some(at) = words
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, w)| PLACE_OPENERS.contains(&w.to_ascii_lowercase().as_str()))
        .map(|(i, _)| i)
    else {
        return plain;
    };
    let place = words[at..].join(" ");
    let last_prep = words
        .iter()
        .rposition(|w| {
            [
                "on", "in", "at", "by", "near", "beside", "under", "behind", "to",
            ]
            .contains(&w.to_ascii_lowercase().as_str())
        })
        .filter(|p| *p >= at);
    let keep = last_prep
        .map(|p| words[p + 1..].join(" "))
        .filter(|k| !k.is_empty())
        .filter(|k| {
            !FRAME_WORDS
                .iter()
                .any(|w| k.to_ascii_lowercase().split(' ').any(|x| x == *w))
        });
    Located {
        core: words[..at].join(" "),
        place: Some(place),
        keep,
    }
}

#[cfg(test)]
#[path = "target_tests.rs"]
mod tests;
