//! Settings (`config.toml`), the user's keymap and theme, loaded together; anything broken is
//! reported by file and key, and its defaults are used instead.

use super::keymap::Keymap;
use super::theme::Theme;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `config.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Theme name: default, light, high-contrast, or a file in `<config>/themes/`.
    pub theme: String,
    /// Engine the jobs run on.
    pub engine: String,
    /// Mouse capture (scrolling lists); off leaves the terminal's own selection working.
    pub mouse: bool,
    /// Folder of LoRA files for the picker (`L`); `ZEDIT_LORA_DIR` wins, else `<config>/loras`.
    pub lora_dir: Option<PathBuf>,
    /// Segment Anything model for clicks in mask mode: a name from `zedit models` or a weights
    /// path; `ZEDIT_SEGMENT_MODEL` wins, else the default (mobile-sam).
    pub segment_model: Option<String>,
    /// Image previews: `[preview] protocol = "auto" | "kitty" | "sixel" | "iterm2" | "halfblocks"`.
    pub preview: crate::preview::PreviewConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            theme: "default".into(),
            engine: "classic".into(),
            mouse: false,
            lora_dir: None,
            segment_model: None,
            preview: Default::default(),
        }
    }
}

/// `$ZEDIT_HOME`, else the platform's config folder (`~/.config/zedit`).
pub fn config_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("ZEDIT_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    directories::ProjectDirs::from("", "", "zedit")
        .map(|d| d.config_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".zedit"))
}

/// Everything the studio reads at start.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    pub keymap: Keymap,
    pub theme: Theme,
    /// One line per broken file, naming it and the key at fault.
    pub errors: Vec<String>,
}

/// Loads settings, keymap and theme from `dir`, falling back per file.
pub fn load(dir: &Path) -> Loaded {
    let mut errors = Vec::new();
    let settings_path = dir.join("config.toml");
    let settings = match std::fs::read_to_string(&settings_path) {
        Err(_) => Settings::default(),
        Ok(text) => match toml::from_str::<Settings>(&text) {
            Ok(s) => s,
            Err(e) => {
                errors.push(format!(
                    "{}: {}; using the default settings",
                    settings_path.display(),
                    e.to_string()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
                Settings::default()
            }
        },
    };
    let (keymap, kerr) = Keymap::load(&dir.join("keymap.toml"));
    if let Some(e) = kerr {
        errors.push(format!("{e}; using the default keymap"));
    }
    let theme = match Theme::load(&settings.theme, Some(&dir.join("themes"))) {
        Ok(t) => t,
        Err(e) => {
            errors.push(format!("{e}; using the default theme"));
            Theme::default_theme()
        }
    };
    Loaded {
        settings,
        keymap,
        theme,
        errors,
    }
}
