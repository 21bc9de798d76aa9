//! Benchmarks of the classic engine's ops on a 1-megapixel image (budgets: relight < 30 ms,
//! recolor < 50 ms).

use criterion::{criterion_group, criterion_main, Criterion};
use image::{GrayImage, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use std::hint::black_box;
use zedit::core::{EditParams, Op, Region};
use zedit::engine::classic::ClassicEngine;
use zedit::engine::{EditRequest, Engine, Flow};

const W: u32 = 1024;
const H: u32 = 1024;

fn photo() -> RgbImage {
    RgbImage::from_fn(W, H, |x, y| {
        let t = ((x * 7 + y * 13) % 31) as u8;
        Rgb([
            60 + (x / 8) as u8 / 2 + t,
            70 + (y / 8) as u8 / 2 + t,
            90 + t,
        ])
    })
}

fn request(op: Op, instruction: &str, params: EditParams) -> EditRequest {
    EditRequest {
        op,
        instruction: instruction.into(),
        image: photo(),
        mask: None,
        overlay: None,
        params,
        recipe: None,
    }
}

fn bench_op(c: &mut Criterion, name: &str, req: EditRequest) {
    let mut engine = ClassicEngine::new();
    c.bench_function(name, |b| {
        b.iter(|| {
            engine
                .run(black_box(&req), &mut |_| Flow::Continue)
                .expect(name)
        })
    });
}

fn classic(c: &mut Criterion) {
    bench_op(
        c,
        "relight_exposure_warm_1mp",
        request(Op::Relight, "brighter and warmer", EditParams::default()),
    );
    bench_op(
        c,
        "relight_directional_1mp",
        request(
            Op::Relight,
            "sunlight from the window on the left, more contrast",
            EditParams::default(),
        ),
    );
    // An object mask covering a disc of about 40% of the frame, feathered.
    let mask = GrayImage::from_fn(W, H, |x, y| {
        let (dx, dy) = (x as i64 - 512, y as i64 - 512);
        Luma([if dx * dx + dy * dy < 370 * 370 {
            255
        } else {
            0
        }])
    });
    let mut req = request(
        Op::Recolor,
        "dark brown",
        EditParams {
            feather: 8,
            ..Default::default()
        },
    );
    req.mask = Some(mask);
    bench_op(c, "recolor_masked_40pct_1mp", req);
    let p = EditParams {
        region: Some(Region::Left),
        grow: 20,
        feather: 30,
        ..Default::default()
    };
    bench_op(
        c,
        "recolor_region_half_grow_feather_1mp",
        request(Op::Recolor, "navy", p),
    );
    let mut req = request(
        Op::Add,
        "logo",
        EditParams {
            scale: Some(1.5),
            ..Default::default()
        },
    );
    req.overlay = Some(RgbaImage::from_pixel(200, 120, Rgba([200, 30, 30, 180])));
    bench_op(c, "add_overlay_1mp", req);
    let p = EditParams {
        text: Some("你好 zedit".into()),
        size: Some(96.0),
        ..Default::default()
    };
    bench_op(c, "add_text_1mp", request(Op::Add, "caption", p));
}

criterion_group!(benches, classic);
criterion_main!(benches);
