//! Reading images safely: only regular files are read (a FIFO or a device is refused before a
//! byte is read), at most [`MAX_FILE_BYTES`]; the size is checked from the header before any
//! pixel is decoded, so a decompression bomb is refused without allocating; a truncated file is
//! an error, never an image with rows of grey; EXIF orientation is applied on import.

use super::SessionError;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use std::fs::File;
use std::io::{Cursor, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The largest image zedit accepts: 64 megapixels.
pub const MAX_PIXELS: u64 = 64 * 1_000_000;

/// The largest image file zedit reads: room for 64 megapixels of 16-bit RGBA, uncompressed.
pub const MAX_FILE_BYTES: u64 = 512 << 20;

/// Reads and decodes the image at `path`, turned upright by its EXIF orientation.
pub fn read_image(path: &Path) -> Result<DynamicImage, SessionError> {
    read_upright(path).map(|(image, _)| image)
}

/// As [`read_image`], also saying which EXIF orientation was applied (`None` when upright).
pub fn read_upright(path: &Path) -> Result<(DynamicImage, Option<String>), SessionError> {
    let bytes = read_file(path)?;
    decode_oriented(&bytes, path)
}

/// The bytes of a regular file, refusing FIFOs, devices, folders and files over the cap.
fn read_file(path: &Path) -> Result<Vec<u8>, SessionError> {
    let bad = |message: String| SessionError::BadImage {
        path: path.into(),
        message,
    };
    // Non-blocking, so opening a FIFO with no writer returns at once instead of hanging.
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| SessionError::io(path, e))?;
    let meta = file.metadata().map_err(|e| SessionError::io(path, e))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else if kind.is_dir() {
            "a folder"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "a special file"
        };
        return Err(bad(format!(
            "not a regular file ({what}); give the path of an image file"
        )));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(bad(format!(
            "the file is {} MB; zedit reads image files of at most {} MB",
            meta.len() >> 20,
            MAX_FILE_BYTES >> 20
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The cap holds even for a file that grows while it is read.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| SessionError::io(path, e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(bad(format!(
            "the file grew past {} MB while it was read",
            MAX_FILE_BYTES >> 20
        )));
    }
    Ok(bytes)
}

/// Decodes `bytes` as stored (no orientation applied); `path` names the file in messages.
pub fn decode_image(bytes: &[u8], path: &Path) -> Result<DynamicImage, SessionError> {
    decode(bytes, path, false).map(|(image, _)| image)
}

fn decode_oriented(
    bytes: &[u8],
    path: &Path,
) -> Result<(DynamicImage, Option<String>), SessionError> {
    decode(bytes, path, true)
}

/// The formats zedit decodes, as its errors name them.
const READS: &str = "zedit reads PNG, JPEG and WebP";

fn decode(
    bytes: &[u8],
    path: &Path,
    upright: bool,
) -> Result<(DynamicImage, Option<String>), SessionError> {
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
    let Some(format) = open()?.format() else {
        return Err(bad(format!("not an image (unknown format; {READS})")));
    };
    if !matches!(
        format,
        image::ImageFormat::Png | image::ImageFormat::Jpeg | image::ImageFormat::WebP
    ) {
        let name = format.extensions_str().first().unwrap_or(&"unknown");
        return Err(bad(format!(
            "a {} image; {READS} (convert it first)",
            name.to_uppercase()
        )));
    }
    let (w, h) = open()?
        .into_dimensions()
        .map_err(|e| bad(format!("not a readable image: {e}")))?;
    check_size(w, h).map_err(bad)?;
    if format == image::ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(bad(
            "the JPEG is truncated (its data ends before the end-of-image marker)".into(),
        ));
    }
    let mut decoder = open()?
        .into_decoder()
        .map_err(|e| bad(format!("not a readable image: {e}")))?;
    let mut limits = Limits::default();
    // Room for the widest decoded form (16-bit RGBA) plus the decoder's own buffers.
    limits.max_alloc = Some(u64::from(w) * u64::from(h) * 8 + (64 << 20));
    decoder
        .set_limits(limits)
        .map_err(|e| bad(format!("cannot decode: {e}")))?;
    let orientation = if upright {
        decoder.orientation().ok()
    } else {
        None
    };
    let mut image = DynamicImage::from_decoder(decoder)
        .map_err(|e| bad(format!("the image is damaged or truncated: {e}")))?;
    let applied = orientation
        .filter(|o| *o != image::metadata::Orientation::NoTransforms)
        .map(|o| {
            image.apply_orientation(o);
            format!("{o:?}")
        });
    Ok((image, applied))
}

/// True when a JPEG's entropy-coded data ends with the end-of-image marker (FF D9). The
/// decoder fills a cut-short scan with grey and reports success, so this is checked here: the
/// marker segments are walked to the first start-of-scan, and the EOI must come after it (an
/// embedded thumbnail's EOI comes before it and does not count).
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return false;
    }
    let mut i = 2;
    let scan = loop {
        while i < bytes.len() && bytes[i] == 0xFF {
            i += 1;
        }
        let Some(&marker) = bytes.get(i) else {
            return false;
        };
        i += 1;
        match marker {
            0xDA => break i,
            0x01 | 0xD0..=0xD7 => {}
            _ => {
                let Some(len) = bytes.get(i..i + 2) else {
                    return false;
                };
                i += usize::from(u16::from_be_bytes([len[0], len[1]]));
            }
        }
    };
    // Inside scan data a real 0xFF is stuffed as FF 00, so FF D9 is only ever the marker.
    bytes
        .get(scan..)
        .is_some_and(|rest| rest.windows(2).any(|w| w == [0xFF, 0xD9]))
}

/// True when every pixel is grey (equal channels), so reading it as luma loses nothing.
pub fn is_grey(image: &DynamicImage) -> bool {
    match image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageLuma16(_)
        | DynamicImage::ImageLumaA16(_) => true,
        other => other
            .to_rgb8()
            .pixels()
            .all(|p| p[0] == p[1] && p[1] == p[2]),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg() -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([(x * 6) as u8, (y * 8) as u8, 90])
        }));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
            .unwrap();
        out
    }

    #[test]
    fn a_jpeg_is_complete_only_with_its_end_marker_after_the_scan() {
        let whole = jpeg();
        assert!(jpeg_is_complete(&whole));
        for cut in [whole.len() - 2, whole.len() * 3 / 4, whole.len() / 2, 3] {
            assert!(!jpeg_is_complete(&whole[..cut]), "cut at {cut}");
        }
        let mut trailing = whole.clone();
        trailing.extend_from_slice(b"camera maker data");
        assert!(jpeg_is_complete(&trailing), "data after EOI is allowed");
    }

    #[test]
    fn another_format_is_named_not_decoded() {
        let path = Path::new("shot.gif");
        for (bytes, name) in [
            (&b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"[..], "GIF"),
            (&b"BM\x1e\x00\x00\x00\x00\x00\x00\x00\x1a\x00"[..], "BMP"),
        ] {
            let err = decode_image(bytes, path).unwrap_err().to_string();
            assert!(err.contains("shot.gif"), "{err}");
            assert!(err.contains(&format!("a {name} image")), "{err}");
            assert!(err.contains("PNG, JPEG and WebP"), "{err}");
        }
    }

    #[test]
    fn grey_is_told_from_colour() {
        let grey = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(4, 4, image::Rgb([9; 3])));
        assert!(is_grey(&grey));
        let red =
            DynamicImage::ImageRgb8(image::RgbImage::from_pixel(4, 4, image::Rgb([255, 0, 0])));
        assert!(!is_grey(&red));
    }
}
