//! Shipped themes and the default keymap parse; broken user files are reported by file and key,
//! and the studio falls back to the defaults.

use crate::tui_support;

use zedit::tui::action::Command;
use zedit::tui::config;
use zedit::tui::key::Key;
use zedit::tui::keymap::{Context, Keymap, DEFAULT_KEYMAP};
use zedit::tui::theme::{Theme, BUILTIN};

#[test]
fn every_shipped_theme_and_the_default_keymap_parse() {
    for (name, _) in BUILTIN {
        Theme::load(name, None).unwrap_or_else(|e| panic!("theme {name}: {e}"));
    }
    let light = Theme::load("light", None).unwrap();
    let dark = Theme::default_theme();
    assert_ne!(light.fg, dark.fg);
    assert_eq!(
        light.error, dark.error,
        "light inherits what it does not set"
    );
    let km = Keymap::parse(DEFAULT_KEYMAP, "keymap-default.toml").unwrap();
    assert_eq!(
        km.lookup(Context::Sessions, "j".parse().unwrap()),
        Some(Command::Down)
    );
    assert_eq!(
        km.lookup(Context::Session, "q".parse().unwrap()),
        Some(Command::Quit),
        "falls back to global"
    );
    assert_eq!(
        km.lookup(Context::Input, "q".parse().unwrap()),
        None,
        "typing q in a line types q"
    );
    // Every binding has help text, so the help screen is complete.
    for ctx in Context::ALL {
        for b in km.bindings(ctx) {
            assert!(!b.desc.is_empty(), "{:?} {:?} has no desc", ctx, b.command);
        }
    }
}

#[test]
fn user_keymap_merges_over_defaults() {
    let user = r#"session = [ { on = "U", run = "undo", desc = "Undo (mine)" }, { on = "u", run = "replay", desc = "Replay" } ]"#;
    let km = Keymap::with_user(user, "keymap.toml").unwrap();
    let k = |s: &str| s.parse::<Key>().unwrap();
    assert_eq!(km.lookup(Context::Session, k("U")), Some(Command::Undo));
    assert_eq!(km.lookup(Context::Session, k("u")), Some(Command::Replay));
    assert_eq!(
        km.lookup(Context::Session, k("j")),
        Some(Command::Down),
        "others kept"
    );
}

#[test]
fn broken_user_files_name_the_file_and_key_then_fall_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("themes")).unwrap();
    std::fs::write(dir.join("config.toml"), "theme = \"mine\"\n").unwrap();
    std::fs::write(
        dir.join("themes/mine.toml"),
        "inherits = \"default\"\naccent = \"blurple\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("keymap.toml"),
        "sessions = [ { on = \"x\", run = \"launch\", desc = \"?\" } ]\n",
    )
    .unwrap();
    let loaded = config::load(dir);
    assert_eq!(loaded.theme, Theme::default_theme());
    let all = loaded.errors.join("\n");
    assert!(
        all.contains("mine.toml: key 'accent': 'blurple' is not a colour"),
        "{all}"
    );
    assert!(
        all.contains("keymap.toml: [sessions] entry 1: run: unknown command 'launch'"),
        "{all}"
    );
    assert!(all.contains("using the default keymap"), "{all}");

    std::fs::write(dir.join("config.toml"), "them = \"light\"\n").unwrap();
    let loaded = config::load(dir);
    assert!(
        loaded.errors[0].contains("config.toml") && loaded.errors[0].contains("them"),
        "{:?}",
        loaded.errors
    );

    // The studio starts anyway and shows the error.
    std::fs::write(dir.join("config.toml"), "theme = \"mine\"\n").unwrap();
    let loaded = config::load(dir);
    let mut app = zedit::tui::App::new(
        dir.join("sessions"),
        loaded,
        Box::new(tui_support::NullBackend::default()),
        Box::new(zedit::tui::PlaceholderPane::default()),
    );
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 20)).unwrap();
    term.draw(|f| app.draw(f)).unwrap();
    let screen = tui_support::buffer_text(term.backend());
    assert!(
        screen.contains("error:") && screen.contains("mine.toml"),
        "{screen}"
    );
}

#[test]
fn a_user_theme_can_inherit_a_builtin() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("sea.toml"),
        "inherits = \"light\"\naccent = \"#005f87\"\n",
    )
    .unwrap();
    let t = Theme::load("sea", Some(tmp.path())).unwrap();
    assert_eq!(t.accent, ratatui::style::Color::Rgb(0, 0x5f, 0x87));
    assert_eq!(t.fg, Theme::load("light", None).unwrap().fg);
}

/// sRGB of a terminal colour in xterm's palette; `None` for the terminal's own default.
fn rgb(c: ratatui::style::Color) -> Option<[u8; 3]> {
    use ratatui::style::Color::*;
    const BASE: [[u8; 3]; 16] = [
        [0, 0, 0],
        [205, 0, 0],
        [0, 205, 0],
        [205, 205, 0],
        [0, 0, 238],
        [205, 0, 205],
        [0, 205, 205],
        [229, 229, 229],
        [127, 127, 127],
        [255, 0, 0],
        [0, 255, 0],
        [255, 255, 0],
        [92, 92, 255],
        [255, 0, 255],
        [0, 255, 255],
        [255, 255, 255],
    ];
    let indexed = |i: u8| -> [u8; 3] {
        match i {
            0..=15 => BASE[i as usize],
            16..=231 => {
                let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
                let n = i - 16;
                [level(n / 36), level(n / 6 % 6), level(n % 6)]
            }
            _ => {
                let g = 8 + 10 * (i - 232);
                [g, g, g]
            }
        }
    };
    Some(match c {
        Reset => return None,
        Black => BASE[0],
        Red => BASE[1],
        Green => BASE[2],
        Yellow => BASE[3],
        Blue => BASE[4],
        Magenta => BASE[5],
        Cyan => BASE[6],
        Gray => BASE[7],
        DarkGray => BASE[8],
        LightRed => BASE[9],
        LightGreen => BASE[10],
        LightYellow => BASE[11],
        LightBlue => BASE[12],
        LightMagenta => BASE[13],
        LightCyan => BASE[14],
        White => BASE[15],
        Indexed(i) => indexed(i),
        Rgb(r, g, b) => [r, g, b],
    })
}

/// WCAG relative luminance.
fn luminance(c: [u8; 3]) -> f64 {
    let lin = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.04045 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
}

fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (x, y) = (luminance(a) + 0.05, luminance(b) + 0.05);
    x.max(y) / x.min(y)
}

#[test]
fn every_shipped_theme_reads_on_light_and_dark_terminals() {
    const WHITE: [u8; 3] = [255, 255, 255];
    const BLACK: [u8; 3] = [0, 0, 0];
    const MIN: f64 = 3.0;
    for (name, _) in BUILTIN {
        let t = Theme::load(name, None).unwrap();
        // A theme that leaves the background to the terminal must read on both kinds.
        let backgrounds = match rgb(t.bg) {
            Some(bg) => vec![bg],
            None => vec![WHITE, BLACK],
        };
        let text = [
            ("fg", t.fg),
            ("muted", t.muted),
            ("accent", t.accent),
            ("border", t.border),
            ("border_focus", t.border_focus),
            ("head", t.head),
            ("ok", t.ok),
            ("warn", t.warn),
            ("error", t.error),
            ("running", t.running),
            ("mask", t.mask),
        ];
        for (key, colour) in text {
            match rgb(colour) {
                // The terminal's own foreground on its own background always reads.
                None => assert!(
                    rgb(t.bg).is_none(),
                    "{name}: {key} is the terminal's default on a painted background"
                ),
                Some(c) => {
                    for bg in &backgrounds {
                        let k = contrast(c, *bg);
                        assert!(
                            k >= MIN,
                            "{name}: {key} {colour:?} on {bg:?} has contrast {k:.2}"
                        );
                    }
                }
            }
        }
        for (key, fg, bg) in [
            ("selection", t.selection_fg, t.selection_bg),
            ("status", t.status_fg, t.status_bg),
        ] {
            let (f, b) = (rgb(fg).expect("painted"), rgb(bg).expect("painted"));
            let k = contrast(f, b);
            assert!(
                k >= 4.5,
                "{name}: {key} {fg:?} on {bg:?} has contrast {k:.2}"
            );
        }
    }
    let default = Theme::default_theme();
    assert_eq!(
        default.fg,
        ratatui::style::Color::Reset,
        "the terminal's own text colour"
    );
    assert_eq!(default.bg, ratatui::style::Color::Reset);
}
