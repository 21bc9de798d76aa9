//! `session.toml`: the format, its parsing and its consistency checks.

use super::SessionError;
use crate::core::{ImageRef, MaskShape, Status, Step, StepId};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Component, Path};

/// The session file format this build reads and writes.
///
/// Format 2 adds `mask_spec` to steps and stores a step's error as `kind` and `message`;
/// format-1 files load unchanged (their joined error text is split on load).
pub const FORMAT: u32 = 2;

/// The whole history of one session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionDoc {
    pub format: u32,
    pub name: String,
    /// RFC 3339 creation time.
    pub created: String,
    /// RFC 3339 time of the last change.
    pub updated: String,
    pub zedit_version: String,
    /// The image the session started from.
    pub source: ImageRef,
    /// File name the source image had when it was imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// The EXIF orientation turned upright when the source was imported (e.g. `Rotate90`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_orientation: Option<String>,
    /// The step whose output is the current image; `None` is the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<StepId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
}

impl SessionDoc {
    /// Parses and checks a session file's text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<SessionDoc, SessionError> {
        let malformed = |message: String| SessionError::Malformed {
            path: path.into(),
            message,
        };
        // One pass straight into the document (a generic table first would cost a second pass
        // and a value tree many times the file's size); the format is looked at after, or on
        // failure, so a future file gets "upgrade" instead of a parse error.
        // A long file goes a step at a time, which keeps memory near the steps' own size.
        let parsed = match super::chunked::parse(text) {
            Some(doc) => Ok(doc),
            None => toml::from_str::<SessionDoc>(text),
        };
        let format = match &parsed {
            Ok(doc) => Some(i64::from(doc.format)),
            Err(_) => {
                #[derive(Deserialize)]
                struct Sniff {
                    format: Option<toml::Value>,
                }
                let sniff: Sniff = toml::from_str(text).map_err(|e| malformed(one_line(&e)))?;
                sniff.format.and_then(|f| f.as_integer())
            }
        };
        match format {
            None => return Err(malformed("missing 'format'".into())),
            Some(f) if f > i64::from(FORMAT) => {
                return Err(SessionError::FutureFormat {
                    path: path.into(),
                    found: u32::try_from(f).unwrap_or(u32::MAX),
                })
            }
            Some(f) if f < 1 => return Err(malformed(format!("unknown format {f}"))),
            Some(_) => {}
        }
        let doc = parsed.map_err(|e| malformed(one_line(&e)))?;
        doc.check(path)?;
        Ok(doc)
    }

    pub fn to_toml(&self) -> Result<String, SessionError> {
        if let Some(text) = super::chunked::write(self) {
            return Ok(text);
        }
        toml::to_string(self)
            .map_err(|e| SessionError::Invalid(format!("cannot write session: {e}")))
    }

    pub fn step(&self, id: StepId) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub fn step_mut(&mut self, id: StepId) -> Option<&mut Step> {
        self.steps.iter_mut().find(|s| s.id == id)
    }

    pub fn next_id(&self) -> StepId {
        StepId(self.steps.iter().map(|s| s.id.0).max().unwrap_or(0) + 1)
    }

    /// The steps from the source to `id`, in order.
    pub fn chain_to(&self, id: Option<StepId>) -> Vec<&Step> {
        // An index, so a chain of n steps costs O(n), not O(n²) lookups.
        let by_id: std::collections::HashMap<StepId, &Step> =
            self.steps.iter().map(|s| (s.id, s)).collect();
        let mut chain = Vec::new();
        let mut cur = id;
        while let Some(c) = cur {
            match by_id.get(&c).copied() {
                Some(s) if chain.len() <= self.steps.len() => {
                    chain.push(s);
                    cur = s.parent;
                }
                _ => break,
            }
        }
        chain.reverse();
        chain
    }

    /// The image the next edit starts from: the head step's output, else the source.
    pub fn head_image(&self) -> &ImageRef {
        self.head
            .and_then(|h| self.step(h))
            .and_then(|s| s.output.as_ref())
            .unwrap_or(&self.source)
    }

    /// Steps left `running` or `pending` by a process that `alive` says is gone are
    /// interrupted, never done.
    pub fn mark_interrupted(&mut self, alive: impl Fn(&Step) -> bool) -> bool {
        let mut changed = false;
        for s in &mut self.steps {
            let unfinished = matches!(s.status, Status::Running | Status::Pending);
            if unfinished && !alive(s) {
                s.status = Status::Interrupted;
                s.runner_pid = None;
                changed = true;
            }
        }
        changed
    }

    fn check(&self, path: &Path) -> Result<(), SessionError> {
        let bad = |message: String| SessionError::Malformed {
            path: path.into(),
            message,
        };
        let mut ids = HashSet::new();
        for s in &self.steps {
            if !ids.insert(s.id) {
                return Err(bad(format!("step {} appears twice", s.id)));
            }
        }
        for s in &self.steps {
            if let Some(p) = s.parent {
                if !ids.contains(&p) || p >= s.id {
                    return Err(bad(format!("step {} has an invalid parent {p}", s.id)));
                }
            }
            s.params
                .validate()
                .map_err(|m| bad(format!("step {}: {m}", s.id)))?;
        }
        if let Some(h) = self.head {
            if !ids.contains(&h) {
                return Err(bad(format!("head {h} is not a step")));
            }
        }
        let refs = std::iter::once(&self.source).chain(self.steps.iter().flat_map(|s| {
            let spec_file = match s.mask_spec.as_ref().map(|m| &m.shape) {
                Some(MaskShape::File { image }) => Some(image),
                _ => None,
            };
            [
                Some(&s.input),
                spec_file,
                s.mask.as_ref(),
                s.overlay.as_ref(),
                s.output.as_ref(),
            ]
            .into_iter()
            .flatten()
        }));
        for r in refs {
            if !is_safe_relative(&r.path) {
                return Err(SessionError::UnsafePath {
                    path: path.into(),
                    image: r.path.clone(),
                });
            }
        }
        Ok(())
    }
}

/// True for a plain relative path that stays inside its folder: no root, no `..`, no prefix.
pub(crate) fn is_safe_relative(p: &str) -> bool {
    let path = Path::new(p);
    !p.is_empty()
        && !p.contains('\\')
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

fn one_line(e: &toml::de::Error) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // Signal 0 checks existence without sending anything; EPERM means it exists as another user.
    let sent = unsafe { libc::kill(pid, 0) } == 0;
    sent || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_paths() {
        assert!(is_safe_relative("images/ab.png"));
        for bad in ["/etc/passwd", "../x.png", "images/../../x", "", "a\\..\\b"] {
            assert!(!is_safe_relative(bad), "{bad}");
        }
    }
}
