//! A one-line text input that counts in graphemes and display columns, so CJK text, emoji and
//! IME-composed strings edit and render correctly.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// The text and a cursor measured in graphemes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    text: String,
    cursor: usize,
}

impl LineInput {
    pub fn with_text(text: &str) -> LineInput {
        let mut l = LineInput::default();
        l.insert(text);
        l
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    fn graphemes(&self) -> Vec<&str> {
        self.text.graphemes(true).collect()
    }

    fn byte_at(&self, grapheme: usize) -> usize {
        self.text
            .grapheme_indices(true)
            .nth(grapheme)
            .map(|(i, _)| i)
            .unwrap_or(self.text.len())
    }

    /// Inserts typed or pasted text at the cursor; line breaks become spaces.
    pub fn insert(&mut self, s: &str) {
        let clean: String = s
            .chars()
            .map(|c| {
                if c == '\n' || c == '\r' || c == '\t' {
                    ' '
                } else {
                    c
                }
            })
            .filter(|c| !c.is_control())
            .collect();
        let at = self.byte_at(self.cursor);
        let before = self.graphemes().len();
        self.text.insert_str(at, &clean);
        // A combining mark can merge with the grapheme before it, so count the change.
        let after = self.graphemes().len();
        self.cursor = (self.cursor + after - before).min(after);
    }

    pub fn backspace(&mut self) {
        if self.cursor == 0 {
            return;
        }
        let (a, b) = (self.byte_at(self.cursor - 1), self.byte_at(self.cursor));
        self.text.replace_range(a..b, "");
        self.cursor -= 1;
    }

    pub fn delete(&mut self) {
        let (a, b) = (self.byte_at(self.cursor), self.byte_at(self.cursor + 1));
        self.text.replace_range(a..b, "");
    }

    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.graphemes().len());
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.graphemes().len();
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
    }

    /// Deletes back to the start of the previous word (spaces first, then the word).
    pub fn word_back(&mut self) {
        let g = self.graphemes();
        let mut i = self.cursor;
        while i > 0 && g[i - 1].trim().is_empty() {
            i -= 1;
        }
        while i > 0 && !g[i - 1].trim().is_empty() {
            i -= 1;
        }
        let (a, b) = (self.byte_at(i), self.byte_at(self.cursor));
        self.text.replace_range(a..b, "");
        self.cursor = i;
    }

    /// The display column of the cursor (wide characters count 2).
    pub fn cursor_column(&self) -> usize {
        self.text[..self.byte_at(self.cursor)].width()
    }

    /// The part of the text to show in `width` columns so the cursor stays visible, and the
    /// cursor's column inside it.
    pub fn visible(&self, width: usize) -> (String, usize) {
        let width = width.max(1);
        let g = self.graphemes();
        let mut start = 0;
        let mut col = self.cursor_column();
        while col >= width && start < g.len() {
            col -= g[start].width();
            start += 1;
        }
        let mut shown = String::new();
        let mut used = 0;
        for s in &g[start..] {
            let w = s.width();
            if used + w > width {
                break;
            }
            shown.push_str(s);
            used += w;
        }
        (shown, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_by_grapheme_and_measures_columns() {
        let mut l = LineInput::default();
        l.insert("把背景");
        l.insert("变暖");
        assert_eq!(l.text(), "把背景变暖");
        assert_eq!(l.cursor_column(), 10);
        l.left();
        l.backspace();
        assert_eq!(l.text(), "把背景暖");
        assert_eq!(l.cursor_column(), 6);
        l.insert("e\u{301}");
        assert_eq!(l.cursor(), 4);
        l.backspace();
        assert_eq!(l.text(), "把背景暖");
        l.end();
        l.insert(" warm light");
        l.word_back();
        assert_eq!(l.text(), "把背景暖 warm ");
        let (shown, col) = l.visible(6);
        assert!(col <= 6, "{shown} {col}");
    }

    #[test]
    fn paste_with_newlines_stays_one_line() {
        let mut l = LineInput::default();
        l.insert("a\nb\tc");
        assert_eq!(l.text(), "a b c");
    }
}
