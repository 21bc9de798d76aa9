//! Starting and stopping the background worker: spawn `zedit worker --foreground` detached in
//! its own session with output to a log beside the socket, then wait until it answers.

use super::client::{Client, ClientOptions, WorkerInfo};
use super::paths::{ensure_dir, log_path};
use super::server::worker_alive;
use super::WorkerError;
use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Exit status of a foreground worker that found another worker holding the socket. A starter
/// that sees it keeps waiting: someone else's worker is coming up.
pub const EXIT_ALREADY_RUNNING: u8 = 3;

const POLL: Duration = Duration::from_millis(10);

/// Starts a worker on `opts.socket` and waits until it answers.
pub fn start(opts: &ClientOptions) -> Result<WorkerInfo, WorkerError> {
    let socket = &opts.socket;
    ensure_dir(socket)?;
    let log = log_path(socket);
    let exe = match &opts.exe {
        Some(exe) => exe.clone(),
        None => std::env::current_exe().map_err(|e| WorkerError::io("zedit executable", e))?,
    };
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| WorkerError::io(&log, e))?;
    let err = out.try_clone().map_err(|e| WorkerError::io(&log, e))?;
    let mut cmd = Command::new(&exe);
    cmd.arg("worker")
        .arg("--foreground")
        .arg("--socket")
        .arg(socket)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    if !opts.engine.name.is_empty() {
        cmd.arg("--engine").arg(&opts.engine.name);
    }
    if let Some(m) = &opts.engine.model {
        cmd.arg("--model").arg(m);
    }
    if let Some(d) = &opts.engine.device {
        cmd.arg("--device").arg(d);
    }
    // SAFETY: setsid is async-signal-safe; it detaches the worker from the terminal's session so
    // a hangup (SSH dropping) does not reach it.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| WorkerError::io(&exe, e))?;
    let begun = Instant::now();
    loop {
        match Client::connect(socket) {
            Ok(c) => return Ok(c.info().clone()),
            Err(e) if e.is_refusal() => return Err(e),
            Err(_) => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            if status.code() != Some(i32::from(EXIT_ALREADY_RUNNING)) {
                return Err(WorkerError::StartFailed {
                    message: last_line(&log)
                        .unwrap_or_else(|| format!("the worker exited with {status}")),
                    log,
                });
            }
        }
        if begun.elapsed() > opts.start_timeout {
            return Err(WorkerError::Timeout {
                socket: socket.clone(),
                secs: opts.start_timeout.as_secs(),
            });
        }
        std::thread::sleep(POLL);
    }
}

/// Stops the worker on `socket` and waits until it has let go of the socket. Returns its pid,
/// or `None` when no worker was running.
pub fn stop(socket: &Path, wait: Duration) -> Result<Option<u32>, WorkerError> {
    let mut client = match Client::connect(socket) {
        Ok(c) => c,
        Err(WorkerError::Unreachable { .. }) if !worker_alive(socket) => return Ok(None),
        Err(e) => return Err(e),
    };
    let pid = client.shutdown()?;
    let begun = Instant::now();
    while worker_alive(socket) {
        if begun.elapsed() > wait {
            return Err(WorkerError::Timeout {
                socket: socket.to_path_buf(),
                secs: wait.as_secs(),
            });
        }
        std::thread::sleep(POLL);
    }
    Ok(Some(pid))
}

/// The log's last non-empty line: the worker's own words on why it could not start.
fn last_line(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    Some(line.trim_start_matches("zedit: error: ").to_string())
}
