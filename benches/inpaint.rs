//! Classic delete on 1 megapixel with a 5% hole (budget: 1.5 s on the 2-core reference machine)
//! and with a 25% hole (budget: 6 s).

use criterion::{criterion_group, criterion_main, Criterion};
use image::{GrayImage, Luma, Rgb, RgbImage};
use zedit::core::{EditParams, Op};
use zedit::engine::classic::ClassicEngine;
use zedit::engine::{EditRequest, Engine, Flow};

/// 1024x1024 bricks with per-brick tint and grain, and a disc hole of `frac` of the area.
fn case(frac: f64) -> EditRequest {
    let (w, h) = (1024u32, 1024u32);
    let image = RgbImage::from_fn(w, h, |x, y| {
        let row = y / 20;
        let xs = x + (row % 2) * 20;
        let grain = ((x * 7919 + y * 104_729) % 11) as u8;
        if y % 20 < 3 || xs % 40 < 3 {
            Rgb([200, 195, 185])
        } else {
            let tint = ((xs / 40 * 37 + row * 91) % 30) as u8;
            Rgb([150 + tint + grain, 60 + tint / 2, 45 + grain])
        }
    });
    let r = (frac * f64::from(w * h) / std::f64::consts::PI).sqrt();
    let mask = GrayImage::from_fn(w, h, |x, y| {
        let d = (f64::from(x) - 500.0).hypot(f64::from(y) - 530.0);
        Luma([if d < r { 255 } else { 0 }])
    });
    EditRequest {
        op: Op::Delete,
        instruction: "delete".into(),
        image,
        mask: Some(mask),
        overlay: None,
        params: EditParams::default(),
        recipe: None,
    }
}

fn bench(c: &mut Criterion) {
    let mut engine = ClassicEngine::new();
    let mut g = c.benchmark_group("classic_delete");
    g.sample_size(10);
    for (name, frac) in [("1mp_5pct_hole", 0.05), ("1mp_25pct_hole", 0.25)] {
        let req = case(frac);
        g.bench_function(name, |b| {
            b.iter(|| {
                engine
                    .run(&req, &mut |_| Flow::Continue)
                    .map(|img| img.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
