//! Parsers that cannot be crashed: session.toml loading, the worker protocol's line reader and
//! message parsers, and the keymap and theme files take arbitrary bytes and give a value or an
//! error, never a panic (a hang would keep this test from finishing).

use proptest::prelude::*;
use std::io::BufReader;
use std::path::Path;
use zedit::session::SessionDoc;
use zedit::tui::keymap::Keymap;
use zedit::tui::theme::Theme;
use zedit::worker::proto::{parse_event, parse_request, read_line, Line};

const SESSION: &str = include_str!("../../sessions/beach/session.toml");
const THEME: &str = include_str!("../../themes/light.toml");
const KEYMAP: &str = r#"session = [ { on = "U", run = "undo", desc = "Undo" }, { on = "<C-r>", run = "replay", desc = "Replay" } ]"#;
const REQUEST: &str = r#"{"type":"Submit","job":{"session_dir":"/tmp/s","request":{"parent":null,"op":"relight","instruction":"warm","params":{"strength":0.6,"steps":8,"cfg":0.0,"seed":1}},"engine":"classic"}}"#;
const EVENT: &str =
    r#"{"type":"Failed","job_id":3,"kind":"out_of_memory","message":"CUDA","step_id":2}"#;

/// A valid text with a few bytes changed, cut short, or spliced with arbitrary bytes: mostly
/// well-formed, so the parsers get past their first line.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    (
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        any::<prop::sample::Index>(),
        prop::collection::vec(any::<u8>(), 0..16),
    )
        .prop_map(move |(flips, cut, splice)| {
            let mut bytes = base.as_bytes().to_vec();
            for (i, b) in flips {
                let i = i.index(bytes.len());
                bytes[i] = b;
            }
            let at = cut.index(bytes.len() + 1);
            bytes.truncate(at);
            bytes.extend(splice);
            String::from_utf8_lossy(&bytes).into_owned()
        })
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..512)
        .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn session_files_never_panic(t in prop_oneof![text(), mutated(SESSION)]) {
        let _ = SessionDoc::parse(&t, Path::new("session.toml"));
    }

    #[test]
    fn protocol_lines_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        limit in 1usize..64,
        capacity in 1usize..32,
    ) {
        let mut reader = BufReader::with_capacity(capacity, &bytes[..]);
        let mut lines = 0;
        loop {
            match read_line(&mut reader, limit).unwrap() {
                Line::Eof => break,
                Line::TooLong => {}
                Line::Text(t) => {
                    prop_assert!(t.len() <= limit * 3, "a line longer than the limit");
                    let _ = parse_request(&t);
                    let _ = parse_event(t.as_bytes());
                }
            }
            lines += 1;
            prop_assert!(lines <= bytes.len() + 1, "the reader does not advance");
        }
    }

    #[test]
    fn protocol_messages_never_panic(
        req in prop_oneof![text(), mutated(REQUEST)],
        ev in prop_oneof![text(), mutated(EVENT)],
    ) {
        let _ = parse_request(&req);
        let _ = parse_event(ev.as_bytes());
    }

    #[test]
    fn keymap_and_theme_files_never_panic(
        k in prop_oneof![text(), mutated(KEYMAP)],
        t in prop_oneof![text(), mutated(THEME)],
    ) {
        let _ = Keymap::with_user(&k, "keymap.toml");
        let _ = Theme::parse(&t, "themes/mine.toml");
    }
}

#[test]
fn the_unmutated_inputs_parse() {
    assert!(SessionDoc::parse(SESSION, Path::new("session.toml")).is_ok());
    assert!(
        parse_request(REQUEST).is_ok(),
        "{:?}",
        parse_request(REQUEST)
    );
    assert!(parse_event(EVENT.as_bytes()).is_ok());
    assert!(Keymap::with_user(KEYMAP, "keymap.toml").is_ok());
    assert!(Theme::parse(THEME, "themes/light.toml").is_ok());
}
