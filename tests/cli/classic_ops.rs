//! The classic engine's ops end to end, through the `Engine` trait as the worker runs them.

use image::{GrayImage, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use zedit::core::{EditParams, Op, Region};
use zedit::engine::classic::ClassicEngine;
use zedit::engine::{EditRequest, Engine, EngineError, Flow};

/// A photo-like test image: a soft gradient with some texture, so ops have detail to keep.
fn photo(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let t = ((x * 7 + y * 13) % 23) as u8;
        Rgb([
            90 + (x * 80 / w) as u8 + t,
            100 + (y * 60 / h) as u8 + t,
            110 + t,
        ])
    })
}

fn request(op: Op, instruction: &str, params: EditParams) -> EditRequest {
    EditRequest {
        op,
        instruction: instruction.into(),
        image: photo(96, 64),
        mask: None,
        overlay: None,
        params,
        recipe: None,
    }
}

fn run(req: &EditRequest) -> Result<RgbImage, EngineError> {
    ClassicEngine::new().run(req, &mut |_| Flow::Continue)
}

fn mean(img: &RgbImage, x0: u32, x1: u32, c: usize) -> f64 {
    let mut sum = 0f64;
    let mut n = 0f64;
    for y in 0..img.height() {
        for x in x0..x1 {
            sum += img.get_pixel(x, y).0[c] as f64;
            n += 1.0;
        }
    }
    sum / n
}

#[test]
fn relight_warm_raises_red_over_blue() {
    let req = request(Op::Relight, "暖色调", EditParams::default());
    let out = run(&req).unwrap();
    let before = mean(&req.image, 0, 96, 0) / mean(&req.image, 0, 96, 2);
    let after = mean(&out, 0, 96, 0) / mean(&out, 0, 96, 2);
    assert!(after > before * 1.05, "R/B {before:.3} -> {after:.3}");
}

#[test]
fn directional_light_is_brighter_on_the_named_side() {
    for (instruction, lit_left) in [
        ("sunlight from the window on the left", true),
        ("窗外阳光从右侧洒入", false),
        ("light from the right", false),
    ] {
        let req = request(Op::Relight, instruction, EditParams::default());
        let out = run(&req).unwrap();
        let gain = |x0, x1| mean(&out, x0, x1, 1) - mean(&req.image, x0, x1, 1);
        let (left, right) = (gain(0, 16), gain(80, 96));
        assert_eq!(
            left > right,
            lit_left,
            "{instruction}: left {left:.1} right {right:.1}"
        );
    }
    // A window rectangle given as the region is where the light comes from.
    let p = EditParams {
        region: Some("70,10,20,30".parse().unwrap()),
        ..Default::default()
    };
    let req = request(Op::Relight, "window light", p);
    let out = run(&req).unwrap();
    assert!(mean(&out, 80, 96, 1) > mean(&out, 0, 16, 1) + 10.0);
}

#[test]
fn relight_inside_a_mask_leaves_the_outside() {
    let mut mask = GrayImage::new(96, 64);
    for y in 0..64 {
        for x in 0..30 {
            mask.put_pixel(x, y, Luma([255]));
        }
    }
    let mut req = request(Op::Relight, "much brighter", EditParams::default());
    req.mask = Some(mask);
    let out = run(&req).unwrap();
    assert!(mean(&out, 0, 30, 1) > mean(&req.image, 0, 30, 1) + 10.0);
    for x in 30..96 {
        assert_eq!(out.get_pixel(x, 5), req.image.get_pixel(x, 5));
    }
}

#[test]
fn recolor_changes_hue_inside_and_keeps_outside_bytes() {
    let mut mask = GrayImage::new(96, 64);
    for y in 20..44 {
        for x in 30..60 {
            mask.put_pixel(x, y, Luma([255]));
        }
    }
    let mut req = request(Op::Recolor, "把衣服改成深棕色", EditParams::default());
    req.mask = Some(mask.clone());
    let out = run(&req).unwrap();
    let p = out.get_pixel(45, 30).0;
    assert!(p[0] > p[2] && p[0] < 140, "dark brown inside: {p:?}");
    for (x, y, m) in mask.enumerate_pixels() {
        if m.0[0] == 0 {
            assert_eq!(out.get_pixel(x, y), req.image.get_pixel(x, y), "({x}, {y})");
        }
    }
    // Named in params, through a region, with grow and feather: still untouched far away.
    let p = EditParams {
        color: Some("light green".into()),
        region: Some(Region::Right),
        grow: 2,
        feather: 3,
        ..Default::default()
    };
    let req = request(Op::Recolor, "recolor", p);
    let out = run(&req).unwrap();
    let q = out.get_pixel(90, 30).0;
    assert!(q[1] > q[0] && q[1] > q[2], "green on the right: {q:?}");
    assert_eq!(out.get_pixel(5, 30), req.image.get_pixel(5, 30));
}

#[test]
fn add_places_the_overlay_where_asked() {
    let ov = RgbaImage::from_pixel(8, 6, Rgba([250, 20, 20, 255]));
    let p = EditParams {
        at: Some((10, 12)),
        ..Default::default()
    };
    let mut req = request(Op::Add, "add the logo", p);
    req.overlay = Some(ov.clone());
    let out = run(&req).unwrap();
    assert_eq!(out.get_pixel(10, 12).0, [250, 20, 20]);
    assert_eq!(out.get_pixel(17, 17).0, [250, 20, 20]);
    assert_eq!(out.get_pixel(18, 12), req.image.get_pixel(18, 12));
    assert_eq!(out.get_pixel(9, 12), req.image.get_pixel(9, 12));
    // Centred in a region.
    let p = EditParams {
        region: Some(Region::BottomRight),
        ..Default::default()
    };
    let mut req = request(Op::Add, "add the logo", p);
    req.overlay = Some(ov);
    let out = run(&req).unwrap();
    // Bottom-right quarter is x 48..96, y 32..64; the 8x6 box is centred at (72, 48).
    assert_eq!(out.get_pixel(68, 45).0, [250, 20, 20]);
    assert_eq!(out.get_pixel(75, 50).0, [250, 20, 20]);
    assert_eq!(out.get_pixel(66, 45), req.image.get_pixel(66, 45));
}

#[test]
fn add_renders_cjk_text_in_the_expected_box() {
    let p = EditParams {
        text: Some("你好".into()),
        size: Some(24.0),
        color: Some("white".into()),
        at: Some((20, 20)),
        ..Default::default()
    };
    let req = request(Op::Add, "写字", p);
    let out = run(&req).unwrap();
    let mut inside = 0;
    for (x, y, px) in out.enumerate_pixels() {
        if px != req.image.get_pixel(x, y) {
            assert!(
                (20..20 + 52).contains(&x) && (20..20 + 30).contains(&y),
                "ink at ({x}, {y})"
            );
            inside += 1;
        }
    }
    assert!(inside > 60, "ink pixels: {inside}");
    assert!(
        out.pixels().any(|p| p.0 == [244, 244, 244]),
        "solid white strokes"
    );
}

#[test]
fn every_op_is_deterministic() {
    let ov = RgbaImage::from_fn(9, 7, |x, y| Rgba([x as u8 * 20, y as u8 * 30, 90, 200]));
    let cases = [
        (
            Op::Relight,
            "golden hour light from the top right, more contrast",
            EditParams::default(),
        ),
        (
            Op::Relight,
            "自动白平衡，提亮暗部",
            EditParams {
                feather: 4,
                ..Default::default()
            },
        ),
        (
            Op::Recolor,
            "make it navy",
            EditParams {
                region: Some(Region::Center),
                feather: 5,
                ..Default::default()
            },
        ),
        (
            Op::Add,
            "title",
            EditParams {
                text: Some("Hello 世界".into()),
                size: Some(14.0),
                ..Default::default()
            },
        ),
        (
            Op::Add,
            "logo",
            EditParams {
                scale: Some(1.7),
                at: Some((3, 4)),
                ..Default::default()
            },
        ),
    ];
    for (op, instruction, params) in cases {
        let mut req = request(op, instruction, params);
        req.overlay = Some(ov.clone());
        let a = run(&req).unwrap();
        let b = run(&req).unwrap();
        assert_eq!(a.as_raw(), b.as_raw(), "{op} {instruction}");
        assert_ne!(
            a.as_raw(),
            req.image.as_raw(),
            "{op} {instruction} changed nothing"
        );
    }
}

fn bad_input(req: &EditRequest, needle: &str) {
    match run(req) {
        Err(EngineError::BadInput(msg)) => assert!(msg.contains(needle), "{msg}"),
        other => panic!("expected bad input with '{needle}', got {other:?}"),
    }
}

#[test]
fn rejects_bad_input_with_clear_messages() {
    let mut req = request(Op::Recolor, "red", EditParams::default());
    req.mask = Some(GrayImage::new(10, 10));
    bad_input(&req, "10x10");

    req.mask = Some(GrayImage::from_pixel(96, 64, Luma([255])));
    bad_input(&req, "whole image");
    let req = request(
        Op::Recolor,
        "red",
        EditParams {
            region: Some(Region::Background),
            ..Default::default()
        },
    );
    bad_input(&req, "whole image");

    bad_input(
        &request(Op::Recolor, "make it red", EditParams::default()),
        "--mask or --region",
    );
    let p = EditParams {
        color: Some("blurple".into()),
        region: Some(Region::Left),
        ..Default::default()
    };
    bad_input(
        &request(Op::Recolor, "recolor", p),
        "unknown colour 'blurple'",
    );
    let p = EditParams {
        region: Some(Region::Left),
        ..Default::default()
    };
    bad_input(&request(Op::Recolor, "make it nicer", p), "no colour");

    let mut req = request(Op::Relight, "brighter", EditParams::default());
    req.mask = Some(GrayImage::new(96, 64));
    bad_input(&req, "empty");
    bad_input(
        &request(Op::Relight, "make it pop", EditParams::default()),
        "no light change",
    );

    let p = EditParams {
        text: Some("far too long for this".into()),
        size: Some(40.0),
        ..Default::default()
    };
    bad_input(&request(Op::Add, "caption", p), "smaller --size");
    let p = EditParams {
        text: Some("hi".into()),
        size: Some(30.0),
        at: Some((90, 0)),
        ..Default::default()
    };
    bad_input(&request(Op::Add, "caption", p), "runs off");
}

#[test]
fn refuses_what_needs_a_generative_model() {
    let cases = [
        (Op::Add, "add a woman"),
        (Op::Add, "加一只猫"),
        (Op::Restyle, "as an oil painting"),
        (Op::Replace, "replace the dog with a cat"),
        (Op::Edit, "make her smile"),
    ];
    for (op, instruction) in cases {
        match run(&request(op, instruction, EditParams::default())) {
            Err(EngineError::Unsupported(msg)) => {
                assert!(
                    msg.contains("--engine zimage") && msg.contains(instruction),
                    "{msg}"
                )
            }
            other => panic!("{op} {instruction}: expected unsupported, got {other:?}"),
        }
    }
}
