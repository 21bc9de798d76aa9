//! Colour names in English and Chinese, with shades (light, dark, bright; 浅, 深, 鲜), resolved to
//! OkLab targets for recolor and to sRGB for text.

use super::light_words::find_word;
use super::num::{linear_to_srgb, oklab_to_linear, srgb8_to_oklab, Lab};

/// A colour the user named, as a target.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedColor {
    /// The words it was read from, e.g. "dark brown" or "深棕".
    pub name: String,
    pub lab: Lab,
    pub rgb: [u8; 3],
}

/// Everyday colour names and the sRGB value they stand for. Values lean to real-world dyes and
/// paints (a "red" shirt, a "navy" coat) rather than the saturated screen primaries of CSS.
const NAMES: &[(&str, u32)] = &[
    ("black", 0x141414),
    ("white", 0xf4f4f4),
    ("grey", 0x808080),
    ("gray", 0x808080),
    ("silver", 0xc0c0c0),
    ("charcoal", 0x36454f),
    ("red", 0xc62828),
    ("crimson", 0xdc143c),
    ("scarlet", 0xff2400),
    ("maroon", 0x800000),
    ("burgundy", 0x800020),
    ("wine", 0x722f37),
    ("wine red", 0x722f37),
    ("pink", 0xf4a6c0),
    ("hot pink", 0xff69b4),
    ("rose", 0xc21e56),
    ("magenta", 0xc2185b),
    ("fuchsia", 0xd0208a),
    ("purple", 0x7b1fa2),
    ("violet", 0x7f3fbf),
    ("lavender", 0xb39ddb),
    ("lilac", 0xc8a2c8),
    ("indigo", 0x3f2a84),
    ("blue", 0x1e5bc6),
    ("navy", 0x1f2a44),
    ("navy blue", 0x1f2a44),
    ("royal blue", 0x4169e1),
    ("sky blue", 0x87ceeb),
    ("baby blue", 0x89cff0),
    ("cobalt", 0x0047ab),
    ("denim", 0x1560bd),
    ("teal", 0x008080),
    ("turquoise", 0x40e0d0),
    ("cyan", 0x00bcd4),
    ("aqua", 0x00c8d0),
    ("green", 0x2e7d32),
    ("emerald", 0x50c878),
    ("forest green", 0x228b22),
    ("olive", 0x6b6b2a),
    ("lime", 0x32cd32),
    ("mint", 0xa8e6cf),
    ("sage", 0x9caf88),
    ("khaki", 0xc3b091),
    ("army green", 0x4b5320),
    ("yellow", 0xf5d000),
    ("gold", 0xd4af37),
    ("golden", 0xd4af37),
    ("mustard", 0xe1ad01),
    ("lemon", 0xfff44f),
    ("orange", 0xf57c00),
    ("coral", 0xff7f50),
    ("peach", 0xffcba4),
    ("salmon", 0xfa8072),
    ("apricot", 0xfbceb1),
    ("rust", 0xb7410e),
    ("copper", 0xb87333),
    ("brown", 0x6d4c41),
    ("chocolate", 0x7b3f00),
    ("coffee", 0x6f4e37),
    ("caramel", 0xc68e17),
    ("tan", 0xd2b48c),
    ("camel", 0xc19a6b),
    ("beige", 0xe8dcc4),
    ("cream", 0xfffdd0),
    ("ivory", 0xfffff0),
    ("champagne", 0xf7e7ce),
    ("黑", 0x141414),
    ("白", 0xf4f4f4),
    ("灰", 0x808080),
    ("银", 0xc0c0c0),
    ("银灰", 0xa8a9ad),
    ("炭灰", 0x36454f),
    ("红", 0xc62828),
    ("大红", 0xd50000),
    ("正红", 0xd50000),
    ("酒红", 0x722f37),
    ("枣红", 0x7c1c23),
    ("玫红", 0xe0218a),
    ("玫瑰红", 0xc21e56),
    ("朱红", 0xff4c00),
    ("粉", 0xf4a6c0),
    ("粉红", 0xf4a6c0),
    ("桃红", 0xf77fbe),
    ("紫", 0x7b1fa2),
    ("紫罗兰", 0x8f5fbf),
    ("薰衣草紫", 0xb39ddb),
    ("蓝", 0x1e5bc6),
    ("天蓝", 0x87ceeb),
    ("海军蓝", 0x1f2a44),
    ("藏青", 0x1f2a44),
    ("藏蓝", 0x1c2951),
    ("宝蓝", 0x4169e1),
    ("湖蓝", 0x30a9de),
    ("钴蓝", 0x0047ab),
    ("牛仔蓝", 0x1560bd),
    ("孔雀蓝", 0x00a4b4),
    ("青", 0x00a8a8),
    ("青绿", 0x2aa198),
    ("蓝绿", 0x008080),
    ("绿", 0x2e7d32),
    ("墨绿", 0x1e3d2f),
    ("草绿", 0x7cb342),
    ("军绿", 0x4b5320),
    ("橄榄绿", 0x6b8e23),
    ("薄荷绿", 0xa8e6cf),
    ("翠绿", 0x00a86b),
    ("森林绿", 0x228b22),
    ("黄", 0xf5d000),
    ("金", 0xd4af37),
    ("金黄", 0xf0b400),
    ("柠檬黄", 0xfff44f),
    ("鹅黄", 0xfff143),
    ("姜黄", 0xd4a017),
    ("土黄", 0xb8860b),
    ("橙", 0xf57c00),
    ("橘", 0xf57c00),
    ("橘红", 0xff4500),
    ("珊瑚", 0xff7f50),
    ("杏", 0xfbceb1),
    ("棕", 0x6d4c41),
    ("咖啡", 0x6f4e37),
    ("褐", 0x6d4c41),
    ("巧克力", 0x7b3f00),
    ("驼", 0xc19a6b),
    ("卡其", 0xc3b091),
    ("米", 0xe8dcc4),
    ("米白", 0xf5f0e1),
    ("奶白", 0xfffdf0),
    ("象牙白", 0xfffff0),
    ("香槟", 0xf7e7ce),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Shade {
    Light,
    Dark,
    Bright,
}

const SHADES_EN: &[(&str, Shade)] = &[
    ("light", Shade::Light),
    ("pale", Shade::Light),
    ("pastel", Shade::Light),
    ("soft", Shade::Light),
    ("dark", Shade::Dark),
    ("deep", Shade::Dark),
    ("bright", Shade::Bright),
    ("vivid", Shade::Bright),
];
const SHADES_ZH: &[(char, Shade)] = &[
    ('浅', Shade::Light),
    ('淡', Shade::Light),
    ('嫩', Shade::Light),
    ('深', Shade::Dark),
    ('暗', Shade::Dark),
    ('鲜', Shade::Bright),
    ('艳', Shade::Bright),
    ('亮', Shade::Bright),
];

/// Examples quoted in error messages.
const EXAMPLES: &str = "red, navy, light grey, beige, dark brown, 深棕色, 浅绿色, 酒红, or #rrggbb";

/// Parses a colour given on its own (`--color`): a name with an optional shade, or `#rrggbb`.
pub fn parse_color(input: &str) -> Result<NamedColor, String> {
    let s = input.trim().to_lowercase();
    if let Some(rgb) = parse_hex(&s) {
        return Ok(NamedColor {
            name: s.clone(),
            lab: srgb8_to_oklab(rgb),
            rgb,
        });
    }
    let s = s
        .trim_end_matches(" colour")
        .trim_end_matches(" color")
        .trim_end_matches('色');
    let s = s.trim_end_matches('的').trim();
    let (shade, base) = split_shade(s);
    NAMES
        .iter()
        .find(|(n, _)| *n == base)
        .map(|&(_, hex)| make(s, hex, shade))
        .ok_or_else(|| format!("unknown colour '{input}': use a name such as {EXAMPLES}"))
}

/// Finds the colour an instruction asks for: the last one named, so "turn the red dress blue"
/// and "把红裙子改成蓝色" both give blue. Longer names win over their parts (粉红 over 红).
pub fn find_color(text: &str) -> Option<NamedColor> {
    let text = text.to_lowercase();
    let mut best: Option<(usize, usize, &str, u32)> = None;
    for &(name, hex) in NAMES {
        let mut from = 0;
        while let Some(i) = find_word(&text[from..], name) {
            let (start, end) = (from + i, from + i + name.len());
            let better = best.is_none_or(|(s, e, _, _)| end > e || (end == e && start < s));
            if better {
                best = Some((start, end, name, hex));
            }
            from = end;
        }
    }
    if let Some(rgb) = text.split_whitespace().rev().find_map(parse_hex) {
        return Some(NamedColor {
            name: "#hex".into(),
            lab: srgb8_to_oklab(rgb),
            rgb,
        });
    }
    let (start, _, name, hex) = best?;
    let before = text[..start].trim_end();
    let zh = SHADES_ZH
        .iter()
        .find(|(c, _)| before.ends_with(*c))
        .map(|(_, s)| *s);
    let last_word = before.rsplit([' ', '-']).next().unwrap_or("");
    let en = SHADES_EN
        .iter()
        .find(|(w, _)| *w == last_word)
        .map(|(_, s)| *s);
    let shade = zh.or(en);
    let label = match shade {
        Some(_) if zh.is_some() => format!("{}{name}", before.chars().next_back().unwrap_or(' ')),
        Some(_) => format!("{last_word} {name}"),
        None => name.to_string(),
    };
    Some(make(&label, hex, shade))
}

fn split_shade(s: &str) -> (Option<Shade>, &str) {
    for &(w, shade) in SHADES_EN {
        if let Some(rest) = s.strip_prefix(w) {
            if let Some(rest) = rest.strip_prefix([' ', '-']) {
                return (Some(shade), rest.trim());
            }
        }
    }
    for &(c, shade) in SHADES_ZH {
        if let Some(rest) = s.strip_prefix(c) {
            if !rest.is_empty() {
                return (Some(shade), rest);
            }
        }
    }
    (None, s)
}

fn parse_hex(s: &str) -> Option<[u8; 3]> {
    let h = s.strip_prefix('#')?;
    if h.len() != 6 {
        return None;
    }
    let v = u32::from_str_radix(h, 16).ok()?;
    Some([(v >> 16) as u8, (v >> 8) as u8, v as u8])
}

/// The target colour for a base value and an optional shade, adjusted in OkLab so "light" and
/// "dark" move lightness the way the eye sees it.
fn make(name: &str, hex: u32, shade: Option<Shade>) -> NamedColor {
    let base = [(hex >> 16) as u8, (hex >> 8) as u8, hex as u8];
    let mut lab = srgb8_to_oklab(base);
    match shade {
        Some(Shade::Light) => {
            lab.l += (1.0 - lab.l) * 0.45;
            lab.a *= 0.6;
            lab.b *= 0.6;
        }
        Some(Shade::Dark) => {
            lab.l *= 0.65;
            lab.a *= 0.9;
            lab.b *= 0.9;
        }
        Some(Shade::Bright) => {
            lab.l = (lab.l + 0.04).min(1.0);
            lab.a *= 1.25;
            lab.b *= 1.25;
        }
        None => {}
    }
    let rgb = lab_to_srgb8(lab);
    // Re-read the clipped colour so the target is one the screen can show.
    NamedColor {
        name: name.to_string(),
        lab: if shade.is_some() {
            srgb8_to_oklab(rgb)
        } else {
            lab
        },
        rgb,
    }
}

/// OkLab to sRGB bytes, clipping colours outside the gamut.
pub fn lab_to_srgb8(lab: Lab) -> [u8; 3] {
    oklab_to_linear(lab)
        .map(|c| (linear_to_srgb(c.clamp(0.0, 1.0) as f64) * 255.0 + 0.5).floor() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_shades_and_hex() {
        assert_eq!(parse_color("navy").unwrap().rgb, [0x1f, 0x2a, 0x44]);
        assert_eq!(parse_color("#FF8000").unwrap().rgb, [255, 128, 0]);
        let base = parse_color("brown").unwrap().lab.l;
        assert!(parse_color("深棕色").unwrap().lab.l < base);
        assert!(parse_color("dark brown").unwrap().lab.l < base);
        let grey = parse_color("grey").unwrap().lab.l;
        assert!(parse_color("light grey").unwrap().lab.l > grey);
        assert!(parse_color("浅绿色").unwrap().lab.l > parse_color("绿").unwrap().lab.l);
        assert!(parse_color("酒红").is_ok() && parse_color("beige").is_ok());
        let err = parse_color("blurple").unwrap_err();
        assert!(err.contains("'blurple'") && err.contains("navy"));
    }

    #[test]
    fn finds_the_target_colour_in_instructions() {
        assert_eq!(find_color("turn the red dress blue").unwrap().name, "blue");
        assert_eq!(find_color("把红裙子改成粉红色").unwrap().name, "粉红");
        assert_eq!(find_color("把沙发改成深棕色").unwrap().name, "深棕");
        assert_eq!(
            find_color("make the car light grey").unwrap().name,
            "light grey"
        );
        assert_eq!(find_color("paint it navy blue").unwrap().name, "navy blue");
        assert!(find_color("a tired hundred").is_none());
        assert!(NAMES.len() > 100);
    }
}
