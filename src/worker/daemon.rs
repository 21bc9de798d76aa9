//! Starting and stopping the background worker: spawn `zedit worker --foreground` detached (a
//! double fork into its own session, so it is never the starter's unreaped child) with output
//! to a log beside the socket, then wait until it answers.

use super::client::{Client, ClientOptions, WorkerInfo};
use super::paths::{ensure_dir, log_path};
use super::server::worker_alive;
use super::WorkerError;
use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
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
    // The worker keeps the write end of this pipe open for its whole life without knowing it;
    // the read end sees end-of-file once it has exited, as `try_wait` would for a child.
    let (alive_r, alive_w) = std::io::pipe().map_err(|e| WorkerError::io("a pipe", e))?;
    let keep = alive_w.as_raw_fd();
    // SAFETY: setsid, fork, fcntl and _exit are async-signal-safe. The intermediate child exits
    // at once (reaped below); the grandchild, adopted by init, becomes the worker in a new
    // session, so a hangup (SSH dropping) does not reach it and no client is left with a
    // zombie when it dies.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            match libc::fork() {
                -1 => Err(std::io::Error::last_os_error()),
                0 => {
                    if libc::fcntl(keep, libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                }
                _ => libc::_exit(0),
            }
        });
    }
    let mut child = cmd.spawn().map_err(|e| WorkerError::io(&exe, e))?;
    drop(alive_w);
    // The intermediate exits as soon as it has forked.
    let _ = child.wait();
    let begun = Instant::now();
    loop {
        match Client::connect(socket) {
            Ok(c) => return Ok(c.info().clone()),
            Err(e) if e.is_refusal() => return Err(e),
            Err(_) => {}
        }
        // A worker that exited because another one holds the socket is fine: that one is
        // coming up. Any other exit is a failed start.
        if exited(&alive_r) && !worker_alive(socket) {
            return Err(WorkerError::StartFailed {
                message: last_line(&log).unwrap_or_else(|| "the worker exited".into()),
                log,
            });
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

/// True once every holder of the pipe's write end (the started worker) has exited.
fn exited(alive: &std::io::PipeReader) -> bool {
    let mut pfd = libc::pollfd {
        fd: alive.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for a pipe we own, for the duration of the call.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n > 0 && pfd.revents & (libc::POLLHUP | libc::POLLIN) != 0
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
