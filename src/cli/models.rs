//! `zedit models`: which models zedit knows, where they are installed, and downloading them.

use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: Option<ModelsCommand>,
    /// Print the list as JSON.
    #[arg(long)]
    pub json: bool,
    /// Describe this model folder instead: its components, their formats and sizes, and the
    /// GPU memory expected for it
    #[arg(long, value_name = "DIR")]
    pub model: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List known models, where each is installed and what is missing (the default).
    List {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Download a model into the Hugging Face cache.
    Fetch {
        /// Model name, as `zedit models` lists it (e.g. z-image-turbo).
        name: String,
    },
}

/// Runs `zedit models ...`.
pub fn run(args: ModelsArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.model {
        return describe(dir, args.json);
    }
    match args.command {
        None => list(args.json),
        Some(ModelsCommand::List { json }) => list(json || args.json),
        Some(ModelsCommand::Fetch { name }) => {
            #[cfg(feature = "sam")]
            if let Some(m) = crate::segment::models::manifest(&name) {
                return fetch_sam(&m);
            }
            #[cfg(feature = "sam")]
            if let Some(m) = crate::segment::grounding::models::manifest(&name) {
                return fetch_clip(&m);
            }
            fetch(&name)
        }
    }
}

/// The segmentation models, as JSON entries and as lines of text.
#[cfg(feature = "sam")]
fn sam_entries() -> Vec<serde_json::Value> {
    use crate::segment::models;
    models::manifests()
        .into_iter()
        .map(|m| {
            let installed = models::find_installed(&m).map(|p| p.display().to_string());
            serde_json::json!({
                "name": m.name,
                "engine": m.engine,
                "repo": m.repo,
                "file": m.file,
                "description": m.description,
                "installed": installed,
            })
        })
        .chain(clip_entries())
        .collect()
}

/// The words-scoring models, in the same form (their weights as the file).
#[cfg(feature = "sam")]
fn clip_entries() -> Vec<serde_json::Value> {
    use crate::segment::grounding::models;
    models::manifests()
        .into_iter()
        .map(|m| {
            let installed = models::find_installed(&m).map(|r| r.weights.display().to_string());
            serde_json::json!({
                "name": m.name,
                "engine": m.engine,
                "repo": m.repo,
                "file": m.weights,
                "description": m.description,
                "installed": installed,
            })
        })
        .collect()
}

#[cfg(feature = "sam")]
fn fetch_clip(m: &crate::segment::grounding::models::ClipManifest) -> anyhow::Result<ExitCode> {
    eprintln!(
        "fetching {} ({}, {} and {} from {}) into the Hugging Face cache...",
        m.name, m.weights, m.config, m.tokenizer, m.repo
    );
    let r = crate::segment::grounding::models::fetch(m, true)?;
    println!("{} is installed at {}", m.name, r.weights.display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "sam"))]
fn sam_entries() -> Vec<serde_json::Value> {
    Vec::new()
}

fn print_sam_entries() {
    for e in sam_entries() {
        let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
        println!("  {}  [{}]  {}", s("name"), s("engine"), s("description"));
        println!("    repo {}, file {}", s("repo"), s("file"));
        match e["installed"].as_str() {
            Some(p) => println!("    installed at {p}"),
            None => println!("    missing: run `zedit models fetch {}`", s("name")),
        }
    }
}

#[cfg(feature = "sam")]
fn fetch_sam(m: &crate::segment::models::SamManifest) -> anyhow::Result<ExitCode> {
    eprintln!(
        "fetching {} ({} from {}) into the Hugging Face cache...",
        m.name, m.file, m.repo
    );
    let path = crate::segment::models::fetch(m, true)?;
    println!("{} is installed at {}", m.name, path.display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "zimage")]
fn list(json: bool) -> anyhow::Result<ExitCode> {
    use crate::engine::zimage::models;
    #[derive(serde::Serialize)]
    struct Entry {
        name: String,
        engine: String,
        repo: String,
        description: String,
        steps: u32,
        guidance: f32,
        installed: Option<String>,
        /// Per cached snapshot that is incomplete: its folder and missing files.
        incomplete: Vec<(String, Vec<String>)>,
    }
    let entries: Vec<Entry> = models::manifests()
        .into_iter()
        .map(|m| {
            let snaps = models::cached_snapshots(&m.repo, &m.revision);
            let installed = snaps.iter().find(|p| models::missing_files(p).is_empty());
            let incomplete = snaps
                .iter()
                .map(|p| (p.display().to_string(), models::missing_files(p)))
                .filter(|(_, missing)| !missing.is_empty())
                .collect();
            Entry {
                installed: installed.map(|p| p.display().to_string()),
                incomplete,
                steps: m.defaults.steps,
                guidance: m.defaults.guidance,
                name: m.name,
                engine: m.engine,
                repo: m.repo,
                description: m.description,
            }
        })
        .collect();
    if json {
        let mut all: Vec<serde_json::Value> = entries
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?;
        all.extend(sam_entries());
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(ExitCode::SUCCESS);
    }
    let cache = models::hf_cache_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    println!("models (Hugging Face cache: {cache})");
    for e in &entries {
        println!("  {}  [{}]  {}", e.name, e.engine, e.description);
        println!(
            "    repo {}, defaults: {} steps, guidance {}",
            e.repo, e.steps, e.guidance
        );
        match &e.installed {
            Some(p) => println!("    installed at {p}"),
            None => println!("    missing: run `zedit models fetch {}`", e.name),
        }
        for (dir, missing) in &e.incomplete {
            println!(
                "    incomplete copy at {dir}: missing {}",
                missing.join(", ")
            );
        }
    }
    print_sam_entries();
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "zimage")]
fn fetch(name: &str) -> anyhow::Result<ExitCode> {
    use crate::engine::zimage::{fetch, models};
    let Some(m) = models::manifest(name) else {
        let known: Vec<String> = models::manifests().into_iter().map(|m| m.name).collect();
        anyhow::bail!(
            "unknown model '{name}': known models are {}",
            known.join(", ")
        );
    };
    eprintln!(
        "fetching {} ({}) into the Hugging Face cache...",
        m.name, m.repo
    );
    let dir = fetch::fetch(&m, true)?;
    let missing = models::missing_files(&dir);
    if !missing.is_empty() {
        anyhow::bail!(
            "{} is still incomplete: missing {}",
            dir.display(),
            missing.join(", ")
        );
    }
    println!("{} is installed at {}", m.name, dir.display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "zimage")]
fn describe(dir: &std::path::Path, json: bool) -> anyhow::Result<ExitCode> {
    use crate::engine::zimage::{inventory, memory::gib};
    let inv = inventory::inventory(dir)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&inv)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("model folder {}", inv.folder);
    for c in &inv.components {
        let types: Vec<String> = c.types.iter().map(|(t, n)| format!("{n} {t}")).collect();
        println!(
            "  {:12} {:11} {:>10.3} GiB  {:.2}M params{}",
            c.name,
            c.format,
            gib(c.bytes),
            c.params as f64 / 1e6,
            if types.is_empty() {
                String::new()
            } else {
                format!("  ({})", types.join(", "))
            }
        );
        for f in &c.files {
            println!("               {f}");
        }
    }
    println!("expected GPU memory at {0}x{0} in bf16:", inv.plan_size);
    for e in &inv.expected {
        let how = e
            .execution
            .as_deref()
            .map(|x| format!(" [{x}]"))
            .unwrap_or_default();
        println!("  {:.2} GiB{how}  {}", gib(e.peak_bytes), e.summary);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "zimage"))]
fn describe(_dir: &std::path::Path, _json: bool) -> anyhow::Result<ExitCode> {
    list(false)
}

#[cfg(not(feature = "zimage"))]
fn list(json: bool) -> anyhow::Result<ExitCode> {
    if cfg!(feature = "sam") {
        if json {
            println!("{}", serde_json::to_string_pretty(&sam_entries())?);
        } else {
            println!("models");
            print_sam_entries();
        }
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::bail!("this zedit is built without model engines: rebuild with `--features zimage`")
}

#[cfg(not(feature = "zimage"))]
fn fetch(_name: &str) -> anyhow::Result<ExitCode> {
    list(false)
}
