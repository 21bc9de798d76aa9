//! The background thread that decodes, downscales, tints and encodes previews.
//!
//! Requests queue per slot and only the newest per slot survives (latest-wins): while the
//! thread is busy, a user flicking through history replaces the pending job instead of
//! piling up work. Full-size decodes are the memory hogs (4 MB per megapixel), so only
//! two are kept; downscaled panes are small and a few more of them are kept.

use std::{
    collections::BTreeMap,
    panic::{catch_unwind, AssertUnwindSafe},
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc::{Receiver, Sender, TryRecvError},
        Arc,
    },
};

use image::{GrayImage, RgbaImage};
use ratatui::layout::Size;
use ratatui_image::{picker::Picker, protocol::Protocol};

use super::{cache::Lru, pipeline, scale, PreviewError, PreviewKey, Slot};

const DECODED_CAP: usize = 2;
const PREPARED_CAP: usize = 6;
const MASK_CAP: usize = 4;
const DIMS_CAP: usize = 256;

/// A cached downscale and the full-size image's dimensions (which overlays are scaled from).
type Prepared = (Arc<RgbaImage>, (u32, u32));

pub(crate) struct PreviewJob {
    pub slot: Slot,
    pub key: PreviewKey,
    pub cells: Size,
}

pub(crate) struct PreviewDone {
    pub slot: Slot,
    pub key: PreviewKey,
    pub cells: Size,
    pub result: Result<Arc<Protocol>, String>,
}

/// Called after each finished job, so an event loop can wake up instead of polling.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Work counters shared with the UI side, for tests and diagnostics.
#[derive(Default)]
pub(crate) struct Counters {
    pub decodes: AtomicU64,
    pub encodes: AtomicU64,
}

pub(crate) struct PreviewWorker {
    picker: Picker,
    counters: Arc<Counters>,
    waker: Arc<std::sync::Mutex<Option<Waker>>>,
    decoded: Lru<(PathBuf, String), Arc<RgbaImage>>,
    /// Downscaled, untinted panes by (hash, pixel size), with the original's dimensions.
    prepared: Lru<(String, (u32, u32)), Prepared>,
    masks: Lru<(PathBuf, (u32, u32)), Arc<GrayImage>>,
    /// Original dimensions by hash, so a cached downscale is found without decoding.
    dims: Lru<String, (u32, u32)>,
}

impl PreviewWorker {
    pub(crate) fn new(
        picker: Picker,
        counters: Arc<Counters>,
        waker: Arc<std::sync::Mutex<Option<Waker>>>,
    ) -> PreviewWorker {
        PreviewWorker {
            picker,
            counters,
            waker,
            decoded: Lru::new(DECODED_CAP),
            prepared: Lru::new(PREPARED_CAP),
            masks: Lru::new(MASK_CAP),
            dims: Lru::new(DIMS_CAP),
        }
    }

    /// Runs until the UI side drops its sender.
    pub(crate) fn run(mut self, jobs: Receiver<PreviewJob>, done: Sender<PreviewDone>) {
        let mut pending: BTreeMap<Slot, PreviewJob> = BTreeMap::new();
        loop {
            if pending.is_empty() {
                match jobs.recv() {
                    Ok(job) => {
                        pending.insert(job.slot, job);
                    }
                    Err(_) => return,
                }
            }
            loop {
                match jobs.try_recv() {
                    Ok(job) => {
                        pending.insert(job.slot, job);
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            let Some((_, job)) = pending.pop_first() else {
                continue;
            };
            // A decoder bug on one odd file must cost that preview, not every later one.
            let result = catch_unwind(AssertUnwindSafe(|| self.process(&job)))
                .unwrap_or_else(|_| {
                    Err(PreviewError::Encode {
                        path: job.key.path.clone(),
                        message: "the image library panicked on this file".into(),
                    })
                })
                .map_err(|e| e.to_string());
            let finished = PreviewDone {
                slot: job.slot,
                key: job.key,
                cells: job.cells,
                result,
            };
            if done.send(finished).is_err() {
                return;
            }
            let waker = self.waker.lock().ok().and_then(|w| w.clone());
            if let Some(wake) = waker {
                wake();
            }
        }
    }

    fn process(&mut self, job: &PreviewJob) -> Result<Arc<Protocol>, PreviewError> {
        let key = &job.key;
        let cached = self.dims.get(&key.hash).copied().and_then(|dims| {
            let (px, used) = pipeline::target_for(&self.picker, dims, job.cells);
            let hit = self.prepared.get(&(key.hash.clone(), px))?;
            Some((hit.0.clone(), hit.1, used))
        });
        let (prepared, original, used) = match cached {
            Some(hit) => hit,
            None => {
                let full = self.decoded(key)?;
                let dims = full.dimensions();
                self.dims.put(key.hash.clone(), dims);
                let (px, used) = pipeline::target_for(&self.picker, dims, job.cells);
                let small = Arc::new(scale::resize_to(&full, px.0, px.1));
                self.prepared
                    .put((key.hash.clone(), px), (small.clone(), dims));
                (small, dims, used)
            }
        };
        let mut pixels = RgbaImage::clone(&prepared);
        if let Some(overlay) = &key.overlay {
            let mask = match overlay.mask_path(&key.path) {
                Some(path) => Some(self.mask(path, pixels.dimensions())?),
                None => None,
            };
            pipeline::tint(&mut pixels, original, overlay, mask.as_deref());
        }
        self.counters.encodes.fetch_add(1, Ordering::Relaxed);
        let protocol = pipeline::encode_prepared(&self.picker, pixels, used, &key.path)?;
        Ok(Arc::new(protocol))
    }

    fn decoded(&mut self, key: &PreviewKey) -> Result<Arc<RgbaImage>, PreviewError> {
        let id = (key.path.clone(), key.hash.clone());
        if let Some(img) = self.decoded.get(&id) {
            return Ok(img.clone());
        }
        self.counters.decodes.fetch_add(1, Ordering::Relaxed);
        let img = Arc::new(pipeline::decode_file(&key.path)?);
        self.decoded.put(id, img.clone());
        Ok(img)
    }

    fn mask(&mut self, path: PathBuf, size: (u32, u32)) -> Result<Arc<GrayImage>, PreviewError> {
        let id = (path, size);
        if let Some(mask) = self.masks.get(&id) {
            return Ok(mask.clone());
        }
        self.counters.decodes.fetch_add(1, Ordering::Relaxed);
        let full = pipeline::decode_mask(&id.0)?;
        let small =
            image::imageops::resize(&full, size.0, size.1, image::imageops::FilterType::Triangle);
        let small = Arc::new(small);
        self.masks.put(id, small.clone());
        Ok(small)
    }
}
