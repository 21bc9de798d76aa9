//! Previews drawn into a `TestBackend` with the headless (half-blocks) previewer.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use image::{Rgba, RgbaImage};
use ratatui::{backend::TestBackend, buffer::Buffer, layout::Rect, style::Color, Terminal};
use zedit::core::{MaskShape, MaskSpec, Rect as Px};
use zedit::preview::{picker_with_protocol, Overlay, PreviewKey, Previewer, ProtocolType, Slot};

const RED: [u8; 4] = [230, 20, 20, 255];
const BLUE: [u8; 4] = [20, 20, 230, 255];
const GREEN: [u8; 4] = [20, 200, 20, 255];

fn write_split(dir: &Path, name: &str, left: [u8; 4], right: [u8; 4]) -> PreviewKey {
    let img = RgbaImage::from_fn(200, 100, |x, _| Rgba(if x < 100 { left } else { right }));
    let path = dir.join(name);
    img.save(&path).unwrap();
    PreviewKey::new(path, name.trim_end_matches(".png"))
}

/// Polls until the slot shows `key`; results of earlier requests may arrive first.
fn settle(p: &mut Previewer, slot: Slot, key: &PreviewKey) {
    let start = Instant::now();
    while p.shown(slot) != Some(key) {
        p.poll();
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "preview never became ready"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn draw(p: &mut Previewer, slot: Slot, w: u16, h: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| p.render(f, slot, Rect::new(0, 0, w, h)))
        .unwrap();
    terminal.backend().buffer().clone()
}

/// The colour a half-block cell shows in its lower half.
fn lower(buf: &Buffer, x: u16, y: u16) -> (u8, u8, u8) {
    match buf[(x, y)].bg {
        Color::Rgb(r, g, b) => (r, g, b),
        other => panic!("cell ({x},{y}) has no true colour: {other:?}"),
    }
}

fn text(buf: &Buffer) -> String {
    buf.content().iter().map(|c| c.symbol()).collect()
}

fn near(got: (u8, u8, u8), want: [u8; 4]) -> bool {
    let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).abs();
    d(got.0, want[0]) < 40 && d(got.1, want[1]) < 40 && d(got.2, want[2]) < 40
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn split_image_gives_red_cells_left_and_blue_right() {
    let tmp = dir();
    let key = write_split(tmp.path(), "split.png", RED, BLUE);
    let mut p = Previewer::headless((8, 16));
    assert_eq!(p.protocol_name(), "halfblocks");
    p.request(Slot::After, &key, Rect::new(0, 0, 40, 20));
    settle(&mut p, Slot::After, &key);
    let buf = draw(&mut p, Slot::After, 40, 20);
    // 200x100 in 40x20 cells of 8x16 px fits as 320x160 px: 40x10 cells, centred vertically.
    assert!(
        near(lower(&buf, 4, 10), RED),
        "left: {:?}",
        lower(&buf, 4, 10)
    );
    assert!(
        near(lower(&buf, 35, 10), BLUE),
        "right: {:?}",
        lower(&buf, 35, 10)
    );
    assert!(near(lower(&buf, 4, 5), RED), "top row of the image");
    assert_eq!(buf[(4, 2)].bg, Color::Reset, "above the image stays empty");
}

#[test]
fn overlay_tint_is_visible() {
    let tmp = dir();
    let plain = write_split(tmp.path(), "blue.png", BLUE, BLUE);
    let tinted = plain
        .clone()
        .with_overlay(Overlay::Spec(MaskSpec::new(MaskShape::rect(Px {
            x: 0,
            y: 0,
            w: 100,
            h: 100,
        }))));
    let mut p = Previewer::headless((8, 16));
    p.request(Slot::After, &tinted, Rect::new(0, 0, 40, 20));
    settle(&mut p, Slot::After, &tinted);
    let buf = draw(&mut p, Slot::After, 40, 20);
    let inside = lower(&buf, 5, 10);
    let outside = lower(&buf, 35, 10);
    assert!(
        inside.0 > outside.0 + 80,
        "tinted {inside:?} vs plain {outside:?}"
    );
    assert!(near(outside, BLUE));

    let ellipse = plain
        .clone()
        .with_overlay(Overlay::Spec(MaskSpec::new(MaskShape::ellipse(Px {
            x: 50,
            y: 25,
            w: 100,
            h: 50,
        }))));
    p.request(Slot::After, &ellipse, Rect::new(0, 0, 40, 20));
    settle(&mut p, Slot::After, &ellipse);
    let buf = draw(&mut p, Slot::After, 40, 20);
    assert!(
        lower(&buf, 20, 10).0 > 80,
        "centre of the ellipse is tinted"
    );
    assert!(near(lower(&buf, 1, 6), BLUE), "corner is not");
    assert_eq!(p.decode_count(), 1, "overlays reuse the cached downscale");
}

#[test]
fn mask_overlay_is_read_next_to_the_image() {
    let tmp = dir();
    let key = write_split(tmp.path(), "blue.png", BLUE, BLUE);
    let hex = "ab".repeat(32);
    let mask = image::GrayImage::from_fn(200, 100, |x, _| {
        image::Luma([if x >= 100 { 255 } else { 0 }])
    });
    mask.save(tmp.path().join(format!("{hex}.png"))).unwrap();
    let key = key.with_overlay(Overlay::mask_from_hex(&hex).unwrap());
    let mut p = Previewer::headless((8, 16));
    p.request(Slot::Before, &key, Rect::new(0, 0, 40, 20));
    settle(&mut p, Slot::Before, &key);
    let buf = draw(&mut p, Slot::Before, 40, 20);
    assert!(near(lower(&buf, 4, 10), BLUE));
    assert!(lower(&buf, 35, 10).0 > 80, "masked half is tinted");
}

#[test]
fn missing_file_gives_a_placeholder_naming_it() {
    let tmp = dir();
    let key = PreviewKey::new(tmp.path().join("nope.png"), "deadbeef");
    let mut p = Previewer::headless((8, 16));
    p.request(Slot::Before, &key, Rect::new(0, 0, 60, 10));
    let loading = draw(&mut p, Slot::Before, 60, 10);
    assert!(text(&loading).contains("nope.png"), "{}", text(&loading));
    settle(&mut p, Slot::Before, &key);
    let buf = draw(&mut p, Slot::Before, 60, 10);
    let shown = text(&buf);
    assert!(
        shown.contains("nope.png") && shown.contains("cannot read"),
        "{shown}"
    );
}

#[test]
fn corrupt_file_gives_a_placeholder() {
    let tmp = dir();
    let path: PathBuf = tmp.path().join("bad.png");
    std::fs::write(&path, b"not a png at all").unwrap();
    let key = PreviewKey::new(path, "bad");
    let mut p = Previewer::headless((8, 16));
    p.request(Slot::Before, &key, Rect::new(0, 0, 60, 10));
    settle(&mut p, Slot::Before, &key);
    let shown = text(&draw(&mut p, Slot::Before, 60, 10));
    assert!(
        shown.contains("bad.png") && shown.contains("decode"),
        "{shown}"
    );
}

#[test]
fn latest_request_wins() {
    let tmp = dir();
    let first = write_split(tmp.path(), "red.png", RED, RED);
    let second = write_split(tmp.path(), "green.png", GREEN, GREEN);
    let mut p = Previewer::headless((8, 16));
    let area = Rect::new(0, 0, 40, 20);
    p.request(Slot::After, &first, area);
    p.request(Slot::After, &second, area);
    settle(&mut p, Slot::After, &second);
    // Let any late result for the first request arrive: it must not replace the second.
    std::thread::sleep(Duration::from_millis(200));
    p.poll();
    assert_eq!(p.shown(Slot::After), Some(&second));
    let buf = draw(&mut p, Slot::After, 40, 20);
    assert!(
        near(lower(&buf, 20, 10), GREEN),
        "{:?}",
        lower(&buf, 20, 10)
    );
}

#[test]
fn cache_hits_do_not_decode_again() {
    let tmp = dir();
    let a = write_split(tmp.path(), "a.png", RED, BLUE);
    let b = write_split(tmp.path(), "b.png", GREEN, GREEN);
    let mut p = Previewer::headless((8, 16));
    let area = Rect::new(0, 0, 40, 20);
    p.request(Slot::After, &a, area);
    settle(&mut p, Slot::After, &a);
    p.request(Slot::After, &b, area);
    settle(&mut p, Slot::After, &b);
    assert_eq!((p.decode_count(), p.encode_count()), (2, 2));

    // Back to `a` at the same size: served from the encoded cache on the UI thread.
    p.request(Slot::After, &a, area);
    assert!(p.poll(), "a cache hit is ready at once");
    assert_eq!(p.shown(Slot::After), Some(&a));
    assert_eq!((p.decode_count(), p.encode_count()), (2, 2));

    // A repeated request is a no-op; a new size re-encodes from the kept decode.
    p.request(Slot::After, &a, area);
    assert!(!p.poll());
    p.request(Slot::After, &a, Rect::new(0, 0, 30, 12));
    let start = Instant::now();
    while p.encode_count() < 3 || !p.poll() {
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(p.decode_count(), 2);
}

#[test]
fn rendering_at_a_new_size_requests_that_size() {
    let tmp = dir();
    let key = write_split(tmp.path(), "split.png", RED, BLUE);
    let mut p = Previewer::headless((8, 16));
    p.request(Slot::After, &key, Rect::new(0, 0, 40, 20));
    settle(&mut p, Slot::After, &key);
    let encodes = p.encode_count();
    // The pane grew: the old (smaller) image is still drawn while the new size is encoded.
    let buf = draw(&mut p, Slot::After, 60, 30);
    assert!(near(lower(&buf, 10, 15), RED));
    let start = Instant::now();
    while p.encode_count() == encodes || !p.poll() {
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(2));
    }
    let buf = draw(&mut p, Slot::After, 60, 30);
    assert!(near(lower(&buf, 55, 15), BLUE), "now 60 cells wide");
}

#[test]
fn reset_re_encodes_without_decoding() {
    let tmp = dir();
    let key = write_split(tmp.path(), "split.png", RED, BLUE);
    let mut p = Previewer::headless((8, 16));
    p.request(Slot::After, &key, Rect::new(0, 0, 40, 20));
    settle(&mut p, Slot::After, &key);
    p.reset();
    assert!(p.poll(), "reset asks for a redraw");
    let start = Instant::now();
    while p.encode_count() < 2 {
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(p.decode_count(), 1);
}

#[test]
fn sixel_previews_emit_a_sixel_sequence() {
    let tmp = dir();
    let key = write_split(tmp.path(), "split.png", RED, BLUE);
    let mut p = Previewer::with_picker(picker_with_protocol((10, 20), ProtocolType::Sixel));
    assert!(p.protocol_name().starts_with("sixel"));
    p.request(Slot::After, &key, Rect::new(0, 0, 40, 20));
    settle(&mut p, Slot::After, &key);
    let buf = draw(&mut p, Slot::After, 40, 20);
    // 200x100 fits 400x200 px = 40x10 cells, centred: the sequence sits in the top-left cell.
    let symbol = buf[(0, 5)].symbol();
    assert!(
        symbol.contains("\x1bP"),
        "no sixel DCS in {:?}",
        &symbol[..symbol.len().min(40)]
    );
}
