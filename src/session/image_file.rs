//! Reading images safely: the size is checked from the header before any pixel is decoded, so a
//! decompression bomb (a small file claiming huge dimensions) is refused without allocating.

use super::SessionError;
use image::{DynamicImage, ImageReader, Limits};
use std::io::Cursor;
use std::path::Path;

/// The largest image zedit accepts: 64 megapixels.
pub const MAX_PIXELS: u64 = 64 * 1_000_000;

/// Reads and decodes the image at `path`.
pub fn read_image(path: &Path) -> Result<DynamicImage, SessionError> {
    let bytes = std::fs::read(path).map_err(|e| SessionError::io(path, e))?;
    decode_image(&bytes, path)
}

/// Decodes `bytes`; `path` names the file in messages.
pub fn decode_image(bytes: &[u8], path: &Path) -> Result<DynamicImage, SessionError> {
    let bad = |message: String| SessionError::BadImage {
        path: path.into(),
        message,
    };
    if bytes.is_empty() {
        return Err(bad("the file is empty".into()));
    }
    let open = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| bad(format!("cannot read: {e}")))
    };
    if open()?.format().is_none() {
        return Err(bad(
            "not an image (unknown format; zedit reads PNG, JPEG and WebP)".into(),
        ));
    }
    let (w, h) = open()?
        .into_dimensions()
        .map_err(|e| bad(format!("not a readable image: {e}")))?;
    check_size(w, h).map_err(bad)?;
    let mut reader = open()?;
    let mut limits = Limits::default();
    // Room for the widest decoded form (16-bit RGBA) plus the decoder's own buffers.
    limits.max_alloc = Some(u64::from(w) * u64::from(h) * 8 + (64 << 20));
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| bad(format!("the image is damaged or truncated: {e}")))
}

fn check_size(w: u32, h: u32) -> Result<(), String> {
    let pixels = u64::from(w) * u64::from(h);
    if w == 0 || h == 0 {
        return Err(format!("the image is {w}x{h}: it has no pixels"));
    }
    if pixels > MAX_PIXELS {
        return Err(format!(
            "the image is {w}x{h} ({:.1} megapixels); zedit accepts at most {} megapixels",
            pixels as f64 / 1e6,
            MAX_PIXELS / 1_000_000
        ));
    }
    Ok(())
}
