//! The planner on 10,000 random and adversarial inputs: mixed scripts, texts of 2,000
//! characters, connectives and verbs repeated, quotes left open. Every input plans without a
//! panic into a sound plan, and the time per input stays proportional to its length.

use std::time::{Duration, Instant};
use zedit::plan::plan;

#[rustfmt::skip]
const PARTS: &[&str] = &[
    "把", "换成", "删除", "的", "在", "放一", "左上", "，", "。", ",", " and ", "then ", " and then ",
    "replace ", "with ", "make ", "it ", "red", "光", "风格", "用", "替换", "'s ", "ｘ", "了", "再",
    "并", "💡", "é", " ", "0.5", "1)", "让", "give ", "a ", "\n", "\"", "'", "“", "instead of ",
    "remove ", "remvoe ", "background ", "背景", "去掉", "然后", "as if ", "the cat is ", "what if ",
    "there is ", "no ", "without ", "to be ", "should be ", "添加", "是", "有", "没有", "如果",
    "swap ", " for ", "turn ", " into ", "made of ", "glass ", "winter ", "改成", "提亮", "把把",
    "Ω", "\u{200b}", "-", "•", "第一步:", "?", "!", ";", "😀", "ß", "ي", "ж", "日本語", "한국어",
];

fn next(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

fn check(text: &str) {
    if let Ok(p) = plan(text) {
        assert!(!p.steps.is_empty(), "{text:?}");
        for step in &p.steps {
            assert!((0.0..=1.0).contains(&step.strength), "{text:?}");
            assert!(!step.rule.is_empty(), "{text:?}");
        }
        // Every step comes from a clause of the text: never more steps than clauses.
        assert!(p.steps.len() <= text.chars().count() + 1, "{text:?}");
    }
}

#[test]
fn ten_thousand_random_inputs_plan_without_panic() {
    let mut seed = 7;
    for i in 0..10_000 {
        // Mostly short, every 50th up to 2,000 characters.
        let target = if i % 50 == 0 {
            2000
        } else {
            (next(&mut seed) % 120) as usize
        };
        let mut text = String::new();
        while text.chars().count() < target {
            text.push_str(PARTS[next(&mut seed) as usize % PARTS.len()]);
        }
        check(&text);
    }
}

/// The fastest of five runs: a busy machine (or the other test in this binary) only ever
/// adds time, so the minimum is what the algorithm itself costs.
/// The fastest of seven runs of each text, the two texts taking turns, so a machine that gets
/// busier half-way slows both alike.
fn times_of(short: &str, long: &str) -> (Duration, Duration) {
    let mut best = (Duration::MAX, Duration::MAX);
    for _ in 0..7 {
        let start = Instant::now();
        let _ = plan(short);
        best.0 = best.0.min(start.elapsed());
        let start = Instant::now();
        let _ = plan(long);
        best.1 = best.1.min(start.elapsed());
    }
    best
}

#[test]
fn time_grows_linearly_with_repeated_connectives() {
    // Repetition that would make a quadratic scan blow up: four times the text must not take
    // sixteen times as long (a factor of 8 leaves room for a busy machine).
    for unit in [
        "然后再并且",
        " and then and ",
        "把把把换成",
        "remove the cat and add a dog and ",
        "'\"“「",
        "make it red then ",
        "删除左边的人然后把墙刷成蓝色",
    ] {
        let short: String = unit.repeat(1000 / unit.chars().count().max(1));
        let long: String = unit.repeat(4000 / unit.chars().count().max(1));
        let (a, b) = times_of(&short, &long);
        println!("{unit:?}: {a:?} for 1,000 characters, {b:?} for 4,000");
        assert!(
            b < a * 8 + Duration::from_millis(50),
            "{unit:?}: {a:?} for 1,000 characters, {b:?} for 4,000"
        );
    }
}
