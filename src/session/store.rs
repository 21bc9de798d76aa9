//! A session on disk: loading, saving under the lock, and the content-addressed image store.

use super::atomic::{write_in, DirHandle};
use super::doc::is_safe_relative;
use super::{read_image, SessionDoc, SessionError, SessionLock, FORMAT};
use crate::core::{ImageRef, ZEDIT_VERSION};
use image::DynamicImage;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The shortest wait for another process's transaction before reporting the lock. Only loading,
/// changing and saving `session.toml` happens under the lock (images are encoded and stored
/// before it is taken), so the wait grows with the size of that file.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// How long to wait for the lock on the session in `dir`: [`LOCK_WAIT`] plus 2 s per MB.
fn lock_wait(dir: &Path) -> Duration {
    let size = fs::metadata(dir.join("session.toml")).map_or(0, |m| m.len());
    LOCK_WAIT + Duration::from_millis(size / 500)
}

/// A session folder and its parsed history.
#[derive(Debug, Clone)]
pub struct Session {
    dir: PathBuf,
    pub doc: SessionDoc,
}

pub(crate) fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

impl Session {
    /// Creates the folder `root/name` with `source` imported as its source image.
    pub fn create(root: &Path, name: &str, source: &Path) -> Result<Session, SessionError> {
        super::validate_name(name)?;
        let (image, orientation) = super::image_file::read_upright(source)?;
        let dir = root.join(name);
        if dir.exists() {
            return Err(SessionError::Exists(name.into()));
        }
        fs::create_dir_all(root).map_err(|e| SessionError::io(root, e))?;
        // Build in a hidden folder, then rename: a half-made session never shows in the list.
        let staging = root.join(format!(".{name}.new.{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(staging.join("images")).map_err(|e| SessionError::io(&staging, e))?;
        let now = now_rfc3339();
        let mut session = Session {
            dir: staging.clone(),
            doc: SessionDoc {
                format: FORMAT,
                name: name.into(),
                created: now.clone(),
                updated: now,
                zedit_version: ZEDIT_VERSION.into(),
                source: ImageRef {
                    path: String::new(),
                    blake3: String::new(),
                },
                source_name: source.file_name().map(|n| n.to_string_lossy().into_owned()),
                source_orientation: orientation,
                head: None,
                steps: Vec::new(),
            },
        };
        let made = (|| {
            session.doc.source = session.put_image(&image)?;
            session.write_doc(&open_dir(&staging)?)?;
            fs::rename(&staging, &dir).map_err(|e| SessionError::io(&dir, e))
        })();
        if let Err(e) = made {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
        session.dir = dir;
        Ok(session)
    }

    /// Reads the session in `dir`. Steps whose runner died show as interrupted.
    pub fn load(dir: &Path) -> Result<Session, SessionError> {
        let path = dir.join("session.toml");
        let meta = fs::symlink_metadata(&path).map_err(|e| SessionError::io(&path, e))?;
        if !meta.file_type().is_file() {
            return Err(SessionError::UnsafeLayout {
                path,
                message: "session.toml must be a plain file, not a link".into(),
            });
        }
        let text = fs::read_to_string(&path).map_err(|e| SessionError::io(&path, e))?;
        let mut doc = SessionDoc::parse(&text, &path)?;
        doc.mark_interrupted(|step| super::running::step_alive(dir, step));
        Ok(Session {
            dir: dir.to_path_buf(),
            doc,
        })
    }

    /// Runs `f` on the freshly loaded session under the lock and saves the result atomically.
    /// Nothing is written when `f` fails.
    pub fn transact<R>(
        dir: &Path,
        f: impl FnOnce(&mut Session) -> Result<R, SessionError>,
    ) -> Result<R, SessionError> {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let handle = open_dir(dir)?;
        let _lock = SessionLock::acquire(dir, &name, lock_wait(dir))?;
        super::sweep::sweep_session(dir);
        let mut session = Session::load(dir)?;
        let out = f(&mut session)?;
        // What this build writes is its own format, whatever the file held before.
        session.doc.format = FORMAT;
        session.doc.updated = now_rfc3339();
        session.write_doc(&handle)?;
        Ok(out)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn name(&self) -> &str {
        &self.doc.name
    }

    fn write_doc(&self, dir: &DirHandle) -> Result<(), SessionError> {
        let text = self.doc.to_toml()?;
        write_in(dir, "session.toml", text.as_bytes(), |f, b| f.write_all(b))
    }

    /// Stores `image` as PNG under `images/<blake3>.png` (written once) and returns its reference.
    pub fn put_image(&self, image: &DynamicImage) -> Result<ImageRef, SessionError> {
        Session::store_image(&self.dir, image)
    }

    /// As [`Session::put_image`] for the session in `dir`, without loading it or taking the
    /// lock: the name is the content's hash and the write is atomic, so concurrent writers of
    /// the same image agree. The slow part of recording a step (encoding) happens here.
    pub fn store_image(dir: &Path, image: &DynamicImage) -> Result<ImageRef, SessionError> {
        let bytes = super::replay::png_bytes(image)?;
        let hash = blake3::hash(&bytes).to_hex().to_string();
        let name = format!("{hash}.png");
        let images = images_dir(dir)?;
        if !images.has_file(&name) {
            write_in(&images, &name, &bytes, |f, b| f.write_all(b))?;
        }
        Ok(ImageRef {
            path: format!("images/{name}"),
            blake3: hash,
        })
    }

    /// The absolute path of a stored image, refusing any path that leaves the session folder
    /// (also through a symlink).
    pub fn image_path(&self, r: &ImageRef) -> Result<PathBuf, SessionError> {
        Session::stored_path(&self.dir, r)
    }

    /// As [`Session::image_path`] for the session in `dir`, without loading it.
    pub fn stored_path(dir: &Path, r: &ImageRef) -> Result<PathBuf, SessionError> {
        let unsafe_path = || SessionError::UnsafePath {
            path: dir.join("session.toml"),
            image: r.path.clone(),
        };
        if !is_safe_relative(&r.path) {
            return Err(unsafe_path());
        }
        let path = dir.join(&r.path);
        if let (Ok(real), Ok(root)) = (path.canonicalize(), dir.canonicalize()) {
            if !real.starts_with(root) {
                return Err(unsafe_path());
            }
        }
        Ok(path)
    }

    /// Decodes a stored image.
    pub fn load_image(&self, r: &ImageRef) -> Result<DynamicImage, SessionError> {
        read_image(&self.image_path(r)?)
    }

    /// Decodes a step's mask and overlay, where it has them.
    pub fn load_step_extras(
        &self,
        step: &crate::core::Step,
    ) -> Result<(Option<DynamicImage>, Option<DynamicImage>), SessionError> {
        let load = |r: &Option<ImageRef>| r.as_ref().map(|r| self.load_image(r)).transpose();
        Ok((load(&step.mask)?, load(&step.overlay)?))
    }

    /// True when the stored file still has the hash recorded for it.
    pub fn image_intact(&self, r: &ImageRef) -> Result<bool, SessionError> {
        let path = self.image_path(r)?;
        let bytes = fs::read(&path).map_err(|e| SessionError::io(&path, e))?;
        Ok(blake3::hash(&bytes).to_hex().as_str() == r.blake3)
    }
}

fn open_dir(dir: &Path) -> Result<DirHandle, SessionError> {
    DirHandle::open(dir, false).map_err(|e| SessionError::io(dir, e))
}

/// The session's `images/`, which must be a real folder inside it (never a link out of it).
fn images_dir(dir: &Path) -> Result<DirHandle, SessionError> {
    let path = dir.join("images");
    open_dir(dir)?.open_child("images").map_err(|e| {
        let link = matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::ENOTDIR));
        if link {
            SessionError::UnsafeLayout {
                path,
                message: "images/ must be a real folder inside the session, not a link or a file"
                    .into(),
            }
        } else {
            SessionError::io(path, e)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_save_that_dies_midway_keeps_the_last_good_history() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src.png");
        image::RgbImage::new(8, 8).save(&src).unwrap();
        let session = Session::create(&tmp.path().join("root"), "s", &src).unwrap();
        let file = session.dir().join("session.toml");
        let before = fs::read(&file).unwrap();
        let mut doc = session.doc.clone();
        doc.name = "changed".into();
        let text = doc.to_toml().unwrap();
        let handle = open_dir(session.dir()).unwrap();
        let err = write_in(&handle, "session.toml", text.as_bytes(), |f, b| {
            f.write_all(&b[..b.len() / 2])?;
            Err(std::io::Error::other("process killed"))
        });
        assert!(err.is_err());
        assert_eq!(fs::read(&file).unwrap(), before);
        assert_eq!(Session::load(session.dir()).unwrap().name(), "s");
    }

    #[test]
    fn images_are_written_once_by_content() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src.png");
        image::RgbImage::new(8, 8).save(&src).unwrap();
        let s = Session::create(&tmp.path().join("root"), "s", &src).unwrap();
        let img = DynamicImage::ImageRgb8(image::RgbImage::new(8, 8));
        let a = s.put_image(&img).unwrap();
        assert_eq!(a, s.doc.source, "same pixels, same file");
        assert!(s.image_intact(&a).unwrap());
        let evil = ImageRef {
            path: "../../etc/passwd".into(),
            blake3: String::new(),
        };
        assert!(matches!(
            s.load_image(&evil),
            Err(SessionError::UnsafePath { .. })
        ));
    }
}
