//! Colour themes: `themes/*.toml` embedded, user themes from the config folder, `inherits`
//! resolved, every colour checked with the file and key named on error.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::path::Path;

/// The themes shipped with zedit.
pub const BUILTIN: [(&str, &str); 3] = [
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

macro_rules! theme_fields {
    ($($name:ident),* $(,)?) => {
        #[derive(Debug, Default, Clone, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawTheme {
            inherits: Option<String>,
            $($name: Option<String>,)*
        }

        /// Resolved colours.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme { $(pub $name: Color,)* }

        impl RawTheme {
            fn over(self, base: RawTheme) -> RawTheme {
                RawTheme { inherits: None, $($name: self.$name.or(base.$name),)* }
            }
            fn resolve(&self, file: &str) -> Result<Theme, ThemeError> {
                Ok(Theme { $($name: color(file, stringify!($name), self.$name.as_deref())?,)* })
            }
        }
    };
}

theme_fields!(
    fg,
    bg,
    muted,
    accent,
    border,
    border_focus,
    selection_fg,
    selection_bg,
    head,
    ok,
    warn,
    error,
    running,
    mask,
    status_fg,
    status_bg,
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: key '{key}': {message}")]
    Key {
        file: String,
        key: String,
        message: String,
    },
    #[error("theme '{0}' not found: expected default, light, high-contrast or a file in the themes folder")]
    Unknown(String),
}

fn color(file: &str, key: &str, value: Option<&str>) -> Result<Color, ThemeError> {
    let bad = |message: String| ThemeError::Key {
        file: file.into(),
        key: key.into(),
        message,
    };
    let v =
        value.ok_or_else(|| bad("missing (set it or inherit from a theme that has it)".into()))?;
    v.parse::<Color>().map_err(|_| {
        bad(format!(
            "'{v}' is not a colour: use a name (red, gray), 0-255 or #rrggbb"
        ))
    })
}

fn parse_raw(text: &str, file: &str) -> Result<RawTheme, ThemeError> {
    toml::from_str(text).map_err(|e| ThemeError::Syntax {
        file: file.into(),
        message: e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    })
}

impl Theme {
    /// The built-in default theme.
    pub fn default_theme() -> Theme {
        Theme::load("default", None).unwrap_or_else(|_| Theme::fallback())
    }

    /// Colours that need no file, used only if the embedded default were broken.
    fn fallback() -> Theme {
        Theme {
            fg: Color::Reset,
            bg: Color::Reset,
            muted: Color::Indexed(244),
            accent: Color::Indexed(31),
            border: Color::Indexed(244),
            border_focus: Color::Indexed(31),
            selection_fg: Color::Indexed(231),
            selection_bg: Color::Indexed(24),
            head: Color::Indexed(136),
            ok: Color::Indexed(28),
            warn: Color::Indexed(130),
            error: Color::Indexed(160),
            running: Color::Indexed(32),
            mask: Color::Indexed(163),
            status_fg: Color::Indexed(231),
            status_bg: Color::Indexed(240),
        }
    }

    /// Parses a theme file's text (`file` names it in messages); `inherits` is looked up among
    /// the built-in themes.
    pub fn parse(text: &str, file: &str) -> Result<Theme, ThemeError> {
        let raw = parse_raw(text, file)?;
        let raw = match raw.inherits.clone() {
            Some(parent) => {
                let (base, _) = load_chain(&parent, None, 1).map_err(|e| match e {
                    ThemeError::Unknown(p) => ThemeError::Key {
                        file: file.into(),
                        key: "inherits".into(),
                        message: format!("no theme named '{p}'"),
                    },
                    other => other,
                })?;
                raw.over(base)
            }
            None => raw,
        };
        raw.resolve(file)
    }

    /// Loads theme `name`: `dir/<name>.toml` when a user themes folder has it, else a built-in.
    pub fn load(name: &str, dir: Option<&Path>) -> Result<Theme, ThemeError> {
        let (raw, file) = load_chain(name, dir, 0)?;
        raw.resolve(&file)
    }

    pub fn base(&self) -> Style {
        Style::default().fg(self.fg).bg(self.bg)
    }

    pub fn selected(&self) -> Style {
        Style::default()
            .fg(self.selection_fg)
            .bg(self.selection_bg)
            .add_modifier(Modifier::BOLD)
    }

    pub fn border(&self, focused: bool) -> Style {
        Style::default().fg(if focused {
            self.border_focus
        } else {
            self.border
        })
    }
}

fn load_chain(
    name: &str,
    dir: Option<&Path>,
    depth: usize,
) -> Result<(RawTheme, String), ThemeError> {
    if depth > 8 {
        return Err(ThemeError::Key {
            file: name.into(),
            key: "inherits".into(),
            message: "inherits loops".into(),
        });
    }
    let user = dir
        .map(|d| d.join(format!("{name}.toml")))
        .filter(|p| p.is_file());
    let (text, file) = match user {
        Some(p) => {
            let file = p.display().to_string();
            let text = std::fs::read_to_string(&p).map_err(|e| ThemeError::Syntax {
                file: file.clone(),
                message: e.to_string(),
            })?;
            (text, file)
        }
        None => {
            let (_, text) = BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| ThemeError::Unknown(name.into()))?;
            (text.to_string(), format!("themes/{name}.toml"))
        }
    };
    let raw = parse_raw(&text, &file)?;
    match raw.inherits.clone() {
        Some(parent) if parent != name || dir.is_some() => {
            let (base, _) = load_chain(&parent, if parent == name { None } else { dir }, depth + 1)
                .map_err(|e| match e {
                    ThemeError::Unknown(p) => ThemeError::Key {
                        file: file.clone(),
                        key: "inherits".into(),
                        message: format!("no theme named '{p}'"),
                    },
                    other => other,
                })?;
            Ok((raw.over(base), file))
        }
        _ => Ok((raw, file)),
    }
}
