//! Vocabulary of light, weather, season, time of day and style, in both languages: the words
//! that make a change a relight or a restyle.

/// Light, tone, time of day, brightness, weather and season: the vocabulary of a relight.
#[rustfmt::skip]
pub const LIGHT_ZH: &[&str] = &[
    "阳光", "灯光", "光线", "光照", "光影", "逆光", "打光", "补光", "色调", "色温", "暖调", "冷调",
    "暖色", "冷色", "曝光", "亮度", "黄昏", "傍晚", "夜晚", "夜景", "晚上", "白天", "日落", "日出",
    "清晨", "午后", "黄金时刻", "阴天", "晴天", "雨天", "雾天", "阴影", "对比度", "氛围", "月光",
    "烛光", "霓虹", "光", "亮", "暗", "暖", "冷", "欠曝", "过曝", "深夜", "夜间", "午夜", "早晨",
    "黎明", "凌晨", "拂晓", "夕阳", "晚霞", "朝霞", "下雪", "雪天", "雪景", "飘雪", "下着雪", "雪花",
    "下雨", "雨景", "雨夜", "起雾", "大雾", "薄雾", "雾气", "雾", "暴风雨", "雷雨", "风暴", "多云",
    "晴朗", "阴沉", "天气", "季节", "春天", "夏天", "秋天", "冬天", "春季", "夏季", "秋季", "冬季",
    "春日", "夏日", "秋日", "冬日", "初春", "深秋", "寒冬", "盛夏", "气氛", "日景",
];
/// Words that contain a light character but say nothing about light.
#[rustfmt::skip]
pub const LIGHT_FALSE_FRIENDS_ZH: &[&str] = &[
    "漂亮", "亮片", "光滑", "光头", "目光", "光盘", "冷藏", "冷饮", "暗红", "暗绿", "暗蓝", "亮黄",
    "亮红", "亮蓝", "亮绿", "冷酷", "暖气", "暖壶", "冷冻",
];
#[rustfmt::skip]
pub const LIGHT_EN: &[&str] = &[
    "light", "lights", "lighting", "lit", "sunlight", "sunshine", "sunlit", "sunbeam", "sunbeams",
    "brighten", "brighter", "brightness", "bright", "darken", "darker", "dark", "dim", "dimmer",
    "warm", "warmer", "warmth", "cool", "cooler", "cold", "colder", "tone", "tones", "golden hour",
    "sunset", "sunrise", "dusk", "dawn", "twilight", "night", "nighttime", "daytime", "daylight",
    "evening", "morning", "afternoon", "noon", "moonlight", "glow", "glowing", "exposure",
    "exposed", "shadow", "shadows", "contrast", "backlight", "backlit", "illuminate",
    "illumination", "overcast", "moody", "candlelight", "white balance", "rays", "lamplight",
    "night-time", "midnight", "underexposed", "overexposed", "overexposure", "underexposure",
    "highlights", "lowlight", "low-light", "gloomy", "dreary", "weather", "season", "snow",
    "snowy", "snowing", "snowfall", "winter", "wintry", "wintertime", "summer", "summertime",
    "autumn", "autumnal", "springtime", "spring", "rain", "rainy", "raining", "fog", "foggy",
    "mist", "misty", "haze", "hazy", "storm", "stormy", "thunderstorm", "cloudy", "sunny",
    "blizzard", "drizzle", "daybreak", "nightfall", "sundown", "atmosphere", "mood", "darkness",
    "lighter", "dimly", "luminous", "moodier", "brightly", "dramatic", "sunnier", "day",
];

/// Strong style words: a medium, an era or an artist, a restyle even without the word "style".
#[rustfmt::skip]
pub const STYLE_ZH: &[&str] = &[
    "油画", "水彩", "素描", "动漫", "漫画", "卡通", "二次元", "像素画", "像素风", "赛博朋克",
    "蒸汽朋克", "水墨", "国画", "浮世绘", "插画", "手绘", "版画", "线稿", "剪纸", "工笔", "梵高",
    "莫奈", "吉卜力", "宫崎骏", "皮克斯", "印象派", "波普", "铅笔画", "彩铅", "涂鸦", "黏土", "粘土",
    "低多边形", "老照片", "胶片感", "电影感", "胶片", "q版", "新海诚", "迪士尼", "毕加索",
    "达芬奇", "蜡笔", "马赛克", "彩色玻璃", "折纸", "乐高", "积木", "手办", "蒸汽波", "3d渲染",
    "3d卡通", "日漫", "美漫", "国风", "古风", "中国风", "写实", "水粉", "丙烯画", "刺绣", "雕塑",
    "浮雕", "石膏像", "木刻", "壁画", "像素画风", "哥特式", "巴洛克",
];
#[rustfmt::skip]
pub const STYLE_EN: &[&str] = &[
    "oil painting", "watercolor", "watercolour", "sketch", "pencil", "charcoal", "drawing",
    "anime", "manga", "cartoon", "comic", "pixel art", "cyberpunk", "steampunk", "ukiyo-e",
    "van gogh", "monet", "ghibli", "pixar", "impressionist", "impressionism", "cubist", "cubism",
    "pop art", "line art", "ink wash", "claymation", "low poly", "vaporwave", "film noir",
    "art deco", "painting", "illustration", "painted", "lego", "sepia", "polaroid", "film look",
    "cinematic look", "vintage look", "retro look", "film grain", "chibi", "vintage", "retro",
    "hand-drawn", "hand drawn", "mosaic", "stained glass", "picasso", "dali", "klimt", "hokusai",
    "rembrandt", "warhol", "vermeer", "matisse", "kandinsky", "mondrian", "da vinci", "disney",
    "dreamworks", "simpsons", "renaissance", "fresco", "baroque", "gothic", "surrealism",
    "surrealist", "surreal", "expressionism", "expressionist", "pointillism", "art nouveau",
    "minimalist", "minimalism", "woodcut", "engraving", "etching", "crayon", "chalk", "pastel",
    "graphic novel", "comic book", "storybook", "clay", "plasticine", "origami", "papercut",
    "paper cut", "embroidery", "graffiti", "mural", "3d render", "3d-rendered", "cgi", "voxel",
    "minecraft", "cel-shaded", "cel shaded", "noir", "synthwave", "old photograph", "old photo",
    "daguerreotype", "tintype", "lithograph", "gouache", "acrylic painting", "ink drawing",
    "pen and ink", "line drawing", "doodle", "caricature", "sculpture", "figurine", "diorama",
    "tilt-shift", "art style", "artwork", "artistic", "impasto", "bauhaus", "pop-art",
    "studio ghibli", "makoto shinkai", "shinkai", "miyazaki", "fauvism", "ukiyoe", "sumi-e",
    "vector art", "flat design", "isometric", "kawaii", "old-fashioned", "old fashioned",
    "antique", "nostalgic", "film photo", "lomo", "cinematic", "postcard", "poster",
    "movie poster", "album cover", "magazine cover", "children's book", "picture book",
    "cartoonish", "anime-style", "painterly", "pixelated", "pixel", "8-bit", "16-bit",
];
/// Words that turn whatever precedes them into a style ("日系胶片风格", "film look").
pub const STYLE_SUFFIXES_ZH: &[&str] = &["风格", "画风", "滤镜", "风"];
pub const STYLE_SUFFIXES_EN: &[&str] = &["style", "styled", "aesthetic", "filter", "vibe", "vibes"];

/// An era written as a decade ("80s", "1920s", "'90s"): a look of its own.
pub fn has_decade(lower: &str) -> bool {
    lower.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        let digits = w.strip_suffix('s').unwrap_or("");
        (digits.len() == 2 || digits.len() == 4)
            && digits.ends_with('0')
            && digits.chars().all(|c| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decades_are_eras() {
        assert!(has_decade("taken in the 80s") && has_decade("1920s fashion"));
        assert!(!has_decade("add 3 cats") && !has_decade("25s"));
    }
}
