//! Planned step -> recipe: what a text-to-image model is told for each op. A model like Z-Image
//! draws what its prompt describes and does not obey commands, so each op becomes a mode (mask
//! plus a prompt of what should be there, img2img, or FlowEdit between a source and a target
//! prompt) with prompts in the user's language that never name what is being removed.

mod words;

use crate::core::{MaskSource, Mode, Op, Recipe};
use crate::plan::PlannedStep;

/// Strength of the inpaint that follows the classic pre-fill of a delete: the fill already
/// holds the right colours, so the model only needs to redraw texture and light.
pub const PREFILL_STRENGTH: f32 = 0.6;

/// The recipe of `step`, given where its mask comes from (`MaskSource::None` when the caller
/// has none; a region the planner found in the words counts as a mask by words). Never fails:
/// [`Recipe::check`] says whether it can run.
pub fn derive(step: &PlannedStep, mask: MaskSource) -> Recipe {
    let zh = words::is_zh(&step.instruction);
    let mask = match mask {
        MaskSource::None if step.region.is_some() => MaskSource::Words,
        m => m,
    };
    let masked = mask != MaskSource::None;
    let (mode, prompt, source, strength) = match step.op {
        Op::Delete => (
            Mode::ClassicPrefillInpaint,
            words::what_remains(step, zh),
            None,
            PREFILL_STRENGTH,
        ),
        Op::Add => (Mode::Inpaint, words::new_thing(step), None, step.strength),
        Op::Replace if masked => (Mode::Inpaint, words::new_thing(step), None, step.strength),
        Op::Replace => (
            Mode::Flowedit,
            words::new_thing(step),
            Some(words::old_thing(step)),
            step.strength,
        ),
        Op::Recolor => (
            Mode::Flowedit,
            words::recoloured(step, zh),
            Some(words::old_thing(step)),
            step.strength,
        ),
        Op::Relight | Op::Restyle => (
            Mode::Flowedit,
            words::with_look(step, zh),
            Some(words::neutral(zh).to_string()),
            step.strength,
        ),
        Op::Edit if masked => (Mode::Inpaint, step.instruction.clone(), None, step.strength),
        Op::Edit => (Mode::Img2img, step.instruction.clone(), None, step.strength),
    };
    Recipe {
        mode,
        prompt,
        source_prompt: source,
        negative_prompt: None,
        mask_source: mask,
        strength,
        steps: crate::core::EditParams::default().steps,
        loras: Vec::new(),
    }
}

/// Number of transformer calls a recipe makes with `steps` steps at `strength` (`cfg`: whether
/// classifier-free guidance doubles the calls). FlowEdit makes two a step (source and target)
/// per noise draw; the other modes one a step that runs.
pub fn transformer_calls(recipe: &Recipe, params: &crate::core::EditParams) -> usize {
    let steps = params.steps;
    let guided = |g: f32| if g > 0.0 { 2 } else { 1 };
    match recipe.mode {
        Mode::Flowedit => {
            let f = params.flowedit.unwrap_or_else(|| {
                crate::core::FlowEditParams::for_strength(steps, params.strength)
            });
            let edit_steps = (f.n_max - f.n_min) as usize;
            let per_draw = guided(f.source_guidance) + guided(f.target_guidance);
            edit_steps * f.n_avg as usize * per_draw + f.n_min as usize * guided(f.target_guidance)
        }
        _ => {
            let n = steps as f64;
            let t_start = (n - (n * params.strength as f64).min(n)).max(0.0) as usize;
            (steps as usize - t_start) * guided(params.cfg)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step_of(text: &str, i: usize) -> PlannedStep {
        crate::plan::plan(text).unwrap().steps.remove(i)
    }

    #[test]
    fn the_sofa_example_gets_three_recipes() {
        let text = "把坐在沙发上的男人换成穿旗袍的女人,面带微笑,窗外阳光洒入";
        let plan = crate::plan::plan(text).unwrap();
        let r: Vec<Recipe> = plan
            .steps
            .iter()
            .map(|s| derive(s, MaskSource::Drawn))
            .collect();
        assert_eq!(r[0].mode, Mode::ClassicPrefillInpaint);
        assert_eq!(r[0].prompt, "沙发");
        assert_eq!(r[1].mode, Mode::Inpaint);
        assert_eq!(r[1].prompt, "穿旗袍的女人坐在沙发上,微笑");
        assert_eq!(r[2].mode, Mode::Flowedit);
        assert!(r[2].prompt.contains("阳光"), "{:?}", r[2]);
        assert_eq!(r[2].mask_source, MaskSource::Drawn);
    }

    #[test]
    fn a_delete_without_a_mask_fails_its_check_and_a_region_counts_as_words() {
        let step = step_of("删除垃圾桶", 0);
        let r = derive(&step, MaskSource::None);
        assert!(r.check(&step.instruction).is_err());
        let step = step_of("remove the trash can on the right", 0);
        let r = derive(&step, MaskSource::None);
        assert_eq!(r.mask_source, MaskSource::Words);
        assert!(r.check(&step.instruction).is_ok());
        assert!(!r.prompt.contains("trash"), "{r:?}");
    }

    #[test]
    fn calls_per_recipe_at_eight_steps() {
        let params = crate::core::EditParams {
            strength: 0.6,
            ..Default::default()
        };
        let mut r = derive(&step_of("把背景换成海边", 0), MaskSource::None);
        r.mode = Mode::Flowedit;
        assert_eq!(transformer_calls(&r, &params), 10);
        r.mode = Mode::Img2img;
        assert_eq!(transformer_calls(&r, &params), 5);
    }
}
