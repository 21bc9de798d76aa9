//! The worker's `Segment` request: candidate masks for clicks or a box on a session's image,
//! from the model and image embedding the process keeps, stored in the session's images so
//! the client reads them from disk (images never travel on the socket).

use super::proto::Event;
use crate::core::{ErrorKind, ImageRef, MaskSpec};
use std::path::Path;

/// Answers one `Segment` request.
pub fn answer(
    id: u64,
    session_dir: &Path,
    image: &ImageRef,
    mask: &MaskSpec,
    model: Option<&str>,
) -> Event {
    match run(session_dir, image, mask, model) {
        Ok(event) => event(id),
        Err((kind, message)) => Event::SegmentFailed { id, kind, message },
    }
}

type Failure = (ErrorKind, String);

#[cfg(feature = "sam")]
fn run(
    dir: &Path,
    image: &ImageRef,
    mask: &MaskSpec,
    model: Option<&str>,
) -> Result<impl FnOnce(u64) -> Event, Failure> {
    use super::proto::SegmentCandidate;
    use crate::segment::{cache, prompt_of, SegmentError};
    use crate::session::Session;
    let bad = |m: String| (ErrorKind::BadInput, m);
    if !dir.is_absolute() || !dir.join("session.toml").is_file() {
        return Err(bad(format!(
            "{}: not an absolute path to a session folder",
            dir.display()
        )));
    }
    let Some((prompt, segmenter)) = prompt_of(mask) else {
        return Err(bad(format!(
            "a '{}' mask is not made from clicks or a box",
            mask.shape.kind()
        )));
    };
    let path = Session::stored_path(dir, image).map_err(|e| bad(e.to_string()))?;
    let picture = crate::session::read_image(&path)
        .map_err(|e| bad(e.to_string()))?
        .to_rgb8();
    let size = picture.dimensions();
    let prompt = match segmenter {
        Some(s) => prompt.scaled((s.width, s.height), size),
        None => prompt,
    };
    let name = model.or(segmenter.map(|s| s.model.as_str()));
    let start = std::time::Instant::now();
    let found = cache::segment(name, &picture, &prompt)
        .map_err(|e: SegmentError| (e.kind(), e.to_string()))?;
    let mut candidates = Vec::with_capacity(found.segmentation.candidates.len());
    for c in found.segmentation.candidates {
        let stored = Session::store_image(dir, &image::DynamicImage::ImageLuma8(c.mask))
            .map_err(|e| (ErrorKind::Session, e.to_string()))?;
        candidates.push(SegmentCandidate {
            image: stored,
            iou: c.iou,
            area: c.area,
        });
    }
    let took_ms = start.elapsed().as_millis() as u64;
    let (model, digest) = (found.model.id.clone(), found.model.digest.clone());
    let embedded = found.embedded;
    Ok(move |id| Event::Segmented {
        id,
        model,
        digest,
        candidates,
        embedded,
        took_ms,
    })
}

#[cfg(not(feature = "sam"))]
fn run(
    _dir: &Path,
    _image: &ImageRef,
    _mask: &MaskSpec,
    _model: Option<&str>,
) -> Result<fn(u64) -> Event, Failure> {
    Err((
        ErrorKind::Unsupported,
        "this worker is built without segmentation: rebuild zedit with `--features sam`".into(),
    ))
}
