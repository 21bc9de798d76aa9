//! Text rendering for `add`: lays out lines in the bundled fonts (Roboto for Latin, Greek and
//! Cyrillic; Droid Sans Fallback for CJK; both Apache-2.0) and rasterises them into a coverage
//! mask.

use super::super::EngineError;
use ab_glyph::{point, Font, FontRef, Glyph, GlyphId, OutlinedGlyph, PxScale, ScaleFont};
use image::GrayImage;

// Embedded so text works on any machine, with no font lookup that could differ between them.
static LATIN: &[u8] = include_bytes!("../../../assets/fonts/Roboto-Regular.ttf");
static CJK: &[u8] = include_bytes!("../../../assets/fonts/DroidSansFallbackFull.ttf");

/// Renders `text` (lines split on `\n`) at `size` pixels; white is ink. The image is the
/// tight box around the ink plus the line spacing, so callers can place and check it.
pub fn render(text: &str, size: f32) -> Result<GrayImage, EngineError> {
    if !size.is_finite() || !(4.0..=2000.0).contains(&size) {
        return Err(EngineError::BadInput(format!(
            "text size {size} is outside 4..=2000 pixels; give --size in that range"
        )));
    }
    let open = |bytes| {
        FontRef::try_from_slice(bytes)
            .map_err(|e| EngineError::Internal(format!("a bundled font cannot be read: {e}")))
    };
    let fonts = [open(LATIN)?, open(CJK)?];
    let scale = PxScale::from(size);
    // One line height for both fonts, so mixed Latin and CJK lines share a baseline.
    let ascent = fonts
        .iter()
        .map(|f| f.as_scaled(scale).ascent())
        .fold(0.0, f32::max);
    let descent = fonts
        .iter()
        .map(|f| f.as_scaled(scale).descent())
        .fold(0.0, f32::min);
    let line_height = ascent - descent + fonts[0].as_scaled(scale).line_gap();
    let mut outlined: Vec<OutlinedGlyph> = Vec::new();
    for (row, line) in text.lines().enumerate() {
        let baseline = row as f32 * line_height + ascent;
        let mut x = 0.0f32;
        let mut prev: Option<(usize, GlyphId)> = None;
        for ch in line.chars() {
            let Some((fi, id)) = fonts
                .iter()
                .enumerate()
                .map(|(i, f)| (i, f.glyph_id(ch)))
                .find(|(_, id)| id.0 != 0)
            else {
                if ch.is_whitespace() {
                    x += fonts[0].as_scaled(scale).h_advance(fonts[0].glyph_id(' '));
                    prev = None;
                    continue;
                }
                return Err(EngineError::BadInput(format!(
                    "the bundled fonts have no glyph for '{ch}' (U+{:04X}) in text \"{text}\"; \
                     remove or replace that character",
                    ch as u32
                )));
            };
            let font = fonts[fi].as_scaled(scale);
            if let Some((pf, p)) = prev {
                if pf == fi {
                    x += font.kern(p, id);
                }
            }
            let glyph: Glyph = id.with_scale_and_position(scale, point(x, baseline));
            x += font.h_advance(id);
            prev = Some((fi, id));
            if let Some(o) = fonts[fi].outline_glyph(glyph) {
                outlined.push(o);
            }
        }
    }
    if outlined.is_empty() {
        return Err(EngineError::BadInput(
            "the text to add is empty; give --text with something to write".into(),
        ));
    }
    // Union of the glyphs' pixel boxes.
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for o in &outlined {
        let b = o.px_bounds();
        x0 = x0.min(b.min.x);
        y0 = y0.min(b.min.y);
        x1 = x1.max(b.max.x);
        y1 = y1.max(b.max.y);
    }
    let (w, h) = ((x1 - x0).ceil() as u32, (y1 - y0).ceil() as u32);
    let mut ink = GrayImage::new(w.max(1), h.max(1));
    for o in &outlined {
        let b = o.px_bounds();
        let (ox, oy) = ((b.min.x - x0) as i64, (b.min.y - y0) as i64);
        o.draw(|gx, gy, cov| {
            let (x, y) = (ox + gx as i64, oy + gy as i64);
            if x >= 0 && y >= 0 && (x as u32) < ink.width() && (y as u32) < ink.height() {
                let v = (cov.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
                let px = ink.get_pixel_mut(x as u32, y as u32);
                // Overlapping glyph edges keep the stronger coverage rather than adding up.
                px.0[0] = px.0[0].max(v);
            }
        });
    }
    Ok(ink)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_latin_and_cjk() {
        let ink = render("Hi 你好", 32.0).unwrap();
        assert!(
            ink.width() > 60 && ink.height() >= 20,
            "{}x{}",
            ink.width(),
            ink.height()
        );
        let dark = ink.pixels().filter(|p| p.0[0] > 128).count();
        assert!(dark > 100, "ink pixels: {dark}");
        let two = render("一\n二", 20.0).unwrap();
        assert!(two.height() > 20, "two lines stack");
    }

    #[test]
    fn rejects_bad_size_and_empty_text() {
        assert!(render("x", 0.5)
            .unwrap_err()
            .to_string()
            .contains("size 0.5"));
        assert!(render("   ", 20.0)
            .unwrap_err()
            .to_string()
            .contains("empty"));
    }
}
