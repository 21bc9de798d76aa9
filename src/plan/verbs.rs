//! Action verbs of both languages, by family: the table the classifier looks clauses up in.
//! English verbs match as whole words in any inflection ("removed", "swapping", "wore");
//! some only count when they open the clause ("clear the table", not "a clear sky").

use super::lexicon::find_word;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The family of an action verb; each family has its own slots for subject and new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Delete,
    Add,
    /// 把X换成Y, change X to Y: subject before, new value after.
    Swap,
    /// replace X with Y.
    SwapWith,
    /// substitute Y for X, 用Y替换X.
    UseFor,
    /// 把X刷成Y, paint X Y.
    Paint,
    /// colorize, desaturate, 上色: a recolor with no value of its own.
    Colorize,
    /// make X Y, 让X变Y.
    Make,
    /// 调成Y, adjust Y: a relight unless the value says otherwise.
    Tune,
    /// give X Y: Y is added to X, unless Y is light or a style ("give it a warm tone").
    Give,
    Relight,
    Restyle,
    /// move, rotate, blur, 放大: a change none of the six ops makes.
    Edit,
    /// "补全地面", "fill in the background": completes the previous step.
    Fill,
    /// "保留沙发", "keep the sofa": a constraint on the previous step.
    Keep,
}

#[rustfmt::skip]
pub const VERBS_ZH: &[(&str, Verb)] = &[
    ("删除", Verb::Delete), ("删掉", Verb::Delete), ("删去", Verb::Delete), ("去掉", Verb::Delete),
    ("去除", Verb::Delete), ("除去", Verb::Delete), ("移除", Verb::Delete), ("移走", Verb::Delete),
    ("移掉", Verb::Delete), ("抹掉", Verb::Delete), ("抹去", Verb::Delete), ("抹除", Verb::Delete),
    ("擦掉", Verb::Delete), ("擦除", Verb::Delete), ("擦去", Verb::Delete), ("消除", Verb::Delete),
    ("清除", Verb::Delete), ("清掉", Verb::Delete), ("拿掉", Verb::Delete), ("拿走", Verb::Delete),
    ("抠掉", Verb::Delete), ("抠除", Verb::Delete), ("p掉", Verb::Delete), ("干掉", Verb::Delete),
    ("隐去", Verb::Delete), ("删", Verb::Delete), ("消失", Verb::Delete), ("不见", Verb::Delete),
    ("清理", Verb::Delete), ("除掉", Verb::Delete), ("去水印", Verb::Delete), ("去路人", Verb::Delete),
    ("去皱", Verb::Delete), ("去痘", Verb::Delete), ("摘掉", Verb::Delete), ("摘下", Verb::Delete),
    ("脱掉", Verb::Delete), ("扔掉", Verb::Delete),
    ("添加", Verb::Add), ("加上", Verb::Add), ("加入", Verb::Add), ("增加", Verb::Add),
    ("添上", Verb::Add), ("放上", Verb::Add), ("放置", Verb::Add), ("放入", Verb::Add),
    ("放一", Verb::Add), ("放个", Verb::Add), ("放只", Verb::Add), ("放些", Verb::Add),
    ("放几", Verb::Add), ("放两", Verb::Add), ("摆上", Verb::Add), ("摆放", Verb::Add),
    ("摆一", Verb::Add), ("摆个", Verb::Add), ("插入", Verb::Add), ("画上", Verb::Add),
    ("画一", Verb::Add), ("画个", Verb::Add), ("加一", Verb::Add), ("加个", Verb::Add),
    ("加只", Verb::Add), ("加些", Verb::Add), ("加点", Verb::Add), ("加几", Verb::Add),
    ("加两", Verb::Add), ("新增", Verb::Add), ("戴上", Verb::Add), ("穿上", Verb::Add),
    ("挂上", Verb::Add), ("贴上", Verb::Add), ("种上", Verb::Add), ("长出", Verb::Add),
    ("多加", Verb::Add), ("添", Verb::Add), ("放到", Verb::Add), ("放在", Verb::Add),
    ("放进", Verb::Add), ("挂一", Verb::Add), ("挂个", Verb::Add), ("插上", Verb::Add),
    ("写上", Verb::Add), ("戴着", Verb::Add), ("穿着", Verb::Add),
    ("拿着", Verb::Add), ("抱着", Verb::Add), ("举着", Verb::Add), ("叼着", Verb::Add),
    ("背着", Verb::Add), ("披着", Verb::Add), ("多几", Verb::Add), ("多一", Verb::Add),
    ("多些", Verb::Add), ("写着", Verb::Add), ("写一", Verb::Add),
    ("换成", Verb::Swap), ("换为", Verb::Swap), ("替换成", Verb::Swap), ("替换为", Verb::Swap),
    ("改成", Verb::Swap), ("改为", Verb::Swap), ("变成", Verb::Swap), ("变为", Verb::Swap),
    ("改造成", Verb::Swap), ("转换成", Verb::Swap), ("转换为", Verb::Swap), ("转成", Verb::Swap),
    ("转为", Verb::Swap), ("变回", Verb::Swap), ("更换", Verb::Swap), ("替换", Verb::Swap),
    ("换掉", Verb::Swap), ("代替", Verb::Swap), ("取代", Verb::Swap), ("换", Verb::Swap),
    ("调整为", Verb::Swap), ("调整成", Verb::Swap), ("更改为", Verb::Swap), ("更改成", Verb::Swap),
    ("改变成", Verb::Swap), ("修改为", Verb::Swap), ("修改成", Verb::Swap), ("p成", Verb::Swap),
    ("做成", Verb::Swap), ("画成", Verb::Swap), ("弄成", Verb::Swap), ("搞成", Verb::Swap),
    ("处理成", Verb::Swap), ("变身为", Verb::Swap), ("变身成", Verb::Swap), ("改变", Verb::Swap),
    ("更改", Verb::Swap), ("修改", Verb::Swap),
    ("刷成", Verb::Paint), ("染成", Verb::Paint), ("涂成", Verb::Paint), ("漆成", Verb::Paint),
    ("喷成", Verb::Paint), ("染", Verb::Paint), ("涂上", Verb::Paint), ("刷上", Verb::Paint),
    ("上色", Verb::Colorize), ("着色", Verb::Colorize), ("去色", Verb::Colorize),
    ("让", Verb::Make), ("使得", Verb::Make), ("使", Verb::Make),
    ("调成", Verb::Tune), ("调为", Verb::Tune), ("调到", Verb::Tune), ("调整", Verb::Tune),
    ("调节", Verb::Tune), ("调色", Verb::Tune), ("调得", Verb::Tune), ("调高", Verb::Tune),
    ("调低", Verb::Tune), ("调一下", Verb::Tune), ("使用", Verb::Tune), ("营造", Verb::Tune),
    ("增强", Verb::Tune), ("提高", Verb::Tune), ("降低", Verb::Tune), ("修正", Verb::Tune),
    ("改善", Verb::Tune), ("优化", Verb::Tune), ("减少", Verb::Tune),
    ("提亮", Verb::Relight), ("调亮", Verb::Relight), ("调暗", Verb::Relight),
    ("压暗", Verb::Relight), ("变亮", Verb::Relight), ("变暗", Verb::Relight),
    ("打亮", Verb::Relight), ("加亮", Verb::Relight), ("补光", Verb::Relight),
    ("打光", Verb::Relight), ("照亮", Verb::Relight), ("点亮", Verb::Relight),
    ("变暖", Verb::Relight), ("变冷", Verb::Relight), ("变得更亮", Verb::Relight),
    ("调暖", Verb::Relight), ("调冷", Verb::Relight),
    ("风格化", Verb::Restyle), ("转绘", Verb::Restyle), ("重绘", Verb::Restyle),
    ("重新绘制", Verb::Restyle), ("重新画", Verb::Restyle),
    ("移到", Verb::Edit), ("移动", Verb::Edit), ("挪到", Verb::Edit), ("旋转", Verb::Edit),
    ("翻转", Verb::Edit), ("放大", Verb::Edit), ("缩小", Verb::Edit), ("虚化", Verb::Edit),
    ("模糊", Verb::Edit), ("锐化", Verb::Edit), ("裁剪", Verb::Edit), ("磨皮", Verb::Edit),
    ("瘦脸", Verb::Edit),
    ("补全", Verb::Fill), ("填补", Verb::Fill), ("补齐", Verb::Fill), ("修补", Verb::Fill),
    ("填充", Verb::Fill), ("修复", Verb::Fill),
    ("保留", Verb::Keep), ("保持", Verb::Keep), ("留下", Verb::Keep), ("不变", Verb::Keep),
];

/// Chinese verbs that only act when they open the clause ("去水印" but not "去海边玩").
pub const VERBS_ZH_AT_START: &[(&str, Verb)] = &[("去", Verb::Delete), ("不要", Verb::Delete)];

/// English verbs of several words, matched as written.
#[rustfmt::skip]
pub const PHRASES_EN: &[(&str, Verb)] = &[
    ("get rid of", Verb::Delete), ("getting rid of", Verb::Delete), ("got rid of", Verb::Delete),
    ("take out", Verb::Delete), ("take away", Verb::Delete), ("take off", Verb::Delete),
    ("clear away", Verb::Delete), ("clear out", Verb::Delete), ("wipe out", Verb::Delete),
    ("wipe away", Verb::Delete), ("wipe off", Verb::Delete), ("cut out", Verb::Delete),
    ("edit out", Verb::Delete), ("paint out", Verb::Delete), ("rub out", Verb::Delete),
    ("clean up", Verb::Delete), ("clean off", Verb::Delete), ("strip out", Verb::Delete),
    ("strip away", Verb::Delete), ("scrub out", Verb::Delete), ("scrub away", Verb::Delete),
    ("scrub off", Verb::Delete), ("photoshop out", Verb::Delete), ("crop out", Verb::Delete),
    ("bring in", Verb::Add), ("add in", Verb::Add), ("put in", Verb::Add),
    ("swap out", Verb::SwapWith), ("switch out", Verb::SwapWith),
    ("light up", Verb::Relight), ("warm up", Verb::Relight), ("cool down", Verb::Relight),
    ("tone down", Verb::Relight), ("brighten up", Verb::Relight), ("lighten up", Verb::Relight),
    ("bump up", Verb::Tune), ("crank up", Verb::Tune), ("turn up", Verb::Tune),
    ("turn down", Verb::Tune), ("black and white", Verb::Colorize),
];

/// English verbs of one word, matched in any inflection.
#[rustfmt::skip]
pub const WORDS_EN: &[(&str, Verb)] = &[
    ("remove", Verb::Delete), ("delete", Verb::Delete), ("erase", Verb::Delete),
    ("eliminate", Verb::Delete), ("disappear", Verb::Delete), ("vanish", Verb::Delete),
    ("omit", Verb::Delete), ("exclude", Verb::Delete),
    ("add", Verb::Add), ("put", Verb::Add), ("place", Verb::Add), ("insert", Verb::Add),
    ("include", Verb::Add), ("introduce", Verb::Add), ("wear", Verb::Add), ("wore", Verb::Add),
    ("worn", Verb::Add), ("hold", Verb::Add), ("held", Verb::Add), ("carry", Verb::Add),
    ("write", Verb::Add), ("wrote", Verb::Add), ("attach", Verb::Add),
    ("overlay", Verb::Add), ("superimpose", Verb::Add), ("sprinkle", Verb::Add),
    ("scatter", Verb::Add), ("drape", Verb::Add),
    ("change", Verb::Swap), ("transform", Verb::Swap), ("convert", Verb::Swap),
    ("alter", Verb::Swap), ("modify", Verb::Swap), ("revamp", Verb::Swap), ("update", Verb::Swap),
    ("replace", Verb::SwapWith), ("swap", Verb::SwapWith), ("exchange", Verb::SwapWith),
    ("trade", Verb::SwapWith), ("switch", Verb::SwapWith),
    ("substitute", Verb::UseFor),
    ("tint", Verb::Paint), ("recolor", Verb::Paint), ("recolour", Verb::Paint), ("dye", Verb::Paint),
    ("colorize", Verb::Colorize), ("colourize", Verb::Colorize), ("colorise", Verb::Colorize),
    ("colourise", Verb::Colorize), ("desaturate", Verb::Colorize),
    ("make", Verb::Make), ("turn", Verb::Make), ("render", Verb::Make), ("redo", Verb::Make),
    ("recreate", Verb::Make), ("reimagine", Verb::Make), ("re-imagine", Verb::Make),
    ("reinterpret", Verb::Make), ("rework", Verb::Make), ("remake", Verb::Make),
    ("adjust", Verb::Tune), ("increase", Verb::Tune), ("decrease", Verb::Tune),
    ("reduce", Verb::Tune), ("boost", Verb::Tune), ("enhance", Verb::Tune), ("apply", Verb::Tune),
    ("fix", Verb::Tune), ("correct", Verb::Tune), ("improve", Verb::Tune), ("raise", Verb::Tune),
    ("give", Verb::Give),
    ("brighten", Verb::Relight), ("darken", Verb::Relight),
    ("lighten", Verb::Relight), ("relight", Verb::Relight), ("illuminate", Verb::Relight),
    ("stylize", Verb::Restyle), ("stylise", Verb::Restyle), ("restyle", Verb::Restyle),
    ("move", Verb::Edit), ("rotate", Verb::Edit), ("resize", Verb::Edit), ("enlarge", Verb::Edit),
    ("shrink", Verb::Edit), ("sharpen", Verb::Edit), ("blur", Verb::Edit),
    ("straighten", Verb::Edit), ("retouch", Verb::Edit), ("widen", Verb::Edit),
    ("magnify", Verb::Edit),
    ("inpaint", Verb::Fill), ("restore", Verb::Fill),
    ("keep", Verb::Keep), ("preserve", Verb::Keep), ("retain", Verb::Keep),
    ("maintain", Verb::Keep),
];

/// English verbs matched only as written (their other forms are common nouns or adjectives:
/// "a painting", "the setting", "a used car").
#[rustfmt::skip]
pub const BARE_EN: &[(&str, Verb)] = &[
    ("paint", Verb::Paint), ("color", Verb::Paint), ("colour", Verb::Paint), ("draw", Verb::Add),
    ("set", Verb::Tune), ("use", Verb::Tune), ("create", Verb::Tune), ("fill", Verb::Fill),
    ("patch", Verb::Fill), ("leave", Verb::Keep), ("dim", Verb::Relight),
];

/// English verbs that only act when they open the clause ("clear the table", "have him wave").
#[rustfmt::skip]
pub const AT_START_EN: &[(&str, Verb)] = &[
    ("have", Verb::Make), ("let", Verb::Make), ("craft", Verb::Make), ("imagine", Verb::Make),
    ("show", Verb::Add), ("see", Verb::Add), ("double", Verb::Add), ("hang", Verb::Add),
    ("lose", Verb::Delete), ("ditch", Verb::Delete), ("drop", Verb::Delete), ("clear", Verb::Delete),
    ("clean", Verb::Delete), ("wipe", Verb::Delete), ("scrub", Verb::Delete),
    ("strip", Verb::Delete), ("lift", Verb::Tune), ("expose", Verb::Relight),
    ("lower", Verb::Tune), ("plant", Verb::Add), ("shift", Verb::Edit), ("flip", Verb::Edit),
    ("crop", Verb::Edit), ("tilt", Verb::Edit), ("mirror", Verb::Edit), ("zoom", Verb::Edit),
    ("smooth", Verb::Edit), ("stretch", Verb::Edit),
];

/// A verb found in a clause: where, how long, which family, and the word as listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub at: usize,
    pub len: usize,
    pub verb: Verb,
    pub word: &'static str,
}

fn inflected() -> &'static HashMap<&'static str, (Verb, &'static str)> {
    static MAP: OnceLock<HashMap<&'static str, (Verb, &'static str)>> = OnceLock::new();
    MAP.get_or_init(|| {
        WORDS_EN
            .iter()
            .map(|(w, v)| (*w, (*v, *w)))
            .collect::<HashMap<_, _>>()
    })
}

/// Participles of the verbs matched only as written ("should be painted yellow").
const PARTICIPLES: &[(&str, Verb, &str)] = &[
    ("painted", Verb::Paint, "paint"),
    ("colored", Verb::Paint, "color"),
    ("coloured", Verb::Paint, "colour"),
    ("drawn", Verb::Add, "draw"),
    ("filled", Verb::Fill, "fill"),
];

/// The verb an English word is a form of ("removed" → remove), participles of the verbs
/// matched only as written included.
pub fn lemma_of(word: &str) -> Option<(Verb, &'static str)> {
    PARTICIPLES
        .iter()
        .find(|(w, _, _)| *w == word)
        .map(|(_, v, l)| (*v, *l))
        .or_else(|| lemma(word))
}

/// The lemma of an English word if it is a listed verb in some inflection.
fn lemma(word: &str) -> Option<(Verb, &'static str)> {
    let map = inflected();
    let found = |w: &str| map.get(w).copied();
    if let Some(hit) = found(word) {
        return Some(hit);
    }
    let undouble = |w: &str| {
        let b = w.as_bytes();
        (b.len() >= 3 && b[b.len() - 1] == b[b.len() - 2]).then(|| w[..w.len() - 1].to_string())
    };
    for suffix in ["ing", "ed", "es", "s", "d"] {
        let Some(stem) = word.strip_suffix(suffix).filter(|s| s.len() >= 2) else {
            continue;
        };
        let mut forms = vec![stem.to_string(), format!("{stem}e")];
        forms.extend(undouble(stem));
        if let Some(y) = stem.strip_suffix('i') {
            forms.push(format!("{y}y"));
        }
        if let Some(hit) = forms.iter().find_map(|f| found(f)) {
            return Some(hit);
        }
    }
    None
}

/// The earliest action verb; at one position the longest wins ("调亮" over "调").
pub fn earliest_verb(lower: &str) -> Option<Hit> {
    let mut hits: Vec<Hit> = Vec::new();
    let mut push = |at: usize, word: &'static str, verb: Verb| {
        hits.push(Hit {
            at,
            len: word.len(),
            verb,
            word,
        });
    };
    for (w, verb) in VERBS_ZH.iter().chain(PHRASES_EN).chain(BARE_EN) {
        if let Some(at) = find_word(lower, w) {
            push(at, w, *verb);
        }
    }
    for (w, verb) in VERBS_ZH_AT_START.iter().chain(AT_START_EN) {
        if find_word(lower, w) == Some(0) {
            push(0, w, *verb);
        }
    }
    let mut best = hits.into_iter().min_by_key(|h| (h.at, usize::MAX - h.len));
    // One-word English verbs in any form: the first one that is earlier than the tables' hit.
    let limit = best.map_or(lower.len(), |h| h.at);
    for (at, token) in ascii_words(lower) {
        if at > limit {
            break;
        }
        if let Some((verb, word)) = lemma(token) {
            let hit = Hit {
                at,
                len: token.len(),
                verb,
                word,
            };
            let key = |h: &Hit| (h.at, usize::MAX - h.len);
            if best.is_none_or(|b| key(&hit) < key(&b)) {
                best = Some(hit);
            }
            break;
        }
    }
    best
}

/// The ASCII words of a text (letters, digits and inner hyphens) with their byte offsets.
pub fn ascii_words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let wordy = |c: char| c.is_ascii_alphanumeric() || c == '-';
    let mut start: Option<usize> = None;
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        match (wordy(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out.into_iter()
        .filter(|(_, w)| w.len() >= 2 && w.bytes().any(|b| b.is_ascii_alphabetic()))
}

/// Whether the clause opens with an action verb.
pub fn verb_at_start(lower: &str) -> bool {
    earliest_verb(lower).is_some_and(|h| h.at == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflections_and_starts() {
        let hit = earliest_verb("would be great removed").unwrap();
        assert_eq!((hit.verb, hit.word), (Verb::Delete, "remove"));
        assert_eq!(earliest_verb("swapping the cat").unwrap().word, "swap");
        assert_eq!(earliest_verb("the cat wore a hat").unwrap().verb, Verb::Add);
        assert_eq!(earliest_verb("carries a bag").unwrap().word, "carry");
        assert!(earliest_verb("a clear sky").is_none());
        assert_eq!(earliest_verb("clear the table").unwrap().verb, Verb::Delete);
        assert!(earliest_verb("an oil painting").is_none());
        assert_eq!(earliest_verb("调亮一点").unwrap().verb, Verb::Relight);
        assert!(verb_at_start("remove it") && !verb_at_start("the dog"));
    }
}
