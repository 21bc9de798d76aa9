//! Reads a relight instruction (Chinese or English) into a plan of light adjustments.

use super::relight::{LightPlan, LightSource, SideLight};
use crate::core::Region;

/// Words that shrink or enlarge every amount: "a bit brighter", "much warmer", 稍微, 大幅.
const SMALL: &[&str] = &[
    "a bit", "a little", "slightly", "slight", "subtle", "gently", "一点", "一些", "稍", "微",
    "略", "些许", "轻",
];
const LARGE: &[&str] = &[
    "much", "very", "a lot", "strongly", "strong", "dramatic", "really", "很", "非常", "大幅",
    "明显", "强", "极", "超",
];

// Phrases read first and removed from the text, so their parts ("暗部" holds "暗") do not also
// count as generic words.
const LIFT_SHADOWS: &[&str] = &[
    "lift the shadows",
    "lift shadows",
    "brighten the shadows",
    "brighten shadows",
    "open up the shadows",
    "open shadows",
    "提亮暗部",
    "提亮阴影",
    "暗部提亮",
    "阴影提亮",
];
const DEEPEN_SHADOWS: &[&str] = &[
    "deepen the shadows",
    "deepen shadows",
    "darker shadows",
    "crush the shadows",
    "加深阴影",
    "压暗暗部",
    "暗部压暗",
    "阴影加深",
];
const LOWER_HIGHLIGHTS: &[&str] = &[
    "recover highlights",
    "recover the highlights",
    "tone down highlights",
    "tone down the highlights",
    "reduce highlights",
    "lower highlights",
    "压高光",
    "压暗高光",
    "降低高光",
    "高光压暗",
    "高光过曝",
];
const BOOST_HIGHLIGHTS: &[&str] = &[
    "boost highlights",
    "brighten highlights",
    "brighter highlights",
    "提亮高光",
    "高光提亮",
];
const AUTO_WB: &[&str] = &[
    "fix white balance",
    "correct white balance",
    "auto white balance",
    "neutral white balance",
    "remove the colour cast",
    "remove the color cast",
    "自动白平衡",
    "校正白平衡",
    "修正白平衡",
    "去色偏",
];
const GOLDEN: &[&str] = &[
    "golden hour",
    "sunset",
    "evening",
    "dusk",
    "傍晚",
    "黄昏",
    "夕阳",
    "日落",
    "落日",
];
const COOL_WHITE: &[&str] = &[
    "冷白光",
    "cool white",
    "cold white",
    "daylight white",
    "白光",
];
const SUN: &[&str] = &[
    "sunlight", "sunshine", "sunbeam", "sun", "阳光", "日光", "太阳",
];
const WINDOW: &[&str] = &["window", "窗"];
const LIGHT: &[&str] = &["light", "lit", "lamp", "光", "灯", "照"];
const MORE_CONTRAST: &[&str] = &[
    "more contrast",
    "increase contrast",
    "higher contrast",
    "punchier",
    "增加对比",
    "提高对比",
];
const LESS_CONTRAST: &[&str] = &[
    "less contrast",
    "lower contrast",
    "reduce contrast",
    "reduce the contrast",
    "flatter",
    "降低对比",
    "减少对比",
    "减弱对比",
];
const LOWER_BRIGHTNESS: &[&str] = &[
    "lower the brightness",
    "reduce the brightness",
    "reduce brightness",
    "less bright",
    "降低亮度",
    "减少亮度",
    "亮度降低",
    "调低亮度",
];
const CONTRAST: &[&str] = &["contrast", "对比"];
const BRIGHTER: &[&str] = &["亮", "brighter", "brighten", "lighter", "bright", "lighten"];
const DARKER: &[&str] = &["暗", "darker", "darken", "dim", "dimmer", "dark"];
const WARMER: &[&str] = &["暖", "warm", "warmer", "warmth", "golden", "黄调"];
const COOLER: &[&str] = &[
    "冷",
    "cool",
    "cooler",
    "cold",
    "colder",
    "blue hour",
    "moonlight",
    "月光",
    "蓝调",
];

// Sides, most specific first: "top left" must win over "left".
const SIDES: &[(Region, &[&str])] = &[
    (
        Region::TopLeft,
        &["top left", "top-left", "upper left", "左上"],
    ),
    (
        Region::TopRight,
        &["top right", "top-right", "upper right", "右上"],
    ),
    (
        Region::BottomLeft,
        &["bottom left", "bottom-left", "lower left", "左下"],
    ),
    (
        Region::BottomRight,
        &["bottom right", "bottom-right", "lower right", "右下"],
    ),
    (Region::Left, &["left", "左"]),
    (Region::Right, &["right", "右"]),
    (
        Region::Top,
        &["above", "overhead", "top", "上方", "头顶", "顶"],
    ),
    (Region::Bottom, &["below", "bottom", "下方", "底"]),
];

/// Reads the light change from the instruction. `amount`, when given, sets the main adjustment:
/// the directional light's strength if there is one, else exposure in stops (also when no word
/// was found), else warmth in [-1, 1].
pub fn plan_light(instruction: &str, amount: Option<f32>) -> LightPlan {
    let mut text = instruction.to_lowercase();
    let scale = if has(&text, SMALL) {
        0.5
    } else if has(&text, LARGE) {
        1.8
    } else {
        1.0
    };
    let mut plan = LightPlan::default();
    if take(&mut text, LIFT_SHADOWS) {
        plan.shadows = 0.25;
    } else if take(&mut text, DEEPEN_SHADOWS) {
        plan.shadows = -0.15;
    }
    if take(&mut text, LOWER_HIGHLIGHTS) {
        plan.highlights = -0.25;
    } else if take(&mut text, BOOST_HIGHLIGHTS) {
        plan.highlights = 0.2;
    }
    plan.auto_white_balance = take(&mut text, AUTO_WB);
    if take(&mut text, LESS_CONTRAST) {
        plan.contrast = -0.25;
    } else if take(&mut text, MORE_CONTRAST) || take(&mut text, CONTRAST) {
        plan.contrast = 0.25;
    }
    let golden = take(&mut text, GOLDEN);
    let cool_white = take(&mut text, COOL_WHITE);
    let sun = has(&text, SUN);
    let window = has(&text, WINDOW);
    let side = SIDES
        .iter()
        .find(|(_, words)| has(&text, words))
        .map(|(r, _)| *r);
    let directional = window || sun || golden || (side.is_some() && has(&text, LIGHT));

    let warm = has(&text, WARMER) && !has(&text, COOLER);
    let cool = has(&text, COOLER) && !has(&text, WARMER);
    if directional {
        let color = if golden {
            [1.0, 0.72, 0.42]
        } else if cool_white || cool {
            [0.86, 0.93, 1.0]
        } else if sun || warm {
            [1.0, 0.88, 0.7]
        } else {
            [1.0, 1.0, 1.0]
        };
        plan.light = Some(SideLight {
            from: LightSource::Side(side.unwrap_or(Region::Left)),
            strength: 0.6,
            color,
        });
        if golden {
            // Low sun: the room around the light falls a little darker and warmer.
            plan.warmth = 0.2;
            plan.exposure = -0.25;
        }
    } else if golden || warm {
        plan.warmth = if golden { 0.45 } else { 0.3 };
    } else if cool_white {
        plan.warmth = -0.2;
    } else if cool {
        plan.warmth = -0.3;
    }
    let lower = take(&mut text, LOWER_BRIGHTNESS);
    let brighter = has(&text, BRIGHTER) && !lower;
    let darker = has(&text, DARKER) || lower;
    if brighter && !darker {
        plan.exposure = 0.5;
    } else if darker && !brighter {
        plan.exposure = -0.5;
    }
    plan.scale(scale);
    if let Some(a) = amount {
        plan.set_amount(a);
    }
    plan
}

fn has(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| contains_word(text, w))
}

/// Finds the first phrase of `words` in `text` and blanks it out.
fn take(text: &mut String, words: &[&str]) -> bool {
    for w in words {
        if let Some(at) = find_word(text, w) {
            text.replace_range(at..at + w.len(), &" ".repeat(w.len()));
            return true;
        }
    }
    false
}

fn contains_word(text: &str, word: &str) -> bool {
    find_word(text, word).is_some()
}

/// Position of `word` in `text`. Latin words must stand alone ("dim" is not in "dimension",
/// "sun" is not in "sunday"); CJK words match anywhere, as Chinese has no spaces.
pub(super) fn find_word(text: &str, word: &str) -> Option<usize> {
    let latin = word.is_ascii();
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let at = from + i;
        let end = at + word.len();
        let before = text[..at].chars().next_back();
        let after = text[end..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
        if !latin || (boundary(before) && boundary(after)) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_words_in_both_languages() {
        assert!(plan_light("make it brighter", None).exposure > 0.0);
        assert!(plan_light("整体提亮", None).exposure > 0.0);
        assert!(plan_light("暗一点", None).exposure < 0.0);
        assert!(plan_light("warm afternoon tone", None).warmth > 0.0);
        assert!(plan_light("warmer", None).warmth > 0.0);
        assert!(plan_light("a bit cooler", None).warmth < 0.0);
        assert!(plan_light("调成冷色调", None).warmth < 0.0);
        assert!(plan_light("暖色调", None).warmth > 0.0);
        assert!(plan_light("冷白光", None).warmth < 0.0);
        assert_eq!(plan_light("brighter", Some(1.0)).exposure, 1.0);
        assert!(plan_light("more contrast", None).contrast > 0.0);
        assert!(plan_light("降低对比度", None).contrast < 0.0);
        let p = plan_light("提亮暗部", None);
        assert!(p.shadows > 0.0 && p.exposure == 0.0, "{p:?}");
        assert!(plan_light("recover highlights", None).highlights < 0.0);
        assert!(plan_light("自动白平衡", None).auto_white_balance);
        assert!(plan_light("降低亮度", None).exposure < 0.0);
    }

    #[test]
    fn amount_words_scale_the_change() {
        let base = plan_light("brighter", None).exposure;
        assert!(plan_light("a bit brighter", None).exposure < base);
        assert!(plan_light("亮一点", None).exposure < base);
        assert!(plan_light("much brighter", None).exposure > base);
        assert!(plan_light("大幅提亮", None).exposure > base);
    }

    #[test]
    fn reads_directional_light_and_its_side() {
        let p = plan_light("sunlight from the window on the left", None);
        let light = p.light.expect("directional light");
        assert_eq!(light.from, LightSource::Side(Region::Left));
        assert!(light.color[0] > light.color[2], "sunlight is warm");
        let p = plan_light("窗外阳光洒入，从右侧", None);
        assert_eq!(p.light.unwrap().from, LightSource::Side(Region::Right));
        let p = plan_light("傍晚", None);
        assert!(p.light.is_some() && p.warmth > 0.0);
        let p = plan_light("light from the top left", Some(0.9));
        assert_eq!(p.light.unwrap().from, LightSource::Side(Region::TopLeft));
        assert_eq!(p.light.unwrap().strength, 0.9);
        assert!(plan_light("dimension", None).exposure == 0.0);
    }
}
