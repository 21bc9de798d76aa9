//! One writer at a time: an advisory lock on `<session>/.lock`, holding the owner's PID so a
//! second writer can say who has the session open.

use super::SessionError;
use fs4::fs_std::FileExt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Held while a process writes a session; released on drop.
#[derive(Debug)]
pub struct SessionLock {
    file: File,
}

impl SessionLock {
    /// Takes the lock, waiting up to `wait` for another writer's short transaction to finish.
    pub fn acquire(dir: &Path, name: &str, wait: Duration) -> Result<SessionLock, SessionError> {
        let path = dir.join(".lock");
        // Never through a link (a crafted session's `.lock` must not truncate another file),
        // and never a FIFO or device.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .mode(0o644)
            .open(&path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => SessionError::UnsafeLayout {
                    path: path.clone(),
                    message: ".lock is a link".into(),
                },
                _ => SessionError::io(&path, e),
            })?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(SessionError::UnsafeLayout {
                path,
                message: ".lock is not a plain file".into(),
            });
        }
        let start = Instant::now();
        loop {
            match FileExt::try_lock_exclusive(&file) {
                Ok(true) => break,
                Ok(false) if start.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(false) => {
                    let mut pid = String::new();
                    let _ = file.read_to_string(&mut pid);
                    let pid = pid.trim();
                    let pid = if pid.is_empty() { "unknown" } else { pid };
                    return Err(SessionError::Locked {
                        name: name.into(),
                        pid: pid.into(),
                    });
                }
                Err(e) => return Err(SessionError::io(&path, e)),
            }
        }
        stamp_pid(&mut file).map_err(|e| SessionError::io(&path, e))?;
        Ok(SessionLock { file })
    }
}

/// Replaces a locked file's contents with this process's PID, so others can name the holder.
pub fn stamp_pid(file: &mut File) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    write!(file, "{}", std::process::id())?;
    file.flush()
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = FileExt::unlock(&self.file);
    }
}
