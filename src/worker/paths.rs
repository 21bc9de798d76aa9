//! Where the worker lives: the socket in the user's runtime directory, with its pidfile and log
//! beside it.

use super::WorkerError;
use std::fs::{self, DirBuilder};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Environment variable that overrides the socket path (as `--socket` does).
pub const SOCKET_ENV: &str = "ZEDIT_SOCKET";

/// The socket to use: `explicit`, else `$ZEDIT_SOCKET`, else the default per-user path.
pub fn socket_path(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    match std::env::var_os(SOCKET_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => default_socket(),
    }
}

/// `$XDG_RUNTIME_DIR/zedit/worker.sock`, else `/tmp/zedit-$UID/worker.sock`.
pub fn default_socket() -> PathBuf {
    let dir = match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d).join("zedit"),
        // SAFETY: getuid has no preconditions and cannot fail.
        _ => PathBuf::from(format!("/tmp/zedit-{}", unsafe { libc::getuid() })),
    };
    dir.join("worker.sock")
}

/// The pidfile beside the socket; its flock says a worker serves the socket.
pub fn pid_path(socket: &Path) -> PathBuf {
    socket.with_extension("pid")
}

/// The daemon's log beside the socket.
pub fn log_path(socket: &Path) -> PathBuf {
    socket.with_extension("log")
}

/// Creates the socket's folder as 0700 when missing. A folder we did not create is left as it
/// is, except the default one, which must be private: other users on a shared GPU box must not
/// reach the socket.
pub fn ensure_dir(socket: &Path) -> Result<(), WorkerError> {
    let Some(dir) = socket.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if !dir.exists() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| WorkerError::io(dir, e))?;
        // Intermediate folders get the umask; the socket's own folder must be private.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| WorkerError::io(dir, e))?;
    } else if Some(dir) == default_socket().parent() {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| WorkerError::io(dir, e))?;
    }
    Ok(())
}
