//! `zedit plan`: show how an instruction splits into steps.

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
    if args.json {
        println!("{}", serde_json::to_string(&plan)?);
    } else if args.explain {
        print!("{}", crate::plan::render_explained(&plan));
    } else {
        for line in crate::plan::render(&plan).lines() {
            println!("{}", crate::printable::printable(line));
        }
    }
    Ok(ExitCode::SUCCESS)
}
