//! `zedit edit`'s steps before they run: the planner's chain (or the one step the user named)
//! and each step's recipe with the user's overrides.

use super::edit::EditArgs;
use crate::core::{EditParams, FlowEditParams, MaskSource, Mode, Op, Recipe};
use crate::plan::PlannedStep;

/// One step to run.
pub(super) struct Planned {
    pub step: PlannedStep,
}

/// The steps of an edit: the planner's chain, or with `--op` / `--no-plan` the instruction as
/// one step.
pub(super) fn plan_steps(args: &EditArgs) -> anyhow::Result<Vec<Planned>> {
    let op = match (args.op, args.no_plan) {
        (Some(op), _) => op,
        (None, true) => Op::Edit,
        (None, false) => {
            let plan = crate::plan::plan(&args.instruction)?;
            return Ok(plan
                .steps
                .into_iter()
                .map(|step| Planned { step })
                .collect());
        }
    };
    // One step as told: the planner still reads its slots (subject, new value, what to
    // keep) so the recipe's prompts can be derived, but the op and text are the user's.
    let read = crate::plan::plan(&args.instruction)?
        .steps
        .into_iter()
        .find(|s| s.op == op);
    let step = PlannedStep {
        op,
        instruction: args.instruction.clone(),
        target: read.as_ref().and_then(|s| s.target.clone()),
        region: None,
        strength: 0.6,
        mask_advised: false,
        subject: read.as_ref().and_then(|s| s.subject.clone()),
        new_value: read.as_ref().and_then(|s| s.new_value.clone()),
        keep: read.as_ref().and_then(|s| s.keep.clone()),
        rule: if args.op.is_some() {
            "given with --op".into()
        } else {
            "sent as one step with --no-plan".into()
        },
    };
    Ok(vec![Planned { step }])
}

/// The step's recipe with the user's overrides, its strength and steps made the params' (and
/// the params' FlowEdit numbers filled in), checked so a missing mask fails before anything runs.
pub(super) fn recipe_for(
    args: &EditArgs,
    p: &Planned,
    mask: MaskSource,
    params: &mut EditParams,
) -> anyhow::Result<Recipe> {
    let mut recipe = crate::recipe::derive(&p.step, mask);
    if let Some(mode) = args.mode {
        recipe.mode = mode;
    }
    if let Some(prompt) = &args.prompt {
        recipe.prompt = prompt.clone();
    }
    if let Some(source) = &args.source_prompt {
        recipe.source_prompt = Some(source.clone());
    }
    if let Some(neg) = &args.negative_prompt {
        recipe.negative_prompt = Some(neg.clone());
    }
    if args.strength.is_none() {
        params.strength = recipe.strength;
    }
    recipe.strength = params.strength;
    recipe.steps = params.steps;
    if recipe.mode == Mode::Flowedit {
        let d = FlowEditParams::for_strength(params.steps, params.strength);
        params.flowedit = Some(FlowEditParams {
            n_max: args.n_max.unwrap_or(d.n_max),
            n_min: args.n_min.unwrap_or(d.n_min),
            n_avg: args.n_avg.unwrap_or(d.n_avg),
            source_guidance: args.source_guidance.unwrap_or(d.source_guidance),
            target_guidance: args.target_guidance.unwrap_or(d.target_guidance),
        });
    }
    params.validate().map_err(anyhow::Error::msg)?;
    recipe.check(&p.step.instruction)?;
    Ok(recipe)
}
