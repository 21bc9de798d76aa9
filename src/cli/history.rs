//! `zedit new`, `log`, `undo`, `checkout`, `export`: making a session and moving through its tree.

use super::{absolute, Ctx};
use crate::core::{Step, StepId};
use crate::printable::printable;
use crate::session::{export_png, Session};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The source image (PNG, JPEG or WebP)
    pub image: PathBuf,
    /// Session name (default: the image's file name)
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct SessionArg {
    /// Session name, or path to a session folder
    pub session: String,
}

#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// Session name, or path to a session folder
    pub session: String,
    /// Print the whole history as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckoutArgs {
    /// Session name, or path to a session folder
    pub session: String,
    /// Step id (`3` or `#3`), or `source`
    pub step: String,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Session name, or path to a session folder
    pub session: String,
    /// The PNG file to write
    pub out: PathBuf,
    /// Step to export (default: head)
    #[arg(long)]
    pub step: Option<StepId>,
}

pub fn new(args: NewArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let name = match args.name {
        Some(n) => n,
        None => free_name(ctx, &args.image),
    };
    let session = Session::create(&ctx.root, &name, &args.image)?;
    println!("{}", printable(session.name()));
    if let Some(o) = &session.doc.source_orientation {
        eprintln!("turned the source upright (EXIF orientation {o})");
    }
    Ok(ExitCode::SUCCESS)
}

/// The image's file stem, made a valid name, with `-2`, `-3`... when taken.
fn free_name(ctx: &Ctx, image: &std::path::Path) -> String {
    let stem = image
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut base: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    base = base.trim_matches('-').to_string();
    if base.is_empty() {
        base = "session".into();
    }
    (1..)
        .map(|i| {
            if i == 1 {
                base.clone()
            } else {
                format!("{base}-{i}")
            }
        })
        .find(|n| !ctx.root.join(n).exists())
        .unwrap_or(base)
}

pub fn log(args: LogArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let session = Session::load(&ctx.session_dir(&args.session)?)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&session.doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", render_tree(&session));
    Ok(ExitCode::SUCCESS)
}

/// Indentation stops growing past this depth, so a long chain prints in linear size.
const MAX_INDENT: usize = 24;

/// The step tree, one line a step, branches indented (up to [`MAX_INDENT`] levels; deeper
/// steps carry their depth instead), head marked with `*`. Walked with an explicit stack, so a
/// chain of any length cannot overflow the call stack.
pub fn render_tree(session: &Session) -> String {
    use std::fmt::Write;
    let doc = &session.doc;
    let head_mark = |id: Option<StepId>| if doc.head == id { "*" } else { " " };
    let mut out = format!(
        "session {} ({} steps)\n{} source {}\n",
        printable(&doc.name),
        doc.steps.len(),
        head_mark(None),
        printable(doc.source_name.as_deref().unwrap_or(&doc.source.path))
    );
    let mut children: HashMap<Option<StepId>, Vec<&Step>> = HashMap::new();
    for s in &doc.steps {
        children.entry(s.parent).or_default().push(s);
    }
    let kids = |parent: Option<StepId>| children.get(&parent).map_or(&[][..], |v| &v[..]);
    let mut stack: Vec<(&Step, usize)> = kids(None).iter().rev().map(|&k| (k, 0)).collect();
    while let Some((s, depth)) = stack.pop() {
        let took = s.took_ms.map(|t| format!(" {t}ms")).unwrap_or_default();
        let err = s
            .error
            .as_ref()
            .map(|e| format!(" ({})", printable(&e.to_string())))
            .unwrap_or_default();
        let told = s
            .recipe
            .as_ref()
            .map(|r| {
                let loras: String = r
                    .loras
                    .iter()
                    .map(|l| {
                        let name = l.path.file_name().unwrap_or(l.path.as_os_str());
                        format!(" lora {}:{}", printable(&name.to_string_lossy()), l.weight)
                    })
                    .collect();
                format!(" {} prompt \"{}\"{loras}", r.mode, printable(&r.prompt))
            })
            .unwrap_or_default();
        let deep = if depth > MAX_INDENT {
            format!("[depth {}] ", depth + 1)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{} {}{deep}#{} {} \"{}\"{told} [{}] {}{took}{err}",
            head_mark(Some(s.id)),
            "  ".repeat(depth.min(MAX_INDENT) + 1),
            s.id,
            s.op,
            printable(&s.instruction),
            printable(&s.engine.name),
            s.status
        );
        stack.extend(kids(Some(s.id)).iter().rev().map(|&k| (k, depth + 1)));
    }
    out
}

pub fn undo(args: SessionArg, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let head = Session::undo(&ctx.session_dir(&args.session)?)?;
    println!(
        "head is now {}",
        head.map_or("the source".into(), |h| format!("step {h}"))
    );
    Ok(ExitCode::SUCCESS)
}

pub fn checkout(args: CheckoutArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let target = match args.step.as_str() {
        "source" | "0" => None,
        s => Some(s.parse::<StepId>().map_err(anyhow::Error::msg)?),
    };
    let head = Session::checkout(&ctx.session_dir(&args.session)?, target)?;
    println!(
        "head is now {}",
        head.map_or("the source".into(), |h| format!("step {h}"))
    );
    Ok(ExitCode::SUCCESS)
}

pub fn export(args: ExportArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let session = Session::load(&ctx.session_dir(&args.session)?)?;
    export_png(&session, args.step, &args.out)?;
    println!("{}", printable(&absolute(&args.out).display().to_string()));
    Ok(ExitCode::SUCCESS)
}
