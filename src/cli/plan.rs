//! `zedit plan`: show how an instruction splits into steps, and what a generative engine is told
//! for each (its recipe, as derived without a mask).

use crate::core::MaskSource;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The instruction, in Chinese or English
    pub text: String,
    /// Print the plan as JSON
    #[arg(long)]
    pub json: bool,
    /// Say, under each step, which rule chose its op
    #[arg(long)]
    pub explain: bool,
}

pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let plan = crate::plan::plan(&args.text)?;
    let recipes: Vec<_> = plan
        .steps
        .iter()
        .map(|s| crate::recipe::derive(s, MaskSource::None))
        .collect();
    if args.json {
        let mut value = serde_json::to_value(&plan)?;
        if let Some(steps) = value.get_mut("steps").and_then(|s| s.as_array_mut()) {
            for (step, recipe) in steps.iter_mut().zip(&recipes) {
                if let Some(obj) = step.as_object_mut() {
                    obj.insert("recipe".into(), serde_json::to_value(recipe)?);
                }
            }
        }
        println!("{}", serde_json::to_string(&value)?);
    } else if args.explain {
        print!("{}", crate::plan::render_explained(&plan));
    } else {
        let listing = crate::plan::render(&plan);
        for (line, recipe) in listing.lines().zip(&recipes) {
            println!("{}", crate::printable::printable(line));
            let source = recipe
                .source_prompt
                .as_deref()
                .map(|s| format!(" from \"{}\"", crate::printable::printable(s)))
                .unwrap_or_default();
            let mask = match recipe.mask_source {
                MaskSource::None if recipe.mode.needs_mask() => ", needs a mask".to_string(),
                MaskSource::None => String::new(),
                m => format!(", mask by {m}"),
            };
            println!(
                "   zimage: {} \"{}\"{source}{mask}",
                recipe.mode,
                crate::printable::printable(&recipe.prompt)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
