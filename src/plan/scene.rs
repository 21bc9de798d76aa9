//! The background and the scene: the words for the backdrop of a picture ("setting",
//! "surroundings", "环境"), the places a subject can be put in ("a beach", "海边"), and the
//! rules that make such a change a `replace` of the background.

use super::lexicon::{find_word, has_any, is_chinese, residue};

/// Nouns that name the backdrop of the picture.
#[rustfmt::skip]
pub const BACKGROUND_EN: &[&str] = &[
    "background", "backdrop", "backgrounds", "setting", "surroundings", "surrounding",
    "environment", "scenery", "backdrops", "bg", "back ground",
];
#[rustfmt::skip]
pub const BACKGROUND_ZH: &[&str] = &[
    "背景", "环境", "场景", "景色", "风景", "周围", "周边", "身后", "后面的景", "远景", "底图", "背影墙",
];

/// Places a subject can be put in: putting the subject there changes its background.
#[rustfmt::skip]
const SCENES_EN: &[&str] = &[
    "beach", "forest", "desert", "city", "street", "park", "mountain", "mountains", "moon",
    "office", "garden", "field", "jungle", "meadow", "ocean", "sea", "snowfield", "studio",
    "classroom", "library", "kitchen", "cafe", "restaurant", "stage", "castle", "island",
    "countryside", "village", "farm", "savanna", "underwater", "reef", "cave", "volcano", "arctic",
    "galaxy", "planet", "mars", "cityscape", "skyline", "rooftop", "alley", "market", "temple",
    "church", "stadium", "airport", "station", "campus", "bedroom", "living room", "bathroom",
    "space", "outer space", "landscape", "valley", "lake", "riverbank", "seaside", "shore",
    "coast", "grassland", "prairie", "swamp", "waterfall", "glacier", "tundra", "hill", "hills",
    "woods", "paris", "tokyo", "new york", "london", "venice", "times square", "scene",
    "wonderland", "battlefield", "spaceship", "palace", "courtyard", "plaza", "subway", "pool",
];
#[rustfmt::skip]
const SCENES_ZH: &[&str] = &[
    "海边", "沙滩", "海滩", "森林", "沙漠", "城市", "街道", "街头", "公园", "雪山", "山顶", "太空",
    "月球", "办公室", "花园", "草原", "草地", "丛林", "雨林", "海底", "教室", "图书馆", "厨房",
    "咖啡馆", "餐厅", "舞台", "城堡", "岛上", "乡村", "农场", "洞穴", "宇宙", "火星", "天台",
    "市场", "寺庙", "教堂", "机场", "车站", "校园", "卧室", "客厅", "湖边", "河边", "山谷", "瀑布",
    "冰川", "巴黎", "东京", "纽约", "伦敦", "故宫", "长城", "外滩", "田野", "山上", "海上", "星空下",
];

/// Words that say the background is to be blurred rather than replaced.
const BLUR: &[&str] = &[
    "blur",
    "blurry",
    "blurred",
    "bokeh",
    "out of focus",
    "虚化",
    "模糊",
    "景深",
];

/// Whether the phrase names the background ("the backdrop", "背景", "周围的环境").
pub fn is_background(phrase: &str) -> bool {
    let lower = phrase.to_ascii_lowercase();
    if is_chinese(&lower) {
        return has_any(&lower, BACKGROUND_ZH);
    }
    let last = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take_while(|w| {
            ![
                "of", "behind", "around", "to", "in", "with", "so", "that", "which", "for", "at",
                "on", "near", "into", "as", "like",
            ]
            .contains(w)
        })
        .last()
        .unwrap_or("");
    BACKGROUND_EN.contains(&last)
}

/// Whether the text mentions the background anywhere ("a jungle background").
pub fn mentions_background(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    has_any(&lower, BACKGROUND_EN) || has_any(&lower, BACKGROUND_ZH)
}

pub fn is_blur(text: &str) -> bool {
    has_any(&text.to_ascii_lowercase(), BLUR)
}

/// Whether a new value only says how light the background is ("darker", "a bit brighter"),
/// not what it shows.
pub fn light_only(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    #[rustfmt::skip]
    const LIGHT_WORDS: &[&str] = &[
        "darker", "brighter", "lighter", "dimmer", "warmer", "cooler", "dark", "bright", "dim",
        "warm", "cool", "moodier", "less", "much", "too", "way", "a", "bit", "little", "more",
        "slightly", "亮", "暗", "暖", "冷", "一点", "一些", "更", "变", "得", "调", "再", "很", "太",
        "些", "点", "稍微",
    ];
    !lower.is_empty() && residue(&lower, &[LIGHT_WORDS]).is_empty()
}

/// "the dog on a sandy beach", "the car in a desert setting": a subject already in the
/// picture, put in a place. Returns whether the place is a scene (the background changes).
pub fn placed_in_scene(object: &str) -> bool {
    let lower = object.to_ascii_lowercase();
    if is_chinese(&lower) {
        return has_any(&lower, SCENES_ZH) || has_any(&lower, BACKGROUND_ZH);
    }
    let first = lower.split(' ').next().unwrap_or("");
    const DEFINITE: &[&str] = &[
        "the",
        "my",
        "his",
        "her",
        "their",
        "its",
        "our",
        "your",
        "this",
        "that",
        "him",
        "them",
        "it",
        "these",
        "those",
        "everyone",
        "everything",
    ];
    if !DEFINITE.contains(&first) {
        return false;
    }
    let Some((at, prep)) = ["in", "on", "at", "into", "onto", "to", "inside"]
        .iter()
        .filter_map(|p| find_word(&lower, p).map(|at| (at, *p)))
        .min()
    else {
        return false;
    };
    let place = lower[at + prep.len()..].trim();
    let head: Vec<&str> = place
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take_while(|w| !["with", "at", "during", "under", "near", "and"].contains(w))
        .collect();
    let last = head.last().copied().unwrap_or("");
    let pair = head
        .len()
        .checked_sub(2)
        .map(|i| format!("{} {}", head[i], head[i + 1]))
        .unwrap_or_default();
    SCENES_EN.contains(&last) || SCENES_EN.contains(&pair.as_str()) || BACKGROUND_EN.contains(&last)
}

/// Whether a value puts the whole picture somewhere ("look like we're at the beach",
/// "as if it were in Paris").
pub fn names_scene(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if is_chinese(&lower) {
        return ["在", "到"].iter().any(|p| lower.contains(p)) && has_any(&lower, SCENES_ZH);
    }
    ["at", "in", "on", "into"].iter().any(|p| {
        find_word(&lower, p).is_some_and(|at| placed_in_scene(&format!("the {}", &lower[at..])))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backgrounds_and_scenes() {
        assert!(is_background("the backdrop") && is_background("周围的环境"));
        assert!(is_background("the scenery behind the woman"));
        assert!(!is_background("the man in the background"));
        assert!(placed_in_scene("the dog on a sandy beach"));
        assert!(placed_in_scene("the car in a desert setting"));
        assert!(
            !placed_in_scene("a dog on the sofa") && !placed_in_scene("my cat in a space suit")
        );
        assert!(light_only("a bit darker") && !light_only("a sunset over the ocean"));
    }
}
