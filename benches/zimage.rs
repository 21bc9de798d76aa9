//! Tiny Z-Image on the CPU: one transformer step and one whole img2img edit (the reference
//! fixtures' model, so the figures track our own overhead, not a real model's FLOPs).

use candle_core::{DType, Device, Tensor};
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;
use zedit::engine::zimage::{imageio, Init, Job, Noise, Pipeline};
use zedit::engine::Flow;

fn root() -> PathBuf {
    std::env::var_os("ZEDIT_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/fixtures/zimage-tiny"
            ))
        })
}

fn bench(c: &mut Criterion) {
    let mut p = match Pipeline::load(&root().join("tiny-zimage"), &Device::Cpu, DType::F32) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("skipping zimage benches: {e} (set ZEDIT_FIXTURES)");
            return;
        }
    };
    let cap_feats = p
        .encode_prompt("A small wooden boat on a calm lake at sunrise")
        .unwrap_or_else(|e| panic!("{e}"));
    for side in [64usize, 256] {
        let x = Tensor::randn(0f32, 1.0, (16, side / 8, side / 8), &Device::Cpu)
            .unwrap_or_else(|e| panic!("{e}"));
        c.bench_function(
            &format!("zimage tiny transformer step {side}x{side}"),
            |b| {
                b.iter(|| {
                    let cap = p
                        .transformer()
                        .caption(&cap_feats)
                        .unwrap_or_else(|e| panic!("{e}"));
                    p.transformer()
                        .forward(&x, 0.25, &cap)
                        .unwrap_or_else(|e| panic!("{e}"))
                })
            },
        );
    }
    let img = image::open(root().join("fixtures/input.png"))
        .map(|i| i.to_rgb8())
        .unwrap_or_else(|e| panic!("{e}"));
    let size = imageio::model_size(img.width(), img.height()).unwrap_or_else(|e| panic!("{e}"));
    let image = imageio::image_tensor(&img, size, &Device::Cpu).unwrap_or_else(|e| panic!("{e}"));
    let job = Job {
        prompt: "A small wooden boat on a calm lake at sunrise".into(),
        negative_prompt: None,
        guidance: 0.0,
        cfg_truncation: 1.0,
        cfg_normalization: 0.0,
        steps: 8,
        strength: 0.6,
        init: Init::Image { image, mask: None },
        noise: Noise::Seeded(1),
    };
    c.bench_function("zimage tiny img2img 64x64, 8 steps at strength 0.6", |b| {
        b.iter(|| {
            p.run(&job, &mut |_| Flow::Continue)
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
