//! Preview encode budget: a 1024x1024 image into an 80x40-cell pane, downscale + encode
//! (decode excluded), for half-blocks and sixel.

use std::path::Path;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use image::{Rgba, RgbaImage};
use ratatui::layout::Size;
use zedit::preview::{encode_for_cells, picker_with_protocol, prepare_for_cells, ProtocolType};

/// A photo-like test card: smooth gradients plus hard edges, so the sixel palette has work.
fn test_card() -> RgbaImage {
    RgbaImage::from_fn(1024, 1024, |x, y| {
        let ring = ((x as i32 - 512).pow(2) + (y as i32 - 512).pow(2)) < 300 * 300;
        let r = (x / 4) as u8;
        let g = (y / 4) as u8;
        let b = if ring { 255 } else { ((x ^ y) & 0xff) as u8 };
        Rgba([r, g, b, 255])
    })
}

fn bench(c: &mut Criterion) {
    let image = test_card();
    let cells = Size::new(80, 40);
    let path = Path::new("bench.png");
    let mut group = c.benchmark_group("preview_encode_1024_into_80x40");
    group.sample_size(20);
    for (name, protocol) in [
        ("halfblocks", ProtocolType::Halfblocks),
        ("sixel", ProtocolType::Sixel),
        ("kitty", ProtocolType::Kitty),
    ] {
        // A common cell size; the pane is then 800x800 pixels for the graphics protocols.
        let picker = picker_with_protocol((10, 20), protocol);
        group.bench_function(name, |b| {
            b.iter(|| encode_for_cells(&picker, black_box(&image), cells, path))
        });
    }
    // The downscale alone, to separate it from the protocol encoders' share.
    let picker = picker_with_protocol((10, 20), ProtocolType::Sixel);
    group.bench_function("downscale_only_800x800", |b| {
        b.iter(|| prepare_for_cells(&picker, black_box(&image), cells))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
