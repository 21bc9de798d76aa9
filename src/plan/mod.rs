//! Instruction -> ordered chain of steps (Chinese and English), rule-based.
//!
//! A compound instruction sent to an image model in one pass loses control, so the planner
//! splits it: clauses are segmented (`segment`), each is classified by keyword tables and
//! patterns (`classify`, `lexicon`), its target and region are extracted (`target`,
//! `region`), attribute clauses attach to their step and steps are ordered (`order`), and
//! each step's stand-alone instruction is written (`compose`). Descriptions, questions and
//! wishes are put in the imperative first (`forms`), misspelt verbs are repaired (`typo`), and an
//! instruction given line by line is planned a line at a time (`chain`). Every step names the
//! rule that chose its op. No model is involved.

mod adds;
mod chain;
mod classify;
mod compose;
mod decide;
mod forms;
mod forms_zh;
mod lexicon;
mod order;
mod purpose;
mod region;

/// The named part of the frame a phrase points at ("on the right", "左边的"), if any.
pub use region::find as find_region;
mod scene;
mod segment;
mod slots;
mod split;
mod target;
mod typo;
mod verbs;
mod vocab;

use crate::core::{Op, Region};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Why an instruction cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "the instruction is empty: say what to change, e.g. \"remove the man on the left\" \
         or \"把背景换成海边\""
    )]
    Empty,
}

/// The steps an instruction becomes, in the order to run them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub steps: Vec<PlannedStep>,
}

/// One step of a plan: what to send to the model, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedStep {
    pub op: Op,
    /// The text to send to the model, in the user's language, standing alone.
    pub instruction: String,
    /// A short noun phrase from the instruction naming what the step acts on.
    pub target: Option<String>,
    /// A named part of the frame the instruction points at.
    pub region: Option<Region>,
    /// Suggested denoise strength, 0..=1.
    pub strength: f32,
    /// Whether painting a mask over the target is advised.
    pub mask_advised: bool,
    /// The thing acted on as the user described it ("红色T恤"; `target` is its head).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// What the step brings, with the user's attributes ("穿旗袍的女人,微笑", "深棕色").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_value: Option<String>,
    /// What is kept or asked to be completed around it ("沙发", "the ground").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep: Option<String>,
    /// Which rule chose the op, in words (`zedit plan --explain`).
    #[serde(default)]
    pub rule: String,
}

/// Plans an instruction. Text with no recognisable op becomes one `edit` step; only an
/// instruction with no words at all is an error.
pub fn plan(text: &str) -> Result<Plan, PlanError> {
    let capped: String = text.chars().take(segment::MAX_CHARS).collect();
    let repaired = typo::repair(&capped);
    let normalized = segment::normalize(&repaired);
    if !normalized.chars().any(char::is_alphanumeric) {
        return Err(PlanError::Empty);
    }
    let drafts = match chain::lines(&repaired) {
        Some(lines) => {
            let mut drafts = chain::plan_lines(&lines);
            chain::resolve(&mut drafts);
            drafts
        }
        None => {
            let clauses = segment::clauses(&normalized);
            let drafts = order::assemble(&clauses);
            let compound = order::compound(&clauses, &drafts);
            let mut drafts = order::split_compound(drafts, compound);
            chain::resolve(&mut drafts);
            order::order(drafts, segment::explicit_order(&normalized))
        }
    };
    if drafts.is_empty() {
        return Err(PlanError::Empty);
    }
    Ok(Plan {
        steps: drafts.into_iter().map(compose::finish).collect(),
    })
}

/// The listing of [`render`] with, under each step, the rule that chose its op.
pub fn render_explained(plan: &Plan) -> String {
    let listing = render(plan);
    let mut out = String::new();
    for (line, step) in listing.lines().zip(&plan.steps) {
        let _ = writeln!(out, "{line}\n   why: {}", step.rule);
    }
    out
}

/// A numbered listing for the terminal, one step a line:
/// `1. delete  删除男人,保留沙发  [target 男人, strength 0.8, mask advised]`.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    for (i, step) in plan.steps.iter().enumerate() {
        let mut notes = Vec::new();
        if let Some(target) = &step.target {
            notes.push(format!("target {target}"));
        }
        if let Some(region) = &step.region {
            notes.push(format!("region {region}"));
        }
        notes.push(format!("strength {}", step.strength));
        if step.mask_advised {
            notes.push("mask advised".to_string());
        }
        let _ = writeln!(
            out,
            "{}. {:<7} {}  [{}]",
            i + 1,
            step.op.as_str(),
            step.instruction,
            notes.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sofa_example_splits_into_three_steps() {
        let plan = plan("把坐在沙发上的男人换成穿旗袍的女人,面带微笑,窗外阳光洒入").unwrap();
        let json = serde_json::to_string(&plan).unwrap();
        assert!(json.starts_with(
            r#"{"steps":[{"op":"delete","instruction":"删除男人,保留沙发","target":"男人","region":null,"strength":0.8,"mask_advised":true,"subject":"男人","keep":"沙发","rule":"#
        ), "{json}");
        assert!(plan.steps.iter().all(|s| !s.rule.is_empty()), "{json}");
        assert_eq!(plan.steps[1].instruction, "添加穿旗袍的女人坐在沙发上,微笑");
        assert_eq!(plan.steps[2].op, Op::Relight);
        let back: Plan = serde_json::from_str(&json).unwrap();
        assert_eq!(back, plan);
    }

    #[test]
    fn empty_text_is_an_error_and_noise_is_an_edit() {
        assert_eq!(plan("  \n\t "), Err(PlanError::Empty));
        assert_eq!(plan("，。"), Err(PlanError::Empty));
        assert!(PlanError::Empty.to_string().contains("empty"));
        let plan = plan("让她笑一笑").unwrap();
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.steps[0].op, Op::Edit);
    }

    #[test]
    fn render_lists_numbered_steps() {
        let plan = plan("Remove the person on the right, then brighten the photo").unwrap();
        let text = render(&plan);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("1. delete  Remove the person on the right  [target person, region right, strength 0.8, mask advised]"), "{text}");
        assert!(
            lines[1].starts_with("2. relight Brighten the photo  [strength 0.4]"),
            "{text}"
        );
    }

    #[test]
    fn any_text_plans_without_panicking() {
        // A fixed pseudo-random soup of words, CJK, full-width and odd punctuation.
        let parts = [
            "把", "换成", "删除", "的", "在", "放一", "左上", "，", "。", ",", " and ", "then ",
            "replace ", "with ", "make ", "it ", "red", "光", "风格", "用", "替换", "'s ", "ｘ",
            "了", "再", "并", "💡", "é", " ", "0.5", "1)", "让", "give ", "a ",
        ];
        let mut seed: u64 = 42;
        for _ in 0..2000 {
            let mut text = String::new();
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            for _ in 0..(seed >> 60) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(parts[(seed >> 33) as usize % parts.len()]);
            }
            if let Ok(plan) = plan(&text) {
                assert!(!plan.steps.is_empty(), "{text:?}");
            }
        }
    }

    #[test]
    fn very_long_input_is_fast() {
        let long = "删除左边的人,然后把墙刷成蓝色,".repeat(2000);
        let start = std::time::Instant::now();
        let plan = plan(&long).unwrap();
        assert!(!plan.steps.is_empty());
        assert!(start.elapsed().as_millis() < 500, "{:?}", start.elapsed());
    }
}
