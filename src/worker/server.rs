//! The worker daemon: takes the pidfile lock, loads the engine on its own thread (ready
//! handshake), binds the private socket, and serves a thread per connection until shut down.

use super::conn::{self, HelloInfo};
use super::engines::{default_factory, EngineFactory};
use super::paths::{ensure_dir, our_uid, peer_is_us, pid_path};
use super::queue::Queue;
use super::runner::Runner;
use super::WorkerError;
use crate::engine::EngineOptions;
use fs4::fs_std::FileExt;
use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the accept loop wakes to notice a shutdown or a removed socket.
const TICK: Duration = Duration::from_millis(100);

/// Set by SIGTERM/SIGINT. A signal handler can only reach process-wide state, hence a static.
static TERMINATE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_terminate(_: libc::c_int) {
    TERMINATE.store(true, Ordering::SeqCst);
}

/// Makes SIGTERM and SIGINT stop the worker as `Shutdown` does, so a service manager's stop
/// records the running step as cancelled instead of leaving it interrupted.
pub fn stop_on_signals() {
    let handler = on_terminate as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGTERM, handler);
        libc::signal(libc::SIGINT, handler);
    }
}

/// How to run a worker.
#[derive(Clone)]
pub struct ServerOptions {
    pub socket: PathBuf,
    /// The configured engine, loaded at start (`classic` is always loaded).
    pub engine: EngineOptions,
    /// Test knob: a pause before each progress callback, so jobs are slow enough to cancel.
    pub step_delay: Option<Duration>,
    pub factory: EngineFactory,
}

impl ServerOptions {
    pub fn new(socket: impl Into<PathBuf>) -> ServerOptions {
        ServerOptions {
            socket: socket.into(),
            engine: EngineOptions::default(),
            step_delay: None,
            factory: default_factory(),
        }
    }
}

/// A worker that is ready: the engine is loaded and the socket answers.
pub struct Server {
    socket: PathBuf,
    listener: UnixListener,
    /// Held (locked) for the worker's life.
    _pid_file: File,
    queue: Arc<Queue>,
    engine_thread: JoinHandle<()>,
    info: Arc<HelloInfo>,
    /// Open connections, capped at [`conn::MAX_CONNECTIONS`].
    connections: Arc<AtomicUsize>,
}

impl Server {
    /// Starts a worker on `opts.socket`. Fails with `AlreadyRunning` when another worker holds
    /// the socket, and with `EngineLoad` when the configured engine cannot load.
    pub fn start(opts: ServerOptions) -> Result<Server, WorkerError> {
        let socket = opts.socket.clone();
        ensure_dir(&socket)?;
        refuse_other_files(&socket)?;
        let pid_file = lock_pid_file(&socket)?;
        let queue = Arc::new(Queue::default());
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let mut runner = Runner::new(
            queue.clone(),
            opts.factory.clone(),
            opts.engine.clone(),
            opts.step_delay,
        );
        let engine_thread = std::thread::Builder::new()
            .name("zedit-engine".into())
            .spawn(move || {
                let loaded = runner.preload();
                let ok = loaded.is_ok();
                let _ = ready_tx.send(loaded);
                if ok {
                    runner.run();
                }
            })
            .map_err(|e| WorkerError::io(&socket, e))?;
        let engines = match ready_rx.recv() {
            Ok(Ok(engines)) => engines,
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(WorkerError::EngineLoad {
                    name: opts.engine.name.clone(),
                    source: crate::engine::EngineError::Internal(
                        "the engine thread died while loading".into(),
                    ),
                })
            }
        };
        let listener = match bind(&socket) {
            Ok(l) => l,
            Err(e) => {
                queue.stop();
                return Err(e);
            }
        };
        Ok(Server {
            socket,
            listener,
            _pid_file: pid_file,
            queue,
            engine_thread,
            info: Arc::new(HelloInfo {
                pid: std::process::id(),
                engines,
            }),
            connections: Arc::new(AtomicUsize::new(0)),
        })
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    pub fn engines(&self) -> &[String] {
        &self.info.engines
    }

    /// Serves until a `Shutdown` request, or until the socket file is removed or replaced
    /// (its folder was cleaned up, e.g. the runtime dir at logout): a worker nobody can reach
    /// must not linger holding GPU memory.
    pub fn serve(self) -> Result<(), WorkerError> {
        let ident = socket_ident(&self.socket);
        let fd = self.listener.as_raw_fd();
        let mut ticks = 0u32;
        while !self.queue.stopping() {
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd for the listener we own, for the duration of the call.
            let n = unsafe { libc::poll(&mut pfd, 1, TICK.as_millis() as libc::c_int) };
            if n > 0 {
                if let Ok((stream, _)) = self.listener.accept() {
                    self.admit(stream);
                }
                continue;
            }
            ticks += 1;
            if TERMINATE.load(Ordering::SeqCst) {
                self.queue.stop();
            }
            if ticks.is_multiple_of(5) && socket_ident(&self.socket) != ident {
                eprintln!(
                    "zedit worker: {} was removed or replaced; stopping",
                    self.socket.display()
                );
                self.queue.stop();
            }
        }
        // Let the running job stop and record itself before the process goes.
        let _ = self.engine_thread.join();
        conn::wait_flushed(Duration::from_secs(2));
        if socket_ident(&self.socket) == ident {
            let _ = fs::remove_file(&self.socket);
        }
        Ok(())
    }
}

/// `--socket` may name any path: never take over a file that is not a socket of ours, nor a
/// pidfile beside it that holds anything but a pid.
fn refuse_other_files(socket: &Path) -> Result<(), WorkerError> {
    if let Ok(meta) = fs::symlink_metadata(socket) {
        if !meta.file_type().is_socket() {
            return Err(WorkerError::NotASocket(socket.to_path_buf()));
        }
        if meta.uid() != our_uid() {
            return Err(WorkerError::UnsafeSocket {
                socket: socket.to_path_buf(),
                why: format!("it is owned by uid {}, not by you", meta.uid()),
            });
        }
    }
    let pid = pid_path(socket);
    if let Ok(meta) = fs::symlink_metadata(&pid) {
        let text = fs::read(&pid).unwrap_or_default();
        let a_pid = text.len() <= 20 && text.iter().all(|b| b.is_ascii_digit() || *b == b'\n');
        if !meta.file_type().is_file() || !a_pid {
            return Err(WorkerError::UnsafeSocket {
                socket: socket.to_path_buf(),
                why: format!(
                    "{} beside it is not a worker's pidfile; refusing to overwrite it",
                    pid.display()
                ),
            });
        }
    }
    Ok(())
}

impl Server {
    /// Serves a new connection on its own thread, unless its peer is another user (dropped,
    /// whatever the socket's mode says) or the connection cap is reached.
    fn admit(&self, stream: UnixStream) {
        match peer_is_us(&stream) {
            Ok(true) => {}
            _ => return,
        }
        let Some(slot) = conn::Slot::take(&self.connections) else {
            // Say why before closing, so a client that hit the cap is not left guessing.
            let _ = conn::refuse_busy(stream);
            return;
        };
        let (queue, info) = (self.queue.clone(), self.info.clone());
        let _ = std::thread::Builder::new()
            .name("zedit-conn".into())
            .spawn(move || conn::serve(stream, queue, info, slot));
    }
}

fn bind(socket: &Path) -> Result<UnixListener, WorkerError> {
    // We hold the pidfile lock, so a socket of ours left here is a dead worker's.
    refuse_other_files(socket)?;
    if fs::symlink_metadata(socket).is_ok() {
        fs::remove_file(socket).map_err(|e| WorkerError::io(socket, e))?;
    }
    let listener = UnixListener::bind(socket).map_err(|e| WorkerError::io(socket, e))?;
    fs::set_permissions(socket, fs::Permissions::from_mode(0o600))
        .map_err(|e| WorkerError::io(socket, e))?;
    Ok(listener)
}

fn socket_ident(path: &Path) -> Option<(u64, u64)> {
    fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Locks the pidfile beside the socket and writes our pid into it. The file is never deleted:
/// deleting it would let two workers lock two different files.
fn lock_pid_file(socket: &Path) -> Result<File, WorkerError> {
    let path = pid_path(socket);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(&path)
        .map_err(|e| WorkerError::io(&path, e))?;
    match lock_with_grace(&file) {
        Ok(true) => {}
        Ok(false) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            return Err(WorkerError::AlreadyRunning {
                socket: socket.to_path_buf(),
                pid: if pid.is_empty() { "unknown" } else { pid }.into(),
            });
        }
        Err(e) => return Err(WorkerError::io(&path, e)),
    }
    crate::session::stamp_pid(&mut file).map_err(|e| WorkerError::io(&path, e))?;
    Ok(file)
}

/// Tries the pidfile lock a few times over about half a second before calling it held. A lock
/// lets go only when every copy of its descriptor is closed, and a process that forks (a test
/// harness, a shell starting a command) holds a copy until its child execs: a worker that just
/// stopped can look alive for a moment.
fn lock_with_grace(file: &File) -> std::io::Result<bool> {
    for _ in 0..10 {
        if FileExt::try_lock_exclusive(file)? {
            return Ok(true);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    FileExt::try_lock_exclusive(file)
}

/// True while some worker holds the pidfile lock for `socket`.
pub fn worker_alive(socket: &Path) -> bool {
    let Ok(file) = File::open(pid_path(socket)) else {
        return false;
    };
    match FileExt::try_lock_shared(&file) {
        Ok(true) => {
            let _ = FileExt::unlock(&file);
            false
        }
        _ => true,
    }
}
