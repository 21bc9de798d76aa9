//! The studio's image pane backed by the terminal previewer (kitty, sixel, iTerm2, half-blocks).

use super::pane::{ImagePane, PaneKey, Slot};
use crate::preview::{self, PreviewKey, Previewer};
use ratatui::layout::Rect as Area;
use ratatui::Frame;

/// Real previews: decoding, scaling and encoding run on the previewer's own thread.
pub struct PreviewPane {
    previewer: Previewer,
}

impl PreviewPane {
    pub fn new(previewer: Previewer) -> Self {
        PreviewPane { previewer }
    }
}

fn slot(s: Slot) -> preview::Slot {
    match s {
        Slot::Before => preview::Slot::Before,
        Slot::After => preview::Slot::After,
    }
}

fn key(k: &PaneKey) -> PreviewKey {
    let mut key = PreviewKey::new(k.path.clone(), k.hash.clone());
    key.overlay = match &k.clicks {
        Some(c) => Some(preview::Overlay::Clicks {
            mask: c
                .mask
                .as_deref()
                .and_then(|hex| match preview::Overlay::mask_from_hex(hex) {
                    Some(preview::Overlay::Mask { blake3 }) => Some(blake3),
                    _ => None,
                }),
            points: c.points.clone(),
            cursor: c.cursor,
        }),
        None => k.overlay.clone().map(preview::Overlay::Spec),
    };
    key
}

impl ImagePane for PreviewPane {
    fn request(&mut self, s: Slot, k: &PaneKey, area: Area) {
        self.previewer.request(slot(s), &key(k), area);
    }

    fn poll(&mut self) -> bool {
        self.previewer.poll()
    }

    fn render(&mut self, frame: &mut Frame, s: Slot, area: Area) {
        self.previewer.render(frame, slot(s), area);
    }

    fn reset(&mut self) {
        self.previewer.reset();
    }

    fn name(&self) -> &str {
        self.previewer.protocol_name()
    }
}
