//! Keyword tables (Chinese and English) and the word matching the planner's rules share.
//!
//! Every table is matched against ASCII-lowercased text, so English entries are lowercase.
//! English entries only match as whole words (so "right" is not found in "bright"), Chinese
//! entries match anywhere.

pub use super::vocab::{
    has_decade, LIGHT_EN, LIGHT_FALSE_FRIENDS_ZH, LIGHT_ZH, STYLE_EN, STYLE_SUFFIXES_EN,
    STYLE_SUFFIXES_ZH, STYLE_ZH,
};

/// Words naming a person or an animal: replacing one of them inside a compound instruction is
/// split into delete then add, because generative models keep the old subject's pose otherwise.
#[rustfmt::skip]
pub const BEINGS_ZH: &[&str] = &[
    "男人", "女人", "男孩", "女孩", "小孩", "孩子", "儿童", "婴儿", "宝宝", "老人", "人物", "路人",
    "行人", "游客", "模特", "男子", "女子", "男士", "女士", "少女", "少年", "学生", "新娘", "新郎",
    "人", "他", "她", "狗", "猫", "鸟", "马", "牛", "羊", "猪", "兔", "熊", "狮", "虎", "鱼", "鸭",
    "鸡", "猴", "象", "鹿", "狐", "松鼠", "宠物", "动物", "猫咪", "狗狗", "鸟儿", "孩", "娃",
];
#[rustfmt::skip]
pub const BEINGS_EN: &[&str] = &[
    "man", "men", "woman", "women", "person", "people", "child", "children", "kid", "boy", "girl",
    "baby", "guy", "lady", "gentleman", "pedestrian", "passerby", "tourist", "model", "bride",
    "groom", "soldier", "player", "he", "she", "him", "her", "dog", "puppy", "cat", "kitten",
    "bird", "horse", "cow", "sheep", "pig", "rabbit", "bear", "lion", "tiger", "fish", "duck",
    "chicken", "monkey", "elephant", "deer", "fox", "squirrel", "pet", "animal", "owl", "parrot",
    "wolf", "figure",
];

/// Colours, shades and surface materials: a new value made only of these is a recolor.
#[rustfmt::skip]
pub const COLOURS_ZH: &[&str] = &[
    "颜色", "色系", "酒红", "藏青", "咖啡", "卡其", "红", "橙", "橘", "黄", "绿", "青", "蓝", "紫",
    "粉", "黑", "白", "灰", "棕", "褐", "米", "金", "银", "彩", "色", "黑白",
];
#[rustfmt::skip]
pub const MATERIALS_ZH: &[&str] = &[
    "皮质", "真皮", "皮革", "木质", "实木", "木头", "金属", "不锈钢", "大理石", "玻璃", "布艺",
    "布料", "丝绸", "棉麻", "亚麻", "磨砂", "丝绒", "绒面", "石材", "陶瓷", "塑料", "藤编", "哑光",
    "亮面", "皮", "木", "竹", "毛毡", "羊毛", "毛绒", "针织", "青铜", "黄铜", "铜", "铁", "铝",
    "黄金", "纯金", "水晶", "冰", "纸", "纸板", "玉", "翡翠", "橡胶", "蕾丝", "缎面", "牛仔", "灯芯绒",
    "羊绒", "尼龙", "石头", "石", "花岗岩", "砖", "瓷砖", "陶", "瓷", "树脂", "亚克力", "帆布", "草编",
    "橡木", "胡桃木", "碳纤维", "透明", "半透明", "毛皮", "钢", "混凝土", "水泥", "铁艺", "鳄鱼皮",
];
/// Degree and filler words that may surround a colour without making it a new object.
#[rustfmt::skip]
pub const SHADE_FILLERS_ZH: &[&str] = &[
    "一点", "一些", "稍微", "有点", "浅", "深", "淡", "浓", "鲜", "亮", "暗", "纯", "偏", "更",
    "略", "的", "点", "些", "材质", "质地", "面料", "质感", "材料", "做的", "制成", "制", "成",
    "效果", "纹理", "纹", "一样", "全", "是", "从", "改", "到", "换", "变", "由",
];
#[rustfmt::skip]
pub const COLOURS_EN: &[&str] = &[
    "red", "orange", "yellow", "green", "blue", "purple", "violet", "pink", "black", "white",
    "grey", "gray", "brown", "beige", "gold", "golden", "silver", "navy", "teal", "cyan",
    "magenta", "blonde", "blond", "auburn", "brunette", "platinum", "bluer", "redder", "greener", "yellower", "whiter", "pinker", "greyer", "grayer",
    "maroon", "turquoise", "crimson", "scarlet", "ivory", "cream", "tan", "khaki", "olive",
    "lavender", "lilac", "burgundy", "coral", "mint", "charcoal", "indigo", "emerald", "color",
    "colour", "colored", "coloured", "colors", "colours", "shade", "lime", "peach", "rose",
    "amber", "aqua", "azure", "bronze", "copper", "rust", "salmon", "sand", "taupe", "mauve",
    "fuchsia", "chartreuse", "sapphire", "ruby", "jade", "ochre", "sienna", "mustard", "plum",
    "wine", "brick", "orangey", "pinkish", "bluish", "reddish", "greenish", "yellowish",
    "purplish", "greyish", "grayish", "brownish", "monochrome", "grayscale", "greyscale",
    "sepia-toned", "rainbow", "multicolored", "multicoloured", "neon", "hue", "hues",
];
#[rustfmt::skip]
pub const MATERIALS_EN: &[&str] = &[
    "leather", "wood", "wooden", "metal", "metallic", "steel", "marble", "glass", "fabric",
    "cloth", "velvet", "silk", "cotton", "linen", "denim", "suede", "stone", "ceramic", "plastic",
    "bamboo", "rattan", "wicker", "brass", "copper", "chrome", "concrete", "matte", "glossy",
    "felt", "wool", "woolen", "woollen", "knit", "knitted", "fur", "furry", "bronze", "iron",
    "aluminum", "aluminium", "titanium", "porcelain", "crystal", "ice", "paper", "cardboard",
    "rubber", "lace", "satin", "tweed", "corduroy", "cashmere", "nylon", "polyester", "sequin",
    "sequined", "mesh", "granite", "brick", "tile", "tiled", "terracotta", "resin", "acrylic",
    "foam", "canvas", "straw", "oak", "walnut", "pine", "mahogany", "pewter", "stainless",
    "carbon", "fiber", "fibre", "transparent", "translucent", "shiny", "frosted", "sparkly",
    "glittery", "golden", "gold", "silver", "jade", "clay", "ceramics", "timber", "plywood",
    "exposed", "textured", "texture", "polished", "lacquered", "gilded", "chromed", "quartz",
    "gravel", "asphalt", "cobblestone", "cobblestones", "pebble", "pebbles", "satin",
];
#[rustfmt::skip]
pub const SHADE_FILLERS_EN: &[&str] = &[
    "light", "dark", "pale", "deep", "bright", "vivid", "pastel", "muted", "a", "an", "the", "of",
    "and", "or", "more", "slightly", "bit", "little", "very", "some", "in", "to", "be", "all",
    "material", "finish", "vibrant", "saturated", "rich", "richer", "one", "ones", "made",
    "out", "from", "paint", "job", "coat", "instead", "look", "like", "it", "is", "entirely",
    "completely", "fully", "solid", "pure", "plain", "bold", "soft", "warm", "cool", "hot",
    "color", "colour", "tinted", "with", "stripes", "striped", "polka", "dots", "dotted",
    "checkered", "plaid", "pattern", "patterned", "spots", "spotted", "shades", "tone", "toned",
    "metallic", "painted", "dyed", "instead", "than", "rather", "nice", "beautiful", "lovely",
    "subtle", "sheen", "shimmer", "hint", "touch", "tint", "deeper", "darker", "lighter",
    "brighter", "paler", "softer", "stronger", "bolder", "shade", "shades", "sheer",
];

/// Subjects that mean the whole picture rather than one thing in it.
#[rustfmt::skip]
pub const WHOLE_IMAGE_EN: &[&str] = &[
    "it", "photo", "picture", "image", "scene", "everything", "whole", "entire", "overall", "shot",
    "frame", "all", "photograph", "view", "composition", "this", "pic", "photos", "images",
    "pictures", "artwork", "painting", "everything", "world", "landscape", "setting",
];
/// Subjects that are the light itself ("把灯光改成暖黄" is a relight, not a replace).
#[rustfmt::skip]
pub const LIGHTING_SUBJECTS: &[&str] = &[
    "灯光", "光线", "光照", "色调", "色温", "亮度", "曝光", "天气", "季节", "时间", "时节", "氛围",
    "lighting", "light", "lights", "tone", "brightness", "exposure", "white balance", "weather",
    "season", "time of day", "mood", "atmosphere", "ambience", "ambiance", "time of year",
];

/// Position of the first occurrence of `needle` in `hay` that stands as a word. ASCII needles
/// must not touch ASCII letters or digits on either side; other needles match anywhere.
pub fn find_word(hay: &str, needle: &str) -> Option<usize> {
    find_word_from(hay, needle, 0)
}

/// Like [`find_word`], starting the search at byte `from` (a char boundary).
pub fn find_word_from(hay: &str, needle: &str, from: usize) -> Option<usize> {
    let bytes = hay.as_bytes();
    let wordy = |b: u8| b.is_ascii_alphanumeric();
    let check_start = needle.as_bytes().first().is_some_and(|b| wordy(*b));
    let check_end = needle.as_bytes().last().is_some_and(|b| wordy(*b));
    let tail = hay.get(from..)?;
    for (i, _) in tail.match_indices(needle) {
        let start = from + i;
        let end = start + needle.len();
        let before_ok = !check_start || start == 0 || !wordy(bytes[start - 1]);
        let after_ok = !check_end || end >= bytes.len() || !wordy(bytes[end]);
        if before_ok && after_ok {
            return Some(start);
        }
    }
    None
}

pub fn has_word(hay: &str, needle: &str) -> bool {
    find_word(hay, needle).is_some()
}

pub fn has_any(hay: &str, table: &[&str]) -> bool {
    table.iter().any(|w| has_word(hay, w))
}

/// Whether `text` contains a Chinese (CJK) character: the planner answers in that language.
pub fn is_chinese(text: &str) -> bool {
    text.chars().any(is_cjk)
}

pub fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// What is left of `text` once every table entry is blanked out: used to ask "is this value
/// only a colour?" without a parser.
pub fn residue(text: &str, tables: &[&[&str]]) -> String {
    let mut left = text.to_ascii_lowercase();
    for table in tables {
        for word in table.iter() {
            if !left.contains(word) {
                continue;
            }
            let mut blanked = String::with_capacity(left.len());
            let mut last = 0;
            let mut from = 0;
            while let Some(at) = find_word_from(&left, word, from) {
                blanked.push_str(&left[last..at]);
                blanked.push(' ');
                last = at + word.len();
                from = last;
            }
            blanked.push_str(&left[last..]);
            left = blanked;
        }
    }
    left.chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
}

/// A value made only of colours, shades and materials ("浅绿色", "dark brown", "leather").
pub fn is_colour_only(value: &str) -> bool {
    let text = value.to_ascii_lowercase();
    let has_colour = has_any(&text, COLOURS_ZH)
        || has_any(&text, COLOURS_EN)
        || has_any(&text, MATERIALS_ZH)
        || has_any(&text, MATERIALS_EN);
    has_colour
        && residue(
            &text,
            &[
                COLOURS_ZH,
                MATERIALS_ZH,
                SHADE_FILLERS_ZH,
                COLOURS_EN,
                MATERIALS_EN,
                SHADE_FILLERS_EN,
            ],
        )
        .trim_end_matches("ish")
        .is_empty()
}

/// Whether the text speaks of light, tone, brightness or time of day.
pub fn has_light(text: &str) -> bool {
    let mut lower = text.to_ascii_lowercase();
    for word in LIGHT_FALSE_FRIENDS_ZH {
        lower = lower.replace(word, " ");
    }
    if has_any(&lower, LIGHT_ZH) {
        return true;
    }
    // "light blue" and "dark brown" are shades of a colour, not lighting.
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty())
        .collect();
    let shade = |i: usize| {
        words
            .get(i + 1)
            .is_some_and(|next| COLOURS_EN.contains(next))
    };
    LIGHT_EN.iter().any(|entry| {
        if entry.contains(' ') {
            return has_word(&lower, entry);
        }
        words
            .iter()
            .enumerate()
            .any(|(i, w)| w == entry && !shade(i))
    })
}

/// Light a user can add as a thing ("增加午后阳光效果", "add warm evening light").
#[rustfmt::skip]
pub const LIGHT_NOUNS: &[&str] = &[
    "光", "色调", "色温", "暖调", "冷调", "氛围", "阴影", "黄昏", "夕阳", "曝光", "亮度", "light",
    "lights", "lighting", "sunlight", "sunshine", "sunbeam", "sunbeams", "glow", "rays", "shadows",
    "backlight", "moonlight", "candlelight", "lamplight", "golden hour", "sunset", "sunrise",
    "tone", "tones", "contrast", "exposure", "brightness", "warmth", "对比度", "饱和度", "余晖",
    "光效",
];

/// Whether a new value is a style, judged by what it ends in: "波斯风格的红色地毯" is a rug
/// and "a Persian-style rug" too, while "日系胶片风格" and "a comic book illustration" are
/// styles.
pub fn is_style_value(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let lower = lower.trim_end_matches(|c: char| !c.is_alphanumeric());
    if is_chinese(lower) {
        let tail = lower.rsplit('的').next().unwrap_or(lower);
        return is_style(tail);
    }
    if has_word(lower, "style of") {
        return true;
    }
    let last = lower.rsplit(' ').next().unwrap_or(lower);
    let ends_with = |entry: &&str| {
        lower.ends_with(entry)
            && find_word(&lower[lower.len() - entry.len()..], entry) == Some(0)
            && lower[..lower.len() - entry.len()]
                .chars()
                .last()
                .is_none_or(|c| !c.is_ascii_alphanumeric())
    };
    STYLE_EN.iter().any(ends_with) || STYLE_SUFFIXES_EN.contains(&last)
}

/// Whether the text names a style: a medium or artist, or anything followed by a style word.
pub fn is_style(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    has_any(&lower, STYLE_ZH)
        || has_any(&lower, STYLE_EN)
        || has_style_suffix(&lower)
        || has_decade(&lower)
}

/// Only the explicit style words ("风格", "filter"): what makes "add a …" a restyle, since
/// "add a painting on the wall" is an object.
pub fn has_style_suffix(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let trimmed = lower.trim_end_matches(|c: char| !c.is_alphanumeric());
    STYLE_SUFFIXES_ZH[..3].iter().any(|w| lower.contains(w))
        || trimmed.ends_with('风')
        || has_any(&lower, STYLE_SUFFIXES_EN)
        || has_word(&lower, "in the style of")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_words_match_whole_words_only() {
        assert_eq!(find_word("make it bright", "right"), None);
        assert_eq!(find_word("on the right side", "right"), Some(7));
        assert_eq!(find_word("replace the sofa", "place"), None);
        assert_eq!(find_word("删除右侧的人", "右侧"), Some(6));
    }

    #[test]
    fn colour_only_values() {
        for yes in [
            "浅绿色",
            "蓝色",
            "dark brown",
            "black",
            "皮质的",
            "light blue",
        ] {
            assert!(is_colour_only(yes), "{yes}");
        }
        for no in [
            "灰色布艺款",
            "磨砂黑色皮夹克",
            "a grey fabric armchair",
            "cat",
            "冷白光",
            "暖色",
        ] {
            assert!(!is_colour_only(no), "{no}");
        }
    }

    #[test]
    fn light_and_style_vocabulary() {
        assert!(has_light("窗外阳光洒入"));
        assert!(has_light("cooler and a bit darker"));
        assert!(!has_light("dark brown"));
        assert!(!has_light("面带微笑"));
        assert!(!has_light("漂亮的裙子"));
        assert!(is_style("日系胶片风格"));
        assert!(is_style("look like a pencil sketch"));
        assert!(!is_style("复古皮质三人座"));
        assert!(!has_style_suffix("a painting"));
    }
}
