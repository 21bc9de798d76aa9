//! `zedit show IMAGE`: print one image to the terminal outside the TUI.

use std::{
    io::{self, Write},
    path::Path,
};

use ratatui::{
    buffer::{Buffer, CellDiffOption},
    crossterm::{
        cursor::{MoveDown, MoveRight, MoveToColumn, MoveUp, RestorePosition, SavePosition},
        queue,
        style::{Color as CtColor, Print, ResetColor, SetBackgroundColor, SetForegroundColor},
        terminal,
    },
    layout::{Rect, Size},
    style::Color,
    widgets::Widget,
};
use ratatui_image::Image;

use super::{detect, pipeline, PreviewConfig, PreviewError};

/// Prints `path` at the cursor with the detected protocol, sized to fit the terminal (one
/// line is left for the prompt), and moves the cursor below it.
pub fn show_once(path: &Path) -> Result<(), PreviewError> {
    show_once_with(path, &PreviewConfig::default())
}

/// [`show_once`] with a protocol override.
pub fn show_once_with(path: &Path, config: &PreviewConfig) -> Result<(), PreviewError> {
    let picker = detect::detect_picker(config);
    let (cols, rows) = terminal::size().unwrap_or((80, 24));
    let cells = Size::new(cols.max(1), rows.saturating_sub(2).max(1));
    let image = pipeline::decode_file(path)?;
    let protocol = pipeline::encode_for_cells(&picker, &image, cells, path)?;
    let size = protocol.size();
    let area = Rect::new(0, 0, size.width, size.height);
    let mut buf = Buffer::empty(area);
    Image::new(&protocol).render(area, &mut buf);
    let mut out = io::stdout().lock();
    write_buffer(&mut out, &buf)?;
    out.flush()?;
    Ok(())
}

/// Writes a rendered buffer at the cursor position, as ratatui's backend would for a frame,
/// but relative to the cursor so the shell's scrollback is kept.
fn write_buffer(out: &mut impl Write, buf: &Buffer) -> io::Result<()> {
    let Rect { width, height, .. } = buf.area;
    // Scroll the image's room into view first, so later relative moves cannot scroll and
    // drift the saved position.
    for _ in 0..height {
        queue!(out, Print("\n"))?;
    }
    queue!(out, MoveUp(height), MoveToColumn(0), SavePosition)?;
    for y in 0..height {
        queue!(out, RestorePosition)?;
        if y > 0 {
            queue!(out, MoveDown(y))?;
        }
        let mut pending_skip = 0u16;
        for x in 0..width {
            let Some(cell) = buf.cell((x, y)) else {
                continue;
            };
            if cell.diff_option == CellDiffOption::Skip {
                pending_skip += 1;
                continue;
            }
            if pending_skip > 0 {
                queue!(out, MoveRight(pending_skip))?;
                pending_skip = 0;
            }
            if let Some(fg) = rgb(cell.fg) {
                queue!(out, SetForegroundColor(fg))?;
            }
            if let Some(bg) = rgb(cell.bg) {
                queue!(out, SetBackgroundColor(bg))?;
            }
            queue!(out, Print(cell.symbol()), ResetColor)?;
        }
    }
    queue!(
        out,
        RestorePosition,
        MoveDown(height),
        MoveToColumn(0),
        ResetColor
    )?;
    Ok(())
}

/// Image cells only carry true colours (half-blocks) or none (graphics protocols).
fn rgb(color: Color) -> Option<CtColor> {
    match color {
        Color::Rgb(r, g, b) => Some(CtColor::Rgb { r, g, b }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::headless_picker;

    #[test]
    fn halfblocks_are_written_row_by_row() {
        let picker = headless_picker((10, 20));
        let image = image::RgbaImage::from_pixel(40, 40, image::Rgba([255, 0, 0, 255]));
        let protocol =
            pipeline::encode_for_cells(&picker, &image, Size::new(4, 2), Path::new("x")).unwrap();
        let area = Rect::new(0, 0, protocol.size().width, protocol.size().height);
        let mut buf = Buffer::empty(area);
        Image::new(&protocol).render(area, &mut buf);
        let mut out = Vec::new();
        write_buffer(&mut out, &buf).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\x1b[38;2;255;0;0m") || text.contains("\x1b[48;2;255;0;0m"));
    }
}
