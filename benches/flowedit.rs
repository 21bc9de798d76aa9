//! FlowEdit on the tiny Z-Image (CPU): a whole edit of one step and of eight, whose difference
//! over seven is the cost of one FlowEdit step (two transformer calls and the latent maths), and
//! the transformer calls each op's default recipe makes at 8 steps.

use candle_core::{DType, Device};
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;
use zedit::core::{EditParams, FlowEditParams, MaskSource};
use zedit::engine::zimage::{imageio, FlowEditJob, Noise, Pipeline};
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

/// Transformer calls of each op's recipe at 8 steps with the planner's strengths.
fn print_calls() {
    let examples = [
        "删除男人,保留沙发",
        "在桌子上放一盆绿植",
        "把狗换成猫",
        "把红色T恤换成磨砂黑色皮夹克",
        "把墙刷成蓝色",
        "窗外阳光洒入",
        "改成吉卜力动画风",
        "让她笑一笑",
    ];
    for text in examples {
        let plan = zedit::plan::plan(text).unwrap_or_else(|e| panic!("{e}"));
        for step in &plan.steps {
            for mask in [MaskSource::None, MaskSource::File] {
                let r = zedit::recipe::derive(step, mask);
                let params = EditParams {
                    strength: r.strength,
                    steps: 8,
                    ..Default::default()
                };
                println!(
                    "calls at 8 steps: {:<7} mask {:<4} {:<23} strength {:.2}: {:>2}  ({text})",
                    step.op.as_str(),
                    mask.as_str(),
                    r.mode.as_str(),
                    r.strength,
                    zedit::recipe::transformer_calls(&r, &params)
                );
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    print_calls();
    let mut p = match Pipeline::load(&root().join("tiny-zimage"), &Device::Cpu, DType::F32) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("skipping flowedit benches: {e} (set ZEDIT_FIXTURES)");
            return;
        }
    };
    let img = image::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/flowedit/input.png"
    ))
    .map(|i| i.to_rgb8())
    .unwrap_or_else(|e| panic!("{e}"));
    let size = imageio::model_size(img.width(), img.height()).unwrap_or_else(|e| panic!("{e}"));
    let image = imageio::image_tensor(&img, size, &Device::Cpu).unwrap_or_else(|e| panic!("{e}"));
    for n_max in [1u32, 8] {
        let job = FlowEditJob {
            source_prompt: "红色T恤".into(),
            target_prompt: "磨砂黑色皮夹克".into(),
            negative_prompt: None,
            params: FlowEditParams {
                n_max,
                n_min: 0,
                n_avg: 1,
                source_guidance: 0.0,
                target_guidance: 0.0,
            },
            steps: 8,
            image: image.clone(),
            mask: None,
            noise: Noise::Seeded(1),
        };
        c.bench_function(&format!("flowedit tiny 80x48, {n_max} of 8 steps"), |b| {
            b.iter(|| {
                p.run_flowedit(&job, &mut |_| Flow::Continue)
                    .unwrap_or_else(|e| panic!("{e}"))
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
