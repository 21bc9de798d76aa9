//! The off-thread work of one preview: decode, fit and downscale, tint, encode.
//!
//! These functions are pure (no caches, no threads) so benches and `show_once` can call them
//! directly; the worker adds the caching around them.

use std::path::Path;

use image::{DynamicImage, GrayImage, RgbaImage};
use ratatui::layout::Size;
use ratatui_image::{
    picker::{Capability, Picker, ProtocolType},
    protocol::{halfblocks::Halfblocks, iterm2::Iterm2, kitty::Kitty, sixel::Sixel, Protocol},
};

use super::{overlay, scale, Overlay, PreviewError};

pub use scale::fit_pixels;

/// Reads and decodes an image file to RGBA.
pub fn decode_file(path: &Path) -> Result<RgbaImage, PreviewError> {
    Ok(decode_dynamic(path)?.into_rgba8())
}

/// Reads and decodes a mask file to grey levels.
pub(crate) fn decode_mask(path: &Path) -> Result<GrayImage, PreviewError> {
    Ok(decode_dynamic(path)?.into_luma8())
}

fn decode_dynamic(path: &Path) -> Result<DynamicImage, PreviewError> {
    let bytes = std::fs::read(path).map_err(|source| PreviewError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    image::load_from_memory(&bytes).map_err(|source| PreviewError::Decode {
        path: path.to_path_buf(),
        source,
    })
}

/// The pixel size to downscale to and the cells it will cover, fitting `image` in `cells`.
///
/// Half-blocks show one cell as two vertical pixels, so they get exactly that resolution
/// (finer pixels would only be averaged away again by the encoder).
pub fn target_for(picker: &Picker, image: (u32, u32), cells: Size) -> ((u32, u32), Size) {
    let font = picker.font_size();
    let (pw, ph) = scale::fit_pixels(image, cells, font);
    let used = Size::new(
        pw.div_ceil(u32::from(font.width.max(1)))
            .clamp(1, u32::from(cells.width)) as u16,
        ph.div_ceil(u32::from(font.height.max(1)))
            .clamp(1, u32::from(cells.height)) as u16,
    );
    if picker.protocol_type() == ProtocolType::Halfblocks {
        let px = (u32::from(used.width), u32::from(used.height) * 2);
        (px, used)
    } else {
        ((pw, ph), used)
    }
}

/// Downscales `image` to fit `cells`; returns the pixels and the cells they cover.
pub fn prepare_for_cells(picker: &Picker, image: &RgbaImage, cells: Size) -> (RgbaImage, Size) {
    let ((w, h), used) = target_for(picker, image.dimensions(), cells);
    (scale::resize_to(image, w, h), used)
}

/// Tints `overlay` onto a prepared image; `original` is the full-size image's dimensions.
pub(crate) fn tint(
    prepared: &mut RgbaImage,
    original: (u32, u32),
    overlay: &Overlay,
    mask: Option<&GrayImage>,
) {
    overlay::apply(prepared, original, overlay, mask);
}

/// Encodes prepared pixels covering `cells` with the picker's protocol.
pub fn encode_prepared(
    picker: &Picker,
    prepared: RgbaImage,
    cells: Size,
    path: &Path,
) -> Result<Protocol, PreviewError> {
    let image = DynamicImage::ImageRgba8(prepared);
    let tmux = picker.tmux_detected();
    let encode_err = |e: ratatui_image::errors::Errors| PreviewError::Encode {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    // Building the protocol directly (rather than through `Picker::new_protocol`) keeps our own
    // downscale: the picker would resample again with its nearest-neighbour default.
    let protocol = match picker.protocol_type() {
        ProtocolType::Halfblocks => {
            Protocol::Halfblocks(Halfblocks::new(image, cells).map_err(encode_err)?)
        }
        ProtocolType::Sixel => Protocol::Sixel(Sixel::new(image, cells, tmux).map_err(encode_err)?),
        ProtocolType::Iterm2 => {
            Protocol::ITerm2(Iterm2::new(image, cells, tmux).map_err(encode_err)?)
        }
        ProtocolType::Kitty => {
            let compress = picker
                .capabilities()
                .contains(&Capability::KittyCompression);
            // Each encoding gets a fresh id so a re-sent image never aliases an old placement.
            let id = rand::random::<u32>() | 1;
            Protocol::Kitty(Kitty::new(image, cells, id, tmux, compress).map_err(encode_err)?)
        }
    };
    Ok(protocol)
}

/// Downscale + encode in one call: what a preview costs once the image is decoded.
pub fn encode_for_cells(
    picker: &Picker,
    image: &RgbaImage,
    cells: Size,
    path: &Path,
) -> Result<Protocol, PreviewError> {
    let (prepared, used) = prepare_for_cells(picker, image, cells);
    encode_prepared(picker, prepared, used, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::picker_with_protocol;

    #[test]
    fn halfblocks_target_two_pixels_per_cell() {
        let picker = picker_with_protocol((10, 20), ProtocolType::Halfblocks);
        let (px, used) = target_for(&picker, (1024, 1024), Size::new(80, 40));
        assert_eq!(used, Size::new(80, 40));
        assert_eq!(px, (80, 80));
        let (px, used) = target_for(&picker, (2000, 1000), Size::new(80, 40));
        assert_eq!((px, used), ((80, 40), Size::new(80, 20)));
    }

    #[test]
    fn sixel_target_is_the_pane_in_pixels() {
        let picker = picker_with_protocol((10, 20), ProtocolType::Sixel);
        let (px, used) = target_for(&picker, (1024, 1024), Size::new(80, 40));
        assert_eq!((px, used), ((800, 800), Size::new(80, 40)));
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = decode_file(Path::new("/nonexistent/zz.png")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/zz.png"));
    }
}
