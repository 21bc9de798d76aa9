//! Choosing the graphics protocol: terminal query, config override, half-blocks fallback.

use std::io::IsTerminal;

use ratatui_image::{
    picker::{Picker, ProtocolType},
    FontSize,
};

use super::PreviewConfig;

/// Asks the terminal (through tmux passthrough when inside tmux) for its graphics protocol and
/// cell size, then applies the config override. Never fails: a terminal that does not answer,
/// or output that is not a terminal, gives half-blocks.
///
/// Must run before the application starts reading terminal events, or the answers to the query
/// would be read as key presses; ratatui-image switches the terminal to raw mode for the query
/// itself, so before or after the alternate screen both work.
pub(crate) fn detect_picker(config: &PreviewConfig) -> Picker {
    let forced = config.protocol.forced();
    if forced == Some(ProtocolType::Halfblocks) {
        return Picker::halfblocks();
    }
    // Inside tmux the query goes through passthrough to an outer terminal that may never answer
    // (a detached session), and the late or missing answer swallowed the first keys typed (seen
    // with tmux 3.3a): there, auto means half-blocks; a protocol named in the config still wins.
    let in_tmux = std::env::var_os("TMUX").is_some_and(|t| !t.is_empty());
    if in_tmux && forced.is_none() {
        return Picker::halfblocks();
    }
    let queried = if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        Picker::from_query_stdio().ok()
    } else {
        None
    };
    // Without an answer the cell size is a guess (10x20), which is still the best a forced
    // protocol can do.
    let mut picker = queried.unwrap_or_else(Picker::halfblocks);
    match forced {
        Some(forced) => picker.set_protocol_type(forced),
        // Sixel through tmux passthrough lands wherever tmux left the outer cursor, and tmux's
        // own redraws wipe it (seen with tmux 3.3a in xterm): half-blocks are the safe choice.
        // Kitty and iTerm2 survive passthrough; an explicit `sixel` in the config still wins.
        None if picker.tmux_detected() && picker.protocol_type() == ProtocolType::Sixel => {
            picker.set_protocol_type(ProtocolType::Halfblocks)
        }
        None => {}
    }
    picker
}

/// A picker with a known cell size and no terminal query, for tests, benches and non-tty use.
pub fn picker_with_protocol(font_size: (u16, u16), protocol: ProtocolType) -> Picker {
    let font = FontSize::new(font_size.0.max(1), font_size.1.max(1));
    // `from_fontsize` is deprecated only to steer applications to the terminal query; with no
    // terminal to ask, a caller-supplied size is exactly what is wanted.
    #[allow(deprecated)]
    let mut picker = Picker::from_fontsize(font);
    picker.set_protocol_type(protocol);
    picker
}

/// A half-blocks picker with the given cell size (which sets the aspect ratio of a cell).
pub fn headless_picker(font_size: (u16, u16)) -> Picker {
    picker_with_protocol(font_size, ProtocolType::Halfblocks)
}

/// A short, user-facing name of the picker's protocol, e.g. "sixel" or "kitty via tmux".
pub fn protocol_label(picker: &Picker) -> String {
    let name = match picker.protocol_type() {
        ProtocolType::Halfblocks => "halfblocks",
        ProtocolType::Sixel => "sixel",
        ProtocolType::Kitty => "kitty",
        ProtocolType::Iterm2 => "iterm2",
    };
    if picker.tmux_detected() {
        format!("{name} via tmux")
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::ProtocolChoice;

    #[test]
    fn forced_halfblocks_needs_no_terminal() {
        let config = PreviewConfig {
            protocol: ProtocolChoice::Halfblocks,
        };
        assert_eq!(
            detect_picker(&config).protocol_type(),
            ProtocolType::Halfblocks
        );
    }

    #[test]
    fn forced_protocol_wins_without_a_terminal() {
        let config = PreviewConfig {
            protocol: ProtocolChoice::Sixel,
        };
        // Whether or not a terminal answers the query, the override wins.
        assert_eq!(detect_picker(&config).protocol_type(), ProtocolType::Sixel);
    }

    #[test]
    fn labels_name_the_protocol() {
        let picker = picker_with_protocol((8, 16), ProtocolType::Kitty);
        assert!(protocol_label(&picker).starts_with("kitty"));
        assert_eq!(picker.font_size().width, 8);
    }
}
