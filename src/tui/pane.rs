//! Image panes: the trait the studio draws previews through, and a placeholder that shows the
//! image's name, size and mask as text (deterministic, for tests and terminals without images).

use ratatui::layout::Rect as Area;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use std::collections::HashMap;
use std::path::PathBuf;

/// Which preview a pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    Before,
    After,
}

impl Slot {
    pub fn label(self) -> &'static str {
        match self {
            Slot::Before => "before",
            Slot::After => "after",
        }
    }
}

/// A mask drawn over the image: the same `MaskSpec` the step will carry.
pub type Overlay = crate::core::MaskSpec;

/// Clicks for a segmentation model drawn over the image: the candidate shown (the blake3 of
/// its stored mask), the points and the crosshair, in image pixels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Clicks {
    pub mask: Option<String>,
    pub points: Vec<crate::core::MaskPoint>,
    pub cursor: (u32, u32),
}

/// What to show: an image file (by content hash, so caches key on it) and an optional mask,
/// or the clicks being placed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PaneKey {
    pub path: PathBuf,
    pub hash: String,
    pub overlay: Option<Overlay>,
    pub clicks: Option<Clicks>,
}

/// Draws images inside the frame. Requests are cheap and latest-wins; slow work (decoding,
/// scaling, encoding) happens off the UI thread and `poll` says when something new is ready.
pub trait ImagePane {
    fn request(&mut self, slot: Slot, key: &PaneKey, area: Area);
    /// True when a requested image became ready since the last call (redraw needed).
    fn poll(&mut self) -> bool;
    fn render(&mut self, frame: &mut Frame, slot: Slot, area: Area);
    /// Forget cached encodings (after the terminal was cleared).
    fn reset(&mut self);
    /// The image protocol in use, for the status line.
    fn name(&self) -> &str;
}

/// A pane that describes the image in text.
#[derive(Debug, Default)]
pub struct PlaceholderPane {
    shown: HashMap<Slot, (PaneKey, Option<(u32, u32)>)>,
}

impl ImagePane for PlaceholderPane {
    fn request(&mut self, slot: Slot, key: &PaneKey, _area: Area) {
        if self.shown.get(&slot).is_some_and(|(k, _)| k == key) {
            return;
        }
        // Only the header is read, which is fast enough for the UI thread.
        let size = image::image_dimensions(&key.path).ok();
        self.shown.insert(slot, (key.clone(), size));
    }

    fn poll(&mut self) -> bool {
        false
    }

    fn render(&mut self, frame: &mut Frame, slot: Slot, area: Area) {
        let block = Block::default()
            .borders(Borders::ALL)
            .title(format!(" {} ", slot.label()));
        let mut lines = Vec::new();
        if let Some((key, size)) = self.shown.get(&slot) {
            let name = key
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let short = if name.len() > 20 {
                format!("{}….png", &name[..12])
            } else {
                name
            };
            lines.push(Line::from(short));
            lines.push(Line::from(match size {
                Some((w, h)) => format!("{w}x{h}"),
                None => "(unreadable)".into(),
            }));
            if let Some(o) = &key.overlay {
                lines.push(Line::from(format!("mask {o}")));
            }
            if let Some(c) = &key.clicks {
                let kept = c.points.iter().filter(|p| p.positive).count();
                lines.push(Line::from(format!(
                    "+ {},{} · {kept} kept {} out · {}",
                    c.cursor.0,
                    c.cursor.1,
                    c.points.len() - kept,
                    match &c.mask {
                        Some(m) => format!("mask {}", &m[..12.min(m.len())]),
                        None => "no mask yet".into(),
                    }
                )));
            }
        }
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .style(Style::default())
                .wrap(Wrap { trim: true }),
            area,
        );
    }

    fn reset(&mut self) {
        self.shown.clear();
    }

    fn name(&self) -> &str {
        "text"
    }
}
