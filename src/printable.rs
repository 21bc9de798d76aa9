//! Text made safe for a terminal: every string that came from a user or a file (instructions,
//! file and session names, error messages) passes through [`printable`] before it is printed,
//! so it cannot change the title, clear the screen or forge a line.

use std::borrow::Cow;

/// `text` with control characters (C0, DEL, C1) and bidirectional overrides shown escaped:
/// `\x1b`, `\x07`, `\n`, `\r`, `\t`, `\u{202e}`. Plain text comes back borrowed.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    // Bidi embeddings, overrides and isolates reorder what follows them on screen.
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_escaped_and_plain_text_is_kept() {
        let cases = [
            ("warm light", "warm light"),
            ("把红色T恤换成黑色", "把红色T恤换成黑色"),
            ("\x1b]0;owned\x07title", "\\x1b]0;owned\\x07title"),
            ("a\rforged", "a\\rforged"),
            ("two\nlines\ttab", "two\\nlines\\ttab"),
            ("del\x7f c1\u{9b}", "del\\x7f c1\\u{9b}"),
            ("evil\u{202e}gnp.exe", "evil\\u{202e}gnp.exe"),
        ];
        for (input, want) in cases {
            assert_eq!(printable(input), want, "{input:?}");
        }
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
    }
}
