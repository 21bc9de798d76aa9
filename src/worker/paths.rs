//! Where the worker lives: the socket in the user's runtime directory, with its pidfile and log
//! beside it, and the checks that keep it private (the `XDG_RUNTIME_DIR` discipline): the
//! folder is ours with mode 0700, the socket is ours, and the peer on it runs as us.

use super::WorkerError;
use std::fs::{self, DirBuilder};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
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
        _ => PathBuf::from(format!("/tmp/zedit-{}", our_uid())),
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

pub(crate) fn our_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn socket_dir(socket: &Path) -> &Path {
    socket
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Creates the socket's folder as 0700 when missing, then checks it is private to us. A folder
/// that exists with another owner or mode is refused, never changed or used: someone else may
/// have made it to catch our jobs.
pub fn ensure_dir(socket: &Path) -> Result<(), WorkerError> {
    let dir = socket_dir(socket);
    if fs::symlink_metadata(dir).is_err() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| WorkerError::io(dir, e))?;
        // Intermediate folders get the umask; the socket's own folder must be private.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| WorkerError::io(dir, e))?;
    }
    check_dir(socket)
}

/// The socket's folder must be a real folder (not a link), owned by us, closed to others.
pub fn check_dir(socket: &Path) -> Result<(), WorkerError> {
    let dir = socket_dir(socket);
    let meta = fs::symlink_metadata(dir).map_err(|e| WorkerError::io(dir, e))?;
    let unsafe_dir = |why: String| WorkerError::UnsafeSocketDir {
        dir: dir.to_path_buf(),
        why,
    };
    if !meta.file_type().is_dir() {
        return Err(unsafe_dir("it is not a folder (a link or a file)".into()));
    }
    if meta.uid() != our_uid() {
        return Err(unsafe_dir(format!(
            "it is owned by uid {}, not by you (uid {})",
            meta.uid(),
            our_uid()
        )));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(unsafe_dir(format!(
            "its mode is {mode:o}: other users can reach the socket"
        )));
    }
    Ok(())
}

/// Before connecting: the folder is private and the socket, when present, is a socket of ours.
/// A missing socket is left for `connect` to report as unreachable.
pub fn check_socket(socket: &Path) -> Result<(), WorkerError> {
    if fs::symlink_metadata(socket_dir(socket)).is_err() {
        return Ok(());
    }
    check_dir(socket)?;
    let Ok(meta) = fs::symlink_metadata(socket) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        return Err(WorkerError::NotASocket(socket.to_path_buf()));
    }
    if meta.uid() != our_uid() {
        return Err(WorkerError::UnsafeSocket {
            socket: socket.to_path_buf(),
            why: format!("it is owned by uid {}, not by you", meta.uid()),
        });
    }
    Ok(())
}

/// The uid of the process at the other end of `stream` (SO_PEERCRED, or getpeereid).
pub fn peer_uid(stream: &UnixStream) -> std::io::Result<u32> {
    use std::os::fd::AsRawFd;
    let fd = stream.as_raw_fd();
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let mut cred = libc::ucred {
            pid: 0,
            uid: 0,
            gid: 0,
        };
        let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
        // SAFETY: a valid socket fd and an out-buffer of the size we pass.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_PEERCRED,
                &mut cred as *mut libc::ucred as *mut libc::c_void,
                &mut len,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(cred.uid)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let (mut uid, mut gid) = (0, 0);
        // SAFETY: a valid socket fd and two out-parameters.
        if unsafe { libc::getpeereid(fd, &mut uid, &mut gid) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(uid)
    }
}

/// True when the peer on `stream` runs as us.
pub fn peer_is_us(stream: &UnixStream) -> Result<bool, std::io::Error> {
    Ok(peer_uid(stream)? == our_uid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_folder_passes_and_an_open_one_is_refused_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let socket = tmp.path().join("run").join("worker.sock");
        ensure_dir(&socket).unwrap();
        check_socket(&socket).unwrap();
        fs::set_permissions(socket.parent().unwrap(), fs::Permissions::from_mode(0o755)).unwrap();
        let err = ensure_dir(&socket).unwrap_err().to_string();
        assert!(err.contains("run") && err.contains("755"), "{err}");
        fs::set_permissions(socket.parent().unwrap(), fs::Permissions::from_mode(0o700)).unwrap();
        let file = socket.with_file_name("plain");
        fs::write(&file, "x").unwrap();
        let err = check_socket(&file).unwrap_err().to_string();
        assert!(err.contains("not a socket"), "{err}");
    }
}
