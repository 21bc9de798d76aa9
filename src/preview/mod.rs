//! Image to terminal previews: protocol detection, off-thread decode/scale/encode, caching.
//!
//! The UI thread only ever calls [`Previewer::request`], [`Previewer::poll`] and
//! [`Previewer::render`], none of which block: decoding, downscaling to the pane's pixel size,
//! overlay tinting and protocol encoding (kitty, sixel, iTerm2 or half-blocks, through
//! ratatui-image) run on one background thread, latest request per [`Slot`] wins.
//!
//! Under tmux, ratatui-image recognises the multiplexer from `TERM=tmux*` or
//! `TERM_PROGRAM=tmux`, runs `tmux set -p allow-passthrough on` and wraps both its terminal
//! query and every image sequence in tmux passthrough (`ESC Ptmux;…`), so the outer terminal's
//! protocol is used. Sixel is the exception: passthrough sixels land at tmux's idea of the
//! outer cursor and are wiped by tmux's redraws, so auto-detection picks half-blocks there
//! (an explicit `protocol = "sixel"` is still honoured). A tmux started with `TERM=screen*` and an old tmux that does not export
//! `TERM_PROGRAM` are not recognised; previews then fall back to what the query finds through
//! tmux itself (usually half-blocks).

mod cache;
mod detect;
mod overlay;
mod pipeline;
mod previewer;
mod scale;
mod show;
mod worker;

use std::{fmt, path::PathBuf, str::FromStr};

use serde::{Deserialize, Serialize};

pub use detect::{headless_picker, picker_with_protocol, protocol_label};
pub use pipeline::{decode_file, encode_for_cells, fit_pixels, prepare_for_cells};
pub use previewer::Previewer;
pub use ratatui_image::picker::{Picker, ProtocolType};
pub use show::{show_once, show_once_with};

/// Errors of the preview layer; rendered as placeholder text, never as a panic.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot decode {path}: {source}")]
    Decode {
        path: PathBuf,
        source: image::ImageError,
    },
    #[error("cannot encode the preview of {path} for the terminal: {message}")]
    Encode { path: PathBuf, message: String },
    #[error("terminal query failed: {0}")]
    Terminal(String),
    #[error("unknown preview protocol {0:?}; use auto, kitty, sixel, iterm2 or halfblocks")]
    UnknownProtocol(String),
    #[error("cannot write the image to the terminal: {0}")]
    Io(#[from] std::io::Error),
}

/// Which graphics protocol to use; `Auto` asks the terminal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProtocolChoice {
    #[default]
    Auto,
    Kitty,
    Sixel,
    Iterm2,
    Halfblocks,
}

impl ProtocolChoice {
    /// The forced protocol, or `None` for auto-detection.
    pub fn forced(self) -> Option<ProtocolType> {
        match self {
            ProtocolChoice::Auto => None,
            ProtocolChoice::Kitty => Some(ProtocolType::Kitty),
            ProtocolChoice::Sixel => Some(ProtocolType::Sixel),
            ProtocolChoice::Iterm2 => Some(ProtocolType::Iterm2),
            ProtocolChoice::Halfblocks => Some(ProtocolType::Halfblocks),
        }
    }
}

impl FromStr for ProtocolChoice {
    type Err = PreviewError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(ProtocolChoice::Auto),
            "kitty" => Ok(ProtocolChoice::Kitty),
            "sixel" => Ok(ProtocolChoice::Sixel),
            "iterm2" => Ok(ProtocolChoice::Iterm2),
            "halfblocks" => Ok(ProtocolChoice::Halfblocks),
            other => Err(PreviewError::UnknownProtocol(other.to_string())),
        }
    }
}

impl fmt::Display for ProtocolChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProtocolChoice::Auto => "auto",
            ProtocolChoice::Kitty => "kitty",
            ProtocolChoice::Sixel => "sixel",
            ProtocolChoice::Iterm2 => "iterm2",
            ProtocolChoice::Halfblocks => "halfblocks",
        })
    }
}

/// Preview settings, part of the user's config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreviewConfig {
    pub protocol: ProtocolChoice,
}

/// Where on screen a preview goes; each slot shows the latest image requested for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    Before,
    After,
    /// Thumbnails, e.g. in a history strip.
    Thumb(u16),
}

/// What to show: a stored image, optionally with a mask overlay drawn on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PreviewKey {
    pub path: PathBuf,
    /// Content hash of the file (blake3 hex in sessions); the cache key, so equal hashes share work.
    pub hash: String,
    pub overlay: Option<Overlay>,
}

impl PreviewKey {
    pub fn new(path: impl Into<PathBuf>, hash: impl Into<String>) -> PreviewKey {
        PreviewKey {
            path: path.into(),
            hash: hash.into(),
            overlay: None,
        }
    }

    pub fn with_overlay(mut self, overlay: Overlay) -> PreviewKey {
        self.overlay = Some(overlay);
        self
    }

    /// The file name, for placeholders.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

/// A region tinted semi-transparently over the preview, in the image's pixel coordinates.
///
/// `Spec` is a drawn mask as steps carry it, rasterised by `crate::mask` (the same pixels the
/// engine gets). `Mask` names a content-addressed mask image by its blake3 digest; it is looked
/// up next to the previewed image (`images/<hex>.png` in a session folder). Mask pixels
/// brighter than mid-grey are tinted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Overlay {
    Spec(crate::core::MaskSpec),
    Mask {
        blake3: [u8; 32],
    },
    /// Clicks for a segmentation model: the candidate mask shown (a stored image, when there
    /// is one), the points (green kept, red left out) and the crosshair.
    Clicks {
        mask: Option<[u8; 32]>,
        points: Vec<crate::core::MaskPoint>,
        cursor: (u32, u32),
    },
}

impl Overlay {
    /// A mask overlay from a 64-digit hex digest, as stored in session files.
    pub fn mask_from_hex(hex: &str) -> Option<Overlay> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut blake3 = [0u8; 32];
        for (i, byte) in blake3.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Overlay::Mask { blake3 })
    }

    /// Where a mask overlay's image lives, given the previewed image's path.
    pub fn mask_path(&self, image_path: &std::path::Path) -> Option<PathBuf> {
        match self {
            Overlay::Mask { blake3 }
            | Overlay::Clicks {
                mask: Some(blake3), ..
            } => {
                let hex: String = blake3.iter().map(|b| format!("{b:02x}")).collect();
                let dir = image_path
                    .parent()
                    .unwrap_or_else(|| std::path::Path::new("."));
                Some(dir.join(format!("{hex}.png")))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_choice_parses_every_name() {
        for (text, want) in [
            ("auto", ProtocolChoice::Auto),
            ("kitty", ProtocolChoice::Kitty),
            ("Sixel", ProtocolChoice::Sixel),
            ("iterm2", ProtocolChoice::Iterm2),
            ("halfblocks", ProtocolChoice::Halfblocks),
        ] {
            assert_eq!(text.parse::<ProtocolChoice>().unwrap(), want);
            assert_eq!(want.to_string(), text.to_ascii_lowercase());
        }
        let err = "ascii".parse::<ProtocolChoice>().unwrap_err();
        assert!(err.to_string().contains("\"ascii\""));
    }

    #[test]
    fn config_reads_from_toml() {
        let cfg: PreviewConfig = toml::from_str("protocol = \"sixel\"").unwrap();
        assert_eq!(cfg.protocol, ProtocolChoice::Sixel);
        let cfg: PreviewConfig = toml::from_str("").unwrap();
        assert_eq!(cfg.protocol, ProtocolChoice::Auto);
    }

    #[test]
    fn mask_overlay_round_trips_hex() {
        let hex = "00ff".repeat(16);
        let overlay = Overlay::mask_from_hex(&hex).unwrap();
        let path = overlay.mask_path(std::path::Path::new("/s/images/a.png"));
        assert_eq!(path.unwrap(), PathBuf::from(format!("/s/images/{hex}.png")));
        assert!(Overlay::mask_from_hex("xyz").is_none());
    }
}
