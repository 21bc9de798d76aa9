//! `zedit sessions`: list the sessions under the root.

use super::Ctx;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SessionsArgs {
    /// Print the list as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: SessionsArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let list = crate::session::list_sessions(&ctx.root)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        println!(
            "no sessions under {}; create one with `zedit new IMAGE`",
            ctx.root.display()
        );
    }
    for s in &list {
        match &s.error {
            Some(e) => println!("{:<24} (unreadable: {e})", s.name),
            None => println!("{:<24} {:>3} steps  {}", s.name, s.steps, s.updated),
        }
    }
    Ok(ExitCode::SUCCESS)
}
