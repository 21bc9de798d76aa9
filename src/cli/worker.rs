//! `zedit worker [start|stop|status]`: the persistent worker that keeps engines loaded; alone
//! (or with `--foreground`) it runs in the foreground for service managers.

use super::Ctx;
use crate::core::Step;
use crate::engine::{EngineOptions, QuantMode};
use crate::printable::printable;
use crate::session::StepRequest;
use crate::worker::daemon::{self, EXIT_ALREADY_RUNNING};
use crate::worker::paths::socket_path;
use crate::worker::{
    Client, ClientOptions, Job, Probe, Server, ServerOptions, WorkerError, STEP_DELAY_ENV,
};
use anyhow::bail;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    #[command(subcommand)]
    pub action: Option<WorkerAction>,
    /// Run in the foreground (what `zedit worker` alone does)
    #[arg(long)]
    pub foreground: bool,
    /// Socket to serve or reach (default: $XDG_RUNTIME_DIR/zedit/worker.sock)
    #[arg(long, env = "ZEDIT_SOCKET", global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Engine to load at start: classic (always loaded) or zimage
    #[arg(long, env = "ZEDIT_ENGINE", default_value = "classic", global = true)]
    pub engine: String,
    /// Model folder or name for the engine
    #[arg(long, global = true)]
    pub model: Option<PathBuf>,
    /// Device for the engine: cpu, cuda, cuda:N, metal
    #[arg(long, global = true)]
    pub device: Option<String>,
    /// How a GGUF model's quantized weights run when a job does not say: qmatmul or dequant
    /// (default: $ZEDIT_GGUF_EXEC, else qmatmul)
    #[arg(long, global = true, value_name = "qmatmul|dequant", value_parser = QuantMode::parse_arg)]
    pub gguf_exec: Option<QuantMode>,
    /// Print status as JSON
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum WorkerAction {
    /// Start the worker in the background and print its pid and socket
    Start,
    /// Stop the worker (queued and running jobs are cancelled and recorded so)
    Stop,
    /// Show the worker and its queue
    Status,
}

pub fn run(args: WorkerArgs, _ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let socket = socket_path(args.socket.as_deref());
    let engine = EngineOptions {
        name: args.engine.clone(),
        model: args.model.clone(),
        device: args.device.clone(),
        gguf_exec: args.gguf_exec,
    };
    match args.action {
        None => foreground(socket, engine),
        Some(_) if args.foreground => bail!("--foreground runs the worker; drop the subcommand"),
        Some(WorkerAction::Start) => start(socket, engine),
        Some(WorkerAction::Stop) => match daemon::stop(&socket, Duration::from_secs(60))? {
            Some(pid) => {
                println!("stopped the worker (pid {pid}) on {}", socket.display());
                Ok(ExitCode::SUCCESS)
            }
            None => {
                println!("no worker is running on {}", socket.display());
                Ok(ExitCode::SUCCESS)
            }
        },
        Some(WorkerAction::Status) => status(&socket, args.json),
    }
}

fn foreground(socket: PathBuf, engine: EngineOptions) -> anyhow::Result<ExitCode> {
    let mut opts = ServerOptions::new(socket);
    opts.engine = engine;
    opts.step_delay = std::env::var(STEP_DELAY_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis);
    let server = match Server::start(opts) {
        Ok(s) => s,
        Err(e @ WorkerError::AlreadyRunning { .. }) => {
            eprintln!("zedit: error: {}", printable(&e.to_string()));
            return Ok(ExitCode::from(EXIT_ALREADY_RUNNING));
        }
        Err(e) => return Err(e.into()),
    };
    crate::worker::stop_on_signals();
    eprintln!(
        "zedit worker: pid {} serving {} (engines: {})",
        std::process::id(),
        server.socket().display(),
        server.engines().join(", ")
    );
    server.serve()?;
    eprintln!("zedit worker: pid {} stopped", std::process::id());
    Ok(ExitCode::SUCCESS)
}

fn start(socket: PathBuf, engine: EngineOptions) -> anyhow::Result<ExitCode> {
    let info = match Client::probe(&socket) {
        Probe::Ready(info) => {
            println!(
                "a worker is already running: pid {} on {}",
                info.pid,
                socket.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Probe::NeedsRestart(e) => return Err(e.into()),
        Probe::Unreachable(_) => {
            let mut opts = ClientOptions::new(&socket);
            opts.engine = engine;
            daemon::start(&opts)?
        }
    };
    println!("worker started: pid {} on {}", info.pid, socket.display());
    Ok(ExitCode::SUCCESS)
}

fn status(socket: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let mut client = match Client::connect(socket) {
        Ok(c) => c,
        Err(WorkerError::Unreachable { .. }) => {
            println!("no worker is running on {}", socket.display());
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    let jobs = client.status()?;
    let info = client.info().clone();
    if json {
        let value = serde_json::json!({
            "pid": info.pid,
            "socket": socket,
            "version": info.version,
            "engines": info.engines,
            "jobs": jobs,
        });
        println!("{value}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "worker pid {} on {} (zedit {}), engines: {}",
        info.pid,
        socket.display(),
        printable(&info.version),
        printable(&info.engines.join(", "))
    );
    if jobs.is_empty() {
        println!("no jobs");
    }
    for j in jobs {
        let step = j.step_id.map(|s| format!(" step {s}")).unwrap_or_default();
        let progress = j
            .progress
            .map(|(s, t)| format!(" {s}/{t}"))
            .unwrap_or_default();
        let state = serde_json::to_value(j.state)?;
        let state = state.as_str().unwrap_or("?");
        println!(
            "job {} {state} {}{step}{progress}",
            j.job_id,
            printable(&j.session.display().to_string())
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs one step through the worker and returns it as recorded in the session, so the caller
/// reports it exactly as an in-process run would.
pub fn run_step(
    client: &mut Client,
    dir: &Path,
    req: &StepRequest,
    engine: &EngineOptions,
    reconnect: &ClientOptions,
) -> anyhow::Result<Step> {
    let job = Job {
        session_dir: dir.to_path_buf(),
        request: req.clone(),
        engine: engine.name.clone(),
        model: engine.model.clone(),
        device: engine.device.clone(),
        gguf_exec: engine.gguf_exec,
    };
    let (id, ahead) = client.submit(job)?;
    if ahead > 0 {
        eprintln!("queued behind {ahead} job(s) in the worker");
    }
    Ok(client.wait_step(id, dir, Some(reconnect), &mut |_| {})?)
}

/// How the CLI reaches the worker: `socket`, else `$ZEDIT_SOCKET`, else the default path.
pub fn client_options(socket: Option<&Path>) -> ClientOptions {
    ClientOptions::new(socket_path(socket))
}
