//! What a long-lived process keeps between segmentations: the loaded models (the segmenter
//! and the words scorer, each reloaded only when its files change) and the embeddings of the last few images, keyed by the
//! model's digest and the image's own hash. The worker serves every click on one image with
//! one embedding, so a further click costs only the prompt encoder and the mask decoder.

use super::grounding::{self, ClipScorer};
use super::models::{self, Resolved};
use super::sam::Embedding;
use super::segmenter::{SegmentModel, Segmentation};
use super::{PromptSpec, SegmentError};
use candle_core::Device;
use image::RgbImage;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

/// Embeddings kept (about 4 MB each for the published models).
const EMBEDDINGS: usize = 8;

/// The weights file as it was when loaded: a change of size or time means a reload.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

impl FileStamp {
    fn of(path: &std::path::Path) -> Result<FileStamp, SegmentError> {
        let meta = std::fs::metadata(path)
            .map_err(|e| SegmentError::Unavailable(format!("{}: {e}", path.display())))?;
        Ok(FileStamp {
            path: path.to_path_buf(),
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

#[derive(Default)]
struct Cache {
    model: Option<(String, FileStamp, Arc<SegmentModel>)>,
    /// The words-scoring model, reloaded when any of its files changes.
    scorer: Option<(String, Vec<FileStamp>, Arc<ClipScorer>)>,
    /// (model digest, image hash) → embedding, newest last.
    embeddings: VecDeque<((String, String), Arc<Embedding>)>,
}

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

fn lock() -> MutexGuard<'static, Option<Cache>> {
    // A panic while the lock was held leaves nothing half-written worth keeping.
    CACHE.lock().unwrap_or_else(|p| {
        let mut g = p.into_inner();
        *g = None;
        g
    })
}

/// The model `model` names (a path, a manifest name, or the default), loaded once.
pub fn model(model: Option<&str>) -> Result<Arc<SegmentModel>, SegmentError> {
    let resolved = models::resolve(model)?;
    let stamp = FileStamp::of(&resolved.weights)?;
    let mut guard = lock();
    let cache = guard.get_or_insert_with(Cache::default);
    if let Some((id, kept, m)) = &cache.model {
        if *id == resolved.id && *kept == stamp {
            return Ok(m.clone());
        }
    }
    cache.model = None;
    let loaded = Arc::new(load(resolved.clone())?);
    cache.model = Some((resolved.id, stamp, loaded.clone()));
    Ok(loaded)
}

/// The words-scoring model `model` names (a folder, a manifest name, or the default), loaded
/// once.
pub fn scorer(model: Option<&str>) -> Result<Arc<ClipScorer>, SegmentError> {
    let r = grounding::models::resolve(model)?;
    let stamps = [&r.weights, &r.config, &r.tokenizer]
        .into_iter()
        .map(|p| FileStamp::of(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut guard = lock();
    let cache = guard.get_or_insert_with(Cache::default);
    if let Some((id, kept, m)) = &cache.scorer {
        if *id == r.id && *kept == stamps {
            return Ok(m.clone());
        }
    }
    cache.scorer = None;
    let loaded = Arc::new(ClipScorer::load(&r, &Device::Cpu)?);
    cache.scorer = Some((r.id, stamps, loaded.clone()));
    Ok(loaded)
}

fn load(r: Resolved) -> Result<SegmentModel, SegmentError> {
    SegmentModel::load(r, &Device::Cpu)
}

/// The hash an image's embedding is kept under: its size and pixels.
pub fn image_key(image: &RgbImage) -> String {
    let mut h = blake3::Hasher::new();
    h.update(&image.width().to_le_bytes());
    h.update(&image.height().to_le_bytes());
    h.update(image.as_raw());
    h.finalize().to_hex().to_string()
}

/// The embedding of `image` by `model`, computed unless kept; true when it was computed now.
pub fn embedding(
    model: &SegmentModel,
    image: &RgbImage,
) -> Result<(Arc<Embedding>, bool), SegmentError> {
    let key = (model.digest.clone(), image_key(image));
    {
        let mut guard = lock();
        let cache = guard.get_or_insert_with(Cache::default);
        if let Some(i) = cache.embeddings.iter().position(|(k, _)| *k == key) {
            let kept = cache.embeddings.remove(i).map(|(_, e)| e);
            if let Some(e) = kept {
                cache.embeddings.push_back((key, e.clone()));
                return Ok((e, false));
            }
        }
    }
    // Embed outside the lock: another image's click need not wait for this one.
    let emb = Arc::new(model.embed(image)?);
    let mut guard = lock();
    let cache = guard.get_or_insert_with(Cache::default);
    cache.embeddings.retain(|(k, _)| *k != key);
    cache.embeddings.push_back((key, emb.clone()));
    while cache.embeddings.len() > EMBEDDINGS {
        cache.embeddings.pop_front();
    }
    Ok((emb, true))
}

/// What one segmentation found, and whether it had to embed the image.
pub struct Found {
    pub model: Arc<SegmentModel>,
    pub segmentation: Segmentation,
    pub embedded: bool,
}

/// Segments `prompt` (pixels of `image`) with the kept model and embedding.
pub fn segment(
    model_name: Option<&str>,
    image: &RgbImage,
    prompt: &PromptSpec,
) -> Result<Found, SegmentError> {
    prompt.check(image.dimensions())?;
    let m = model(model_name)?;
    let (emb, embedded) = embedding(&m, image)?;
    let segmentation = m.segment(&emb, prompt)?;
    Ok(Found {
        model: m,
        segmentation,
        embedded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_keys_tell_pixels_and_sizes_apart() {
        let a = RgbImage::new(4, 2);
        let b = RgbImage::new(2, 4);
        let mut c = a.clone();
        c.put_pixel(3, 1, image::Rgb([1, 0, 0]));
        assert_ne!(image_key(&a), image_key(&b));
        assert_ne!(image_key(&a), image_key(&c));
        assert_eq!(image_key(&a), image_key(&a.clone()));
    }
}
