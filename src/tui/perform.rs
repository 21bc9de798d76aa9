//! Performing effects: the file and job I/O that `update` asks for, with results returned as
//! actions. Short work (a TOML file, an image header) runs here; what may take long (decoding
//! and hashing an image, deleting a folder) runs on a background task with its progress on the
//! status line; engine work goes to the backend, which never blocks.

use super::action::{Action, SegmentReply};
use super::app::App;
use super::backend::{JobEvent, JobId};
use super::effect::Effect;
use crate::core::ErrorKind;
use crate::session::{list_sessions, read_image, validate_name, Session, SessionError};
use image::DynamicImage;
use std::path::{Path, PathBuf};

pub fn perform(app: &mut App, effect: Effect) -> Vec<Action> {
    let root = app.state.sessions.root.clone();
    let result: Result<Vec<Action>, String> = match effect {
        Effect::ListSessions => list(&root).map(|a| vec![a]),
        Effect::OpenSession(dir) => open(&dir).map(|a| vec![a]),
        Effect::CreateSession(image) => {
            app.state
                .info(format!("creating a session from {}…", image.display()));
            app.spawn_task(move || {
                create(&root, &image).unwrap_or_else(|e| vec![Action::Failed(e)])
            });
            Ok(Vec::new())
        }
        Effect::RenameSession { dir, to } => rename(&root, &dir, &to),
        Effect::DeleteSession(dir) => {
            app.state.info(format!("deleting {}…", dir.display()));
            app.spawn_task(move || {
                std::fs::remove_dir_all(&dir)
                    .map_err(|e| format!("cannot delete {}: {e}", dir.display()))
                    .and_then(|_| list(&root))
                    .map(|a| vec![a, Action::Info(format!("deleted {}", dir.display()))])
                    .unwrap_or_else(|e| vec![Action::Failed(e)])
            });
            Ok(Vec::new())
        }
        Effect::Complete(text) => Ok(vec![Action::Completed(complete(&text))]),
        Effect::ListLoras(dir) => list_loras(&dir).map(|a| vec![a]),
        Effect::Submit { dir, req } => {
            let engine = app.state.engine.clone();
            match lora_digests(*req).and_then(|req| {
                app.backend
                    .submit(dir, req, engine)
                    .map_err(|e| e.to_string())
            }) {
                Ok(_) => Ok(Vec::new()),
                Err(e) => Ok(vec![Action::Job(JobEvent::Failed {
                    job: JobId(0),
                    kind: ErrorKind::Worker,
                    message: e,
                })]),
            }
        }
        Effect::Cancel(job) => {
            app.backend.cancel(job);
            Ok(Vec::new())
        }
        Effect::Checkout { dir, step } => Session::checkout(&dir, step)
            .map_err(|e| e.to_string())
            .and_then(|_| open(&dir))
            .map(|a| vec![a]),
        Effect::Undo(dir) => Session::undo(&dir)
            .map_err(|e| e.to_string())
            .and_then(|head| {
                let msg = match head {
                    Some(h) => format!("undone: head is #{h}"),
                    None => "undone: head is the source image".into(),
                };
                Ok(vec![open(&dir)?, Action::Info(msg)])
            }),
        Effect::LoadMask { dir, path } => {
            app.state.info(format!("storing mask {}…", path.display()));
            app.spawn_task(move || {
                load_mask(&dir, &path).map_or_else(|e| vec![Action::Failed(e)], |a| vec![a])
            });
            Ok(Vec::new())
        }
        Effect::Segment {
            dir,
            image,
            mask,
            model,
            seq,
        } => {
            let socket = app.backend.worker_socket();
            app.spawn_task(move || {
                let result = segment(socket, &dir, &image, &mask, model.as_deref());
                vec![Action::Segmented { seq, result }]
            });
            Ok(Vec::new())
        }
        Effect::ResetPreview => Ok(Vec::new()),
    };
    result.unwrap_or_else(|e| vec![Action::Failed(e)])
}

/// Segments in the worker when one answers (it keeps the embedding), else in this process.
fn segment(
    socket: Option<PathBuf>,
    dir: &Path,
    image: &crate::core::ImageRef,
    mask: &crate::core::MaskSpec,
    model: Option<&str>,
) -> Result<SegmentReply, String> {
    use crate::worker::{answer_segment, Client, Event};
    let dir = std::path::absolute(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let asked = socket
        .and_then(|s| Client::connect(&s).ok())
        .and_then(|mut c| c.segment(&dir, image, mask, model).ok());
    match asked.unwrap_or_else(|| answer_segment(0, &dir, image, mask, model)) {
        Event::Segmented {
            model,
            digest,
            candidates,
            embedded,
            took_ms,
            ..
        } => Ok(SegmentReply {
            model,
            digest,
            candidates,
            embedded,
            took_ms,
        }),
        Event::SegmentFailed { message, .. } => Err(message),
        other => Err(format!("unexpected answer to a segmentation: {other:?}")),
    }
}

fn list(root: &Path) -> Result<Action, String> {
    list_sessions(root)
        .map(Action::SessionsListed)
        .map_err(|e| e.to_string())
}

fn open(dir: &Path) -> Result<Action, String> {
    let session = Session::load(dir).map_err(|e| e.to_string())?;
    let size = image::image_dimensions(dir.join(&session.doc.head_image().path)).ok();
    Ok(Action::SessionOpened(Box::new(session), size))
}

fn create(root: &Path, image: &Path) -> Result<Vec<Action>, String> {
    let stem = image
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    let base = if base.is_empty() {
        "session".to_string()
    } else {
        base
    };
    let name = (1..1000)
        .map(|i| {
            if i == 1 {
                base.clone()
            } else {
                format!("{base}-{i}")
            }
        })
        .find(|n| !root.join(n).exists())
        .unwrap_or(base);
    let session = Session::create(root, &name, image).map_err(|e| e.to_string())?;
    Ok(vec![list(root)?, open(session.dir())?])
}

fn rename(root: &Path, dir: &Path, to: &str) -> Result<Vec<Action>, String> {
    validate_name(to).map_err(|e| e.to_string())?;
    let target = root.join(to);
    if target.exists() {
        return Err(SessionError::Exists(to.into()).to_string());
    }
    std::fs::rename(dir, &target).map_err(|e| format!("cannot rename {}: {e}", dir.display()))?;
    Session::transact(&target, |s| {
        s.doc.name = to.to_string();
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    Ok(vec![list(root)?, Action::Info(format!("renamed to {to}"))])
}

fn store(dir: &Path, image: &DynamicImage) -> Result<Action, String> {
    let session = Session::load(dir).map_err(|e| e.to_string())?;
    session
        .put_image(image)
        .map(Action::MaskStored)
        .map_err(|e| e.to_string())
}

fn load_mask(dir: &Path, path: &Path) -> Result<Action, String> {
    let image = read_image(path).map_err(|e| e.to_string())?;
    store(dir, &DynamicImage::ImageLuma8(image.to_luma8()))
}

/// Completes the last path component to the longest common prefix of the matching entries.
pub fn complete(text: &str) -> String {
    let path = PathBuf::from(text);
    let (dir, prefix) = if text.ends_with('/') || text.is_empty() {
        (path.clone(), String::new())
    } else {
        (
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
            path.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )
    };
    let read_from = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir.clone()
    };
    let Ok(entries) = std::fs::read_dir(&read_from) else {
        return text.to_string();
    };
    let mut names: Vec<(String, bool)> = entries
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.path().is_dir(),
            )
        })
        .filter(|(n, _)| n.starts_with(&prefix) && !n.starts_with('.'))
        .collect();
    names.sort();
    let Some((first, _)) = names.first() else {
        return text.to_string();
    };
    let mut common = first.clone();
    for (n, _) in &names[1..] {
        while !n.starts_with(&common) {
            common.pop();
        }
    }
    let mut out = dir.join(&common).to_string_lossy().into_owned();
    if names.len() == 1 && names[0].1 {
        out.push('/');
    }
    out
}

/// The `*.safetensors` files of the LoRA folder, sorted; a missing folder lists none.
fn list_loras(dir: &Path) -> Result<Action, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Action::LorasListed(vec![]))
        }
        Err(e) => {
            return Err(format!(
                "cannot list the LoRA folder {}: {e}",
                dir.display()
            ))
        }
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "safetensors"))
        .collect();
    files.sort();
    Ok(Action::LorasListed(files))
}

/// Each LoRA of the recipe with the digest of its file as it is now, as `--lora` records it.
fn lora_digests(
    mut req: crate::session::StepRequest,
) -> Result<crate::session::StepRequest, String> {
    if let Some(r) = &mut req.recipe {
        for l in &mut r.loras {
            let bytes = std::fs::read(&l.path)
                .map_err(|e| format!("cannot read LoRA file {}: {e}", l.path.display()))?;
            l.digest = blake3::hash(&bytes).to_hex().to_string();
        }
    }
    Ok(req)
}
