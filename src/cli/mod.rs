//! The command line: one file per command family. `zedit` alone opens the studio.

mod edit;
mod edit_inputs;
mod edit_plan;
mod history;
mod lora;
mod models;
mod plan;
mod replay;
mod segment;
mod segment_text;
mod sessions;
mod worker;

use crate::printable::printable;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "zedit",
    version,
    about = "Edit images by saying what you want, in the terminal"
)]
pub struct Cli {
    /// Folder that holds the sessions (default: $ZEDIT_HOME/sessions, else the platform data dir)
    #[arg(long, global = true, value_name = "DIR")]
    pub sessions: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a session from an image and print its name
    New(history::NewArgs),
    /// Run an edit on the session's head image and record it
    Edit(Box<edit::EditArgs>),
    /// Show the step tree and which step is head
    Log(history::LogArgs),
    /// Move head back to the previous step
    Undo(history::SessionArg),
    /// Move head to a step (the next edit branches from there)
    Checkout(history::CheckoutArgs),
    /// Write an image, with the chain that made it in its PNG text chunks
    Export(history::ExportArgs),
    /// Re-run the chain from the source (--verify) or on other images (--on)
    Replay(replay::ReplayArgs),
    /// Find a mask with Segment Anything from points, a box or words; prints the mask's path
    Segment(segment::SegmentArgs),
    /// List sessions
    Sessions(sessions::SessionsArgs),
    /// Split an instruction into a chain of steps
    Plan(plan::PlanArgs),
    /// List the models zedit knows and where they are installed; `fetch NAME` downloads one
    Models(models::ModelsArgs),
    /// Run or manage the persistent worker that keeps engines loaded (alone: foreground)
    Worker(worker::WorkerArgs),
}

/// What every command needs: where the sessions live.
pub struct Ctx {
    pub root: PathBuf,
}

impl Ctx {
    pub fn session_dir(&self, arg: &str) -> anyhow::Result<PathBuf> {
        Ok(crate::session::resolve(&self.root, arg)?)
    }
}

/// Entry point used by `main.rs`.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let ctx = Ctx {
        root: cli
            .sessions
            .clone()
            .unwrap_or_else(crate::session::default_root),
    };
    let result = match cli.command {
        None => crate::tui::run(ctx.root.clone()).map(|_| ExitCode::SUCCESS),
        Some(cmd) => run(cmd, &ctx),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("zedit: error: {}", printable(&one_line(&e)));
            ExitCode::FAILURE
        }
    }
}

fn run(cmd: Command, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::New(a) => history::new(a, ctx),
        Command::Edit(a) => edit::run(*a, ctx),
        Command::Log(a) => history::log(a, ctx),
        Command::Undo(a) => history::undo(a, ctx),
        Command::Checkout(a) => history::checkout(a, ctx),
        Command::Export(a) => history::export(a, ctx),
        Command::Replay(a) => replay::run(a, ctx),
        Command::Segment(a) => segment::run(a, ctx),
        Command::Sessions(a) => sessions::run(a, ctx),
        Command::Plan(a) => plan::run(a),
        Command::Models(a) => models::run(a),
        Command::Worker(a) => worker::run(a, ctx),
    }
}

/// Bad values get one line naming the value; other usage errors keep clap's full text.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) {
        let text = e.to_string();
        let first = text
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ");
        eprintln!("zedit: error: {}", printable(first));
        return ExitCode::from(2);
    }
    e.exit()
}

/// An error chain on one line: "outer: inner: cause".
pub fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ").replace('\n', " ")
}

/// Shown paths are absolute so scripts can use them from anywhere.
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
