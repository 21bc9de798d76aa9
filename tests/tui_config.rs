//! Shipped themes and the default keymap parse; broken user files are reported by file and key,
//! and the studio falls back to the defaults.

mod tui_support;

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
