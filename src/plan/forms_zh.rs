//! Chinese sentence forms: "如果男人有胡子会怎样", "天空是粉色的", "桌上有一个花瓶", "草地上没有人",
//! "增加鸟的数量" are rewritten into the imperative ("给男人添加胡子", "把天空调成粉色", …).

use super::lexicon::{has_light, is_colour_only, is_style};
use super::verbs::{earliest_verb, Verb};

pub fn canonical_zh(clause: &str) -> Option<(String, &'static str)> {
    let mut text = clause.trim();
    let mut form = None;
    for lead in ["如果", "假如", "要是", "假设", "想象一下", "想象"] {
        if let Some(rest) = text.strip_prefix(lead) {
            text = rest;
            form = Some("如果…");
        }
    }
    for tail in [
        "会怎么样",
        "会怎样",
        "会如何",
        "会是什么样",
        "会是什么样子",
        "的话",
        "会好看",
    ] {
        if let Some(rest) = text.strip_suffix(tail) {
            text = rest;
            form = Some("如果…");
        }
    }
    let lower = text.to_ascii_lowercase();
    // "增加鸟的数量", "减少树的数量".
    if let Some(at) = lower.find("的数量") {
        let thing = &text[..at];
        let (verb, rest) = ["增加", "减少", "提高", "降低"]
            .iter()
            .find_map(|v| thing.find(v).map(|i| (*v, &thing[i + v.len()..])))?;
        let op = if matches!(verb, "增加" | "提高") {
            "添加"
        } else {
            "删除一些"
        };
        return Some((format!("{op}{rest}"), "数量"));
    }
    let verbless = earliest_verb(&lower).is_none_or(|h| h.verb == Verb::Keep);
    if verbless {
        if let Some(at) = text.find("没有").filter(|at| *at > 0 || text.len() > 6) {
            let place = text[..at].trim();
            let thing = &text[at + "没有".len()..];
            let place = if place.is_empty() {
                String::new()
            } else {
                format!("{place}的")
            };
            return Some((format!("删除{place}{thing}"), "没有X"));
        }
        if let Some(at) = text.find('是').filter(|at| *at > 0) {
            let x = &text[..at];
            let y = text[at + '是'.len_utf8()..].trim_end_matches('的');
            let known = is_colour_only(y) || has_light(y) || is_style(y);
            let joined = ["但", "就", "还", "总", "只", "不", "要", "像"]
                .iter()
                .any(|w| x.ends_with(w));
            if known && !joined && !y.is_empty() {
                return Some((format!("把{x}调成{y}"), "X是Y"));
            }
        }
        if let Some(at) = text.find('有').filter(|at| *at > 0) {
            let before = &text[..at];
            let after = &text[at + '有'.len_utf8()..];
            let word_part = ["所", "没", "拥", "具", "只", "还"]
                .iter()
                .any(|w| before.ends_with(w))
                || ["点", "些", "一种", "一点"]
                    .iter()
                    .any(|w| after.starts_with(w));
            if !word_part && !after.is_empty() && !has_light(after) {
                return Some((format!("给{before}添加{after}"), "X有Y"));
            }
        }
    }
    form.map(|f| (text.to_string(), f))
}
