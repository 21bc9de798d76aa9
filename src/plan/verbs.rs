//! Action verbs of both languages, by family: the table the classifier looks clauses up in.

use super::lexicon::find_word;

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
    /// make X Y, 让X变Y.
    Make,
    /// 调成Y, adjust Y: a relight unless the value says otherwise.
    Tune,
    /// give X Y: Y is added to X, unless Y is light or a style ("give it a warm tone").
    Give,
    Relight,
    Restyle,
    /// "补全地面", "fill in the background": completes the previous step.
    Fill,
    /// "保留沙发", "keep the sofa": a constraint on the previous step.
    Keep,
}

#[rustfmt::skip]
pub const VERBS: &[(&str, Verb)] = &[
    ("删除", Verb::Delete), ("删掉", Verb::Delete), ("删去", Verb::Delete), ("去掉", Verb::Delete),
    ("去除", Verb::Delete), ("除去", Verb::Delete), ("移除", Verb::Delete), ("移走", Verb::Delete),
    ("移掉", Verb::Delete), ("抹掉", Verb::Delete), ("抹去", Verb::Delete), ("抹除", Verb::Delete),
    ("擦掉", Verb::Delete), ("擦除", Verb::Delete), ("擦去", Verb::Delete), ("消除", Verb::Delete),
    ("清除", Verb::Delete), ("清掉", Verb::Delete), ("拿掉", Verb::Delete), ("拿走", Verb::Delete),
    ("抠掉", Verb::Delete), ("抠除", Verb::Delete), ("p掉", Verb::Delete), ("干掉", Verb::Delete),
    ("隐去", Verb::Delete), ("删", Verb::Delete),
    ("remove", Verb::Delete), ("delete", Verb::Delete), ("erase", Verb::Delete),
    ("get rid of", Verb::Delete), ("take out", Verb::Delete), ("take away", Verb::Delete),
    ("eliminate", Verb::Delete), ("clear away", Verb::Delete), ("wipe out", Verb::Delete),
    ("cut out", Verb::Delete), ("edit out", Verb::Delete), ("paint out", Verb::Delete),
    ("rub out", Verb::Delete), ("clean up", Verb::Delete),
    ("添加", Verb::Add), ("加上", Verb::Add), ("加入", Verb::Add), ("增加", Verb::Add),
    ("添上", Verb::Add), ("放上", Verb::Add), ("放置", Verb::Add), ("放入", Verb::Add),
    ("放一", Verb::Add), ("放个", Verb::Add), ("放只", Verb::Add), ("放些", Verb::Add),
    ("放几", Verb::Add), ("放两", Verb::Add), ("摆上", Verb::Add), ("摆放", Verb::Add),
    ("摆一", Verb::Add), ("摆个", Verb::Add), ("插入", Verb::Add), ("画上", Verb::Add),
    ("画一", Verb::Add), ("画个", Verb::Add), ("加一", Verb::Add), ("加个", Verb::Add),
    ("加只", Verb::Add), ("加些", Verb::Add), ("加点", Verb::Add), ("加几", Verb::Add),
    ("加两", Verb::Add), ("新增", Verb::Add), ("戴上", Verb::Add), ("穿上", Verb::Add),
    ("挂上", Verb::Add), ("贴上", Verb::Add), ("种上", Verb::Add), ("长出", Verb::Add),
    ("多加", Verb::Add), ("添", Verb::Add),
    ("add", Verb::Add), ("put", Verb::Add), ("place", Verb::Add), ("insert", Verb::Add),
    ("draw", Verb::Add), ("include", Verb::Add), ("bring in", Verb::Add),
    ("introduce", Verb::Add),
    ("换成", Verb::Swap), ("换为", Verb::Swap), ("替换成", Verb::Swap), ("替换为", Verb::Swap),
    ("改成", Verb::Swap), ("改为", Verb::Swap), ("变成", Verb::Swap), ("变为", Verb::Swap),
    ("改造成", Verb::Swap), ("转换成", Verb::Swap), ("转换为", Verb::Swap), ("转成", Verb::Swap),
    ("转为", Verb::Swap), ("变回", Verb::Swap), ("更换", Verb::Swap), ("替换", Verb::Swap),
    ("换掉", Verb::Swap), ("代替", Verb::Swap), ("取代", Verb::Swap), ("换", Verb::Swap),
    ("change", Verb::Swap), ("transform", Verb::Swap), ("convert", Verb::Swap),
    ("replace", Verb::SwapWith), ("swap", Verb::SwapWith), ("exchange", Verb::SwapWith),
    ("substitute", Verb::UseFor),
    ("刷成", Verb::Paint), ("染成", Verb::Paint), ("涂成", Verb::Paint), ("漆成", Verb::Paint),
    ("喷成", Verb::Paint), ("上色", Verb::Paint), ("染", Verb::Paint),
    ("paint", Verb::Paint), ("color", Verb::Paint), ("colour", Verb::Paint), ("dye", Verb::Paint),
    ("tint", Verb::Paint), ("recolor", Verb::Paint), ("recolour", Verb::Paint),
    ("让", Verb::Make), ("使得", Verb::Make), ("使", Verb::Make),
    ("make", Verb::Make), ("turn", Verb::Make), ("let", Verb::Make), ("render", Verb::Make),
    ("调成", Verb::Tune), ("调为", Verb::Tune), ("调到", Verb::Tune), ("调整", Verb::Tune),
    ("调节", Verb::Tune), ("调色", Verb::Tune), ("调得", Verb::Tune), ("调高", Verb::Tune),
    ("调低", Verb::Tune), ("调一下", Verb::Tune), ("使用", Verb::Tune), ("营造", Verb::Tune),
    ("adjust", Verb::Tune), ("increase", Verb::Tune), ("decrease", Verb::Tune),
    ("reduce", Verb::Tune), ("boost", Verb::Tune),
    ("enhance", Verb::Tune), ("apply", Verb::Tune), ("give", Verb::Give), ("set", Verb::Tune),
    ("use", Verb::Tune), ("create", Verb::Tune),
    ("提亮", Verb::Relight), ("调亮", Verb::Relight), ("调暗", Verb::Relight),
    ("压暗", Verb::Relight), ("变亮", Verb::Relight), ("变暗", Verb::Relight),
    ("打亮", Verb::Relight), ("加亮", Verb::Relight), ("补光", Verb::Relight),
    ("打光", Verb::Relight), ("照亮", Verb::Relight), ("点亮", Verb::Relight),
    ("变暖", Verb::Relight), ("变冷", Verb::Relight), ("变得更亮", Verb::Relight),
    ("brighten", Verb::Relight), ("darken", Verb::Relight), ("dim", Verb::Relight),
    ("lighten", Verb::Relight), ("relight", Verb::Relight), ("illuminate", Verb::Relight),
    ("light up", Verb::Relight), ("warm up", Verb::Relight), ("cool down", Verb::Relight),
    ("tone down", Verb::Relight),
    ("风格化", Verb::Restyle), ("转绘", Verb::Restyle),
    ("stylize", Verb::Restyle), ("stylise", Verb::Restyle),
    ("补全", Verb::Fill), ("填补", Verb::Fill), ("补齐", Verb::Fill), ("修补", Verb::Fill),
    ("填充", Verb::Fill), ("修复", Verb::Fill),
    ("fill", Verb::Fill), ("inpaint", Verb::Fill), ("patch", Verb::Fill), ("restore", Verb::Fill),
    ("保留", Verb::Keep), ("保持", Verb::Keep), ("留下", Verb::Keep),
    ("keep", Verb::Keep), ("preserve", Verb::Keep), ("retain", Verb::Keep),
    ("leave", Verb::Keep),
];

/// The earliest action verb; at one position the longest wins ("调亮" over "调").
pub fn earliest_verb(lower: &str) -> Option<(usize, usize, Verb)> {
    VERBS
        .iter()
        .filter_map(|(w, verb)| find_word(lower, w).map(|at| (at, w.len(), *verb)))
        .min_by_key(|(at, len, _)| (*at, usize::MAX - len))
}
