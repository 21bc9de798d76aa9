//! A session on disk: loading, saving under the lock, and the content-addressed image store.

use super::doc::is_safe_relative;
use super::{read_image, write_atomic, SessionDoc, SessionError, SessionLock, FORMAT};
use crate::core::{ImageRef, ZEDIT_VERSION};
use image::DynamicImage;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long a writer waits for another process's transaction before reporting the lock.
const LOCK_WAIT: Duration = Duration::from_secs(3);

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
        let image = read_image(source)?;
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
                head: None,
                steps: Vec::new(),
            },
        };
        let made = (|| {
            session.doc.source = session.put_image(&image)?;
            session.write_doc()?;
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
        let _lock = SessionLock::acquire(dir, &name, LOCK_WAIT)?;
        let mut session = Session::load(dir)?;
        let out = f(&mut session)?;
        // What this build writes is its own format, whatever the file held before.
        session.doc.format = FORMAT;
        session.doc.updated = now_rfc3339();
        session.write_doc()?;
        Ok(out)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn name(&self) -> &str {
        &self.doc.name
    }

    fn write_doc(&self) -> Result<(), SessionError> {
        write_atomic(
            &self.dir.join("session.toml"),
            self.doc.to_toml()?.as_bytes(),
        )
    }

    /// Stores `image` as PNG under `images/<blake3>.png` (written once) and returns its reference.
    pub fn put_image(&self, image: &DynamicImage) -> Result<ImageRef, SessionError> {
        self.put_png_bytes(&super::replay::png_bytes(image)?)
    }

    fn put_png_bytes(&self, bytes: &[u8]) -> Result<ImageRef, SessionError> {
        let hash = blake3::hash(bytes).to_hex().to_string();
        let rel = format!("images/{hash}.png");
        let path = self.dir.join(&rel);
        if !path.exists() {
            write_atomic(&path, bytes)?;
        }
        Ok(ImageRef {
            path: rel,
            blake3: hash,
        })
    }

    /// The absolute path of a stored image, refusing any path that leaves the session folder
    /// (also through a symlink).
    pub fn image_path(&self, r: &ImageRef) -> Result<PathBuf, SessionError> {
        let unsafe_path = || SessionError::UnsafePath {
            path: self.dir.join("session.toml"),
            image: r.path.clone(),
        };
        if !is_safe_relative(&r.path) {
            return Err(unsafe_path());
        }
        let path = self.dir.join(&r.path);
        if let (Ok(real), Ok(root)) = (path.canonicalize(), self.dir.canonicalize()) {
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

#[cfg(test)]
mod tests {
    use super::super::atomic::write_atomic_with;
    use super::*;
    use std::io::Write;

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
        let err = write_atomic_with(&file, text.as_bytes(), |f, b| {
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
