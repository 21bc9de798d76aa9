//! `zedit plan`: show how an instruction splits into steps.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The instruction, in Chinese or English
    pub text: String,
    /// Print the plan as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let plan = crate::plan::plan(&args.text)?;
    if args.json {
        println!("{}", serde_json::to_string(&plan)?);
    } else {
        for line in crate::plan::render(&plan).lines() {
            println!("{}", crate::printable::printable(line));
        }
    }
    Ok(ExitCode::SUCCESS)
}
