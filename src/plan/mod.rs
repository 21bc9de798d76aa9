//! Instruction -> ordered chain of steps (Chinese and English), rule-based.

use crate::core::{Op, Region};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the instruction is empty: say what to change")]
    Empty,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub steps: Vec<PlannedStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedStep {
    pub op: Op,
    pub instruction: String,
    pub target: Option<String>,
    pub region: Option<Region>,
    pub strength: f32,
    pub mask_advised: bool,
}

pub fn plan(text: &str) -> Result<Plan, PlanError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(PlanError::Empty);
    }
    let op = if [
        "亮", "暗", "暖", "冷", "bright", "dark", "warm", "cool", "light",
    ]
    .iter()
    .any(|w| text.to_lowercase().contains(w))
    {
        Op::Relight
    } else {
        Op::Edit
    };
    Ok(Plan {
        steps: vec![PlannedStep {
            op,
            instruction: text.into(),
            target: None,
            region: None,
            strength: 0.6,
            mask_advised: false,
        }],
    })
}

pub fn render(plan: &Plan) -> String {
    plan.steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {:<8} {}\n", i + 1, s.op, s.instruction))
        .collect()
}
