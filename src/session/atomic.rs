//! Atomic file replacement: write a temp file beside the target, fsync, rename, fsync the folder.
//! A crash at any point leaves either the old file or the new one, never a mix. Inside a session
//! every step goes through an open handle on the folder, so a planted symlink is never followed:
//! the temp file is created exclusively (`O_EXCL | O_NOFOLLOW`) and renamed over the target.

use super::SessionError;
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Temp names are `.<target>.tmp.<pid>.<n>`; the pid lets a later writer sweep a dead one's.
pub(crate) const TMP_MARK: &str = ".tmp.";

static NEXT_TMP: AtomicU64 = AtomicU64::new(0);

/// An open folder that files are created in and renamed within, never through a link.
#[derive(Debug)]
pub(crate) struct DirHandle {
    fd: OwnedFd,
    path: PathBuf,
}

fn c_name(name: &str, at: &Path) -> io::Result<CString> {
    if name.contains('/') || name.is_empty() {
        return Err(io::Error::other(format!(
            "'{name}' is not a plain file name in {}",
            at.display()
        )));
    }
    CString::new(name).map_err(|_| io::Error::other("a file name holds a NUL byte"))
}

impl DirHandle {
    /// Opens `path` as a folder; with `no_link`, refuses when `path` itself is a symlink.
    pub fn open(path: &Path, no_link: bool) -> io::Result<DirHandle> {
        let c = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::other("a path holds a NUL byte"))?;
        let mut flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
        if no_link {
            flags |= libc::O_NOFOLLOW;
        }
        // SAFETY: a valid C string; the fd returned is owned below.
        let fd = unsafe { libc::open(c.as_ptr(), flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(DirHandle {
            // SAFETY: `fd` was just opened and is owned by nothing else.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path: path.to_path_buf(),
        })
    }

    /// Opens the sub-folder `name`, refusing a symlink or anything but a folder.
    pub fn open_child(&self, name: &str) -> io::Result<DirHandle> {
        let c = c_name(name, &self.path)?;
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: a valid dir fd and C string; the fd returned is owned below.
        let fd = unsafe { libc::openat(self.fd.as_raw_fd(), c.as_ptr(), flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(DirHandle {
            // SAFETY: `fd` was just opened and is owned by nothing else.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path: self.path.join(name),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates `name` for writing; fails when anything (a link included) is already there.
    pub fn create_new(&self, name: &str) -> io::Result<File> {
        let c = c_name(name, &self.path)?;
        let flags =
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: a valid dir fd and C string; the fd returned is owned by the File.
        let fd = unsafe { libc::openat(self.fd.as_raw_fd(), c.as_ptr(), flags, 0o644) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// True when `name` is a regular file here (a link does not count).
    pub fn has_file(&self, name: &str) -> bool {
        let Ok(c) = c_name(name, &self.path) else {
            return false;
        };
        // SAFETY: zeroed stat is a valid out-buffer; fd and name are valid.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        let rc = unsafe {
            libc::fstatat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        rc == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFREG
    }

    pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let (f, t) = (c_name(from, &self.path)?, c_name(to, &self.path)?);
        let fd = self.fd.as_raw_fd();
        // SAFETY: valid dir fds and C strings. A link at `to` is replaced, not followed.
        if unsafe { libc::renameat(fd, f.as_ptr(), fd, t.as_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Removes the file `name` (a link itself, never its target).
    pub fn remove(&self, name: &str) -> io::Result<()> {
        let c = c_name(name, &self.path)?;
        // SAFETY: a valid dir fd and C string.
        if unsafe { libc::unlinkat(self.fd.as_raw_fd(), c.as_ptr(), 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn sync(&self) {
        // SAFETY: a valid fd; the folder entry is durable once this returns.
        unsafe { libc::fsync(self.fd.as_raw_fd()) };
    }
}

/// Replaces `path` with `bytes` atomically (its folder may be reached through links: this is
/// for files the user names, such as an export).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SessionError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = file_name(path)?;
    let handle = DirHandle::open(dir, false).map_err(|e| SessionError::io(dir, e))?;
    write_in(&handle, &name, bytes, |f, b| f.write_all(b))
}

fn file_name(path: &Path) -> Result<String, SessionError> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| SessionError::Invalid(format!("{}: not a file name", path.display())))
}

/// Replaces `name` in the open folder `dir` with `bytes`; `write` is supplied so tests can
/// make it fail midway.
pub(crate) fn write_in(
    dir: &DirHandle,
    name: &str,
    bytes: &[u8],
    write: impl FnOnce(&mut File, &[u8]) -> io::Result<()>,
) -> Result<(), SessionError> {
    let n = NEXT_TMP.fetch_add(1, Ordering::Relaxed);
    let tmp = format!(".{name}{TMP_MARK}{}.{n}", std::process::id());
    let target = dir.path().join(name);
    let mut file = match dir.create_new(&tmp) {
        // Something sits on this process's own temp name (planted, or left by a dead process
        // that had our pid): remove it (a link itself, never its target) and create afresh.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let _ = dir.remove(&tmp);
            dir.create_new(&tmp)
        }
        other => other,
    }
    .map_err(|e| SessionError::io(dir.path().join(&tmp), e))?;
    let result = (|| {
        write(&mut file, bytes)?;
        file.sync_all()?;
        drop(file);
        dir.rename(&tmp, name)?;
        // The rename is durable only once the folder entry is on disk.
        dir.sync();
        Ok(())
    })();
    result.map_err(|e: io::Error| {
        let _ = dir.remove(&tmp);
        SessionError::io(target, e)
    })
}

/// The pid in a temp file's name (`.<target>.tmp.<pid>[.<n>]`), when it is one of ours.
pub(crate) fn temp_owner(name: &str) -> Option<u32> {
    if !name.starts_with('.') {
        return None;
    }
    let (_, tail) = name.rsplit_once(TMP_MARK)?;
    let pid = tail.split('.').next()?;
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("session.toml");
        write_atomic(&p, b"old contents").unwrap();
        let handle = DirHandle::open(dir.path(), true).unwrap();
        let err = write_in(
            &handle,
            "session.toml",
            b"new contents that never land",
            |f, b| {
                f.write_all(&b[..5])?;
                Err(io::Error::other("disk full"))
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("disk full"));
        assert_eq!(fs::read(&p).unwrap(), b"old contents");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temp file removed");
    }

    #[test]
    fn a_link_at_the_target_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "keep").unwrap();
        let link = dir.path().join("out");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(fs::read_to_string(&link).unwrap(), "new");
    }

    #[test]
    fn temp_names_carry_their_owner() {
        assert_eq!(temp_owner(".session.toml.tmp.123.4"), Some(123));
        assert_eq!(temp_owner(".ab.png.tmp.77"), Some(77));
        assert_eq!(temp_owner("ab.png"), None);
        assert_eq!(temp_owner(".x.tmp.notapid"), None);
    }
}
