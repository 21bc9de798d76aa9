//! `zedit sessions`: list the sessions under the root; `--gc` sweeps what killed processes left.

use super::Ctx;
use crate::printable::printable;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SessionsArgs {
    /// Print the list as JSON
    #[arg(long)]
    pub json: bool,
    /// Remove temp files and half-made sessions left by processes that were killed
    #[arg(long)]
    pub gc: bool,
}

pub fn run(args: SessionsArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    if args.gc {
        return gc(&args, ctx);
    }
    let list = crate::session::list_sessions(&ctx.root)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        println!(
            "no sessions under {}; create one with `zedit new IMAGE`",
            printable(&ctx.root.display().to_string())
        );
    }
    for s in &list {
        let name = printable(&s.name);
        match &s.error {
            Some(e) => println!("{name:<24} (unreadable: {})", printable(e)),
            None => println!("{name:<24} {:>3} steps  {}", s.steps, printable(&s.updated)),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn gc(args: &SessionsArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let swept = crate::session::sweep_root(&ctx.root)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&swept)?);
        return Ok(ExitCode::SUCCESS);
    }
    for s in &swept {
        println!("removed {}", printable(&s.path.display().to_string()));
    }
    let bytes: u64 = swept.iter().map(|s| s.bytes).sum();
    println!(
        "removed {} leftover(s), {:.1} MB, under {}",
        swept.len(),
        bytes as f64 / 1e6,
        printable(&ctx.root.display().to_string())
    );
    Ok(ExitCode::SUCCESS)
}
