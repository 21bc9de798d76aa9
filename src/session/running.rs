//! Whether the process that left a step `running` still lives. While it runs a step, the
//! runner holds an advisory lock on `.runs/<step>.lock` in the session folder; the kernel lets
//! go of it when the process exits, even while it lingers as an unreaped zombie and whatever
//! its pid later becomes. So a reader that can take the lock knows the step was interrupted.

use super::SessionError;
use crate::core::{Step, StepId};
use fs4::fs_std::FileExt;
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

const RUNS_DIR: &str = ".runs";

fn lock_path(dir: &Path, id: StepId) -> PathBuf {
    dir.join(RUNS_DIR).join(format!("{id}.lock"))
}

fn open(path: &Path, create: bool) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(create)
        .create(create)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Held by the process running step `id`; dropping it releases the lock and removes the file.
#[derive(Debug)]
pub struct RunGuard {
    file: File,
    path: PathBuf,
}

impl RunGuard {
    /// Takes the lock for step `id` of the session in `dir`. Taken before the step is saved
    /// as running, so no reader ever sees a running step without its lock.
    pub fn take(dir: &Path, id: StepId) -> Result<RunGuard, SessionError> {
        let runs = dir.join(RUNS_DIR);
        fs::create_dir_all(&runs).map_err(|e| SessionError::io(&runs, e))?;
        let path = lock_path(dir, id);
        let file = open(&path, true).map_err(|e| SessionError::io(&path, e))?;
        match FileExt::try_lock_exclusive(&file) {
            Ok(true) => Ok(RunGuard { file, path }),
            Ok(false) => Err(SessionError::Invalid(format!(
                "step {id} is already being run by another process ({} is locked)",
                path.display()
            ))),
            Err(e) => Err(SessionError::io(&path, e)),
        }
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
        let _ = FileExt::unlock(&self.file);
    }
}

/// True while some process runs `step` of the session in `dir`.
pub fn step_alive(dir: &Path, step: &Step) -> bool {
    match open(&lock_path(dir, step.id), false) {
        Ok(file) => match FileExt::try_lock_shared(&file) {
            Ok(true) => {
                let _ = FileExt::unlock(&file);
                false
            }
            Ok(false) => true,
            // A filesystem without locks: trust the pid, as older versions did.
            Err(_) => step.runner_pid.is_some_and(pid_alive),
        },
        // No lock file: the step was begun by a zedit that did not take one.
        Err(_) => step.runner_pid.is_some_and(pid_alive),
    }
}

/// Signal 0 checks existence without sending anything; EPERM means it exists as another user.
/// Only for steps begun without a lock: a zombie or a reused pid looks alive.
fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 sends nothing and has no memory effects.
    let sent = unsafe { libc::kill(pid, 0) } == 0;
    sent || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{EditParams, EngineId, ImageRef, Op, Status};

    fn step(id: u32, pid: Option<u32>) -> Step {
        let image = ImageRef {
            path: "images/a.png".into(),
            blake3: "a".into(),
        };
        Step {
            id: StepId(id),
            parent: None,
            op: Op::Relight,
            instruction: "brighter".into(),
            engine: EngineId {
                name: "classic".into(),
                version: "1".into(),
                model_digest: None,
                gguf_exec: None,
            },
            params: EditParams::default(),
            input: image,
            mask_spec: None,
            mask: None,
            overlay: None,
            output: None,
            status: Status::Running,
            error: None,
            runner_pid: pid,
            created: String::new(),
            took_ms: None,
            zedit_version: String::new(),
            recipe: None,
        }
    }

    #[test]
    fn the_lock_says_whether_the_step_runs() {
        let tmp = tempfile::tempdir().unwrap();
        // A pid that is alive (ours) does not matter once a lock file exists.
        let s = step(1, Some(std::process::id()));
        let guard = RunGuard::take(tmp.path(), s.id).unwrap();
        assert!(step_alive(tmp.path(), &s));
        assert!(
            RunGuard::take(tmp.path(), s.id).is_err(),
            "one runner per step"
        );
        drop(guard);
        assert!(!lock_path(tmp.path(), s.id).exists());
        // Without a lock file, the pid decides (steps begun by older versions).
        assert!(step_alive(tmp.path(), &s));
        assert!(!step_alive(tmp.path(), &step(2, None)));
        // A lock file left by a dead process is free to take.
        File::create(lock_path(tmp.path(), StepId(3))).unwrap();
        assert!(!step_alive(tmp.path(), &step(3, Some(std::process::id()))));
    }
}
