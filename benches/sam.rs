//! MobileSAM at full size on the CPU with random weights (speed does not depend on their
//! values, so no download): the image embedding of a 1024-px image, and one further click
//! (prompt encoder, mask decoder, upscaling the three candidates to the image and thresholding).

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use criterion::{criterion_group, criterion_main, Criterion};
use image::RgbImage;
use std::time::Duration;
use zedit::segment::sam::{Prompt, Sam, SamConfig};

fn photo() -> RgbImage {
    RgbImage::from_fn(1024, 768, |x, y| {
        let v = ((x * 7 + y * 3) % 251) as u8;
        image::Rgb([v, (x / 4) as u8, (y / 3) as u8])
    })
}

fn model() -> Sam {
    let map = VarMap::new();
    let vb = VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu);
    Sam::new(SamConfig::mobile_sam(), vb).unwrap_or_else(|e| panic!("{e}"))
}

fn bench(c: &mut Criterion) {
    zedit::threads::fix_thread_count();
    let sam = model();
    let image = photo();
    c.bench_function("mobile_sam embed 1024x768", |b| {
        b.iter(|| sam.embed(&image).unwrap_or_else(|e| panic!("{e}")))
    });
    let emb = sam.embed(&image).unwrap_or_else(|e| panic!("{e}"));
    let prompt = Prompt {
        points: vec![(500.0, 400.0, true), (200.0, 100.0, false)],
        bbox: None,
    };
    c.bench_function("mobile_sam click (decode + upscale 3 masks)", |b| {
        b.iter(|| {
            let pred = sam.predict(&emb, &prompt).unwrap_or_else(|e| panic!("{e}"));
            let mut inside = 0usize;
            for i in 1..pred.iou.len() {
                inside += sam
                    .upscale(&emb, &pred, i)
                    .iter()
                    .filter(|&&v| v > 0.0)
                    .count();
            }
            inside
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(12));
    targets = bench
}
criterion_main!(benches);
