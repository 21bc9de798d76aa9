//! The zimage engine end to end on the tiny model: img2img and inpainting through
//! `engine::open` and `Engine::run`, seeded determinism, progress and cancellation.
#![cfg(feature = "zimage")]

use crate::common;

use image::{GrayImage, RgbImage};
use std::path::PathBuf;
use zedit::core::{EditParams, Op};
use zedit::engine::{self, EditRequest, EngineError, EngineOptions, Flow};

fn root() -> PathBuf {
    common::zimage_fixtures()
}

fn open() -> Box<dyn engine::Engine> {
    let opts = EngineOptions {
        name: "zimage".into(),
        model: Some(root().join("tiny-zimage")),
        ..Default::default()
    };
    engine::open(&opts).unwrap()
}

fn input() -> RgbImage {
    image::open(root().join("fixtures/input.png"))
        .unwrap()
        .to_rgb8()
}

fn mask() -> GrayImage {
    image::open(root().join("fixtures/mask.png"))
        .unwrap()
        .to_luma8()
}

fn request(mask: Option<GrayImage>, seed: u64) -> EditRequest {
    EditRequest {
        op: Op::Replace,
        instruction: "A small wooden boat on a calm lake at sunrise".into(),
        image: input(),
        mask,
        overlay: None,
        params: EditParams {
            strength: 0.75,
            steps: 4,
            seed,
            ..Default::default()
        },
        recipe: None,
    }
}

#[test]
fn img2img_is_seeded_and_reports_every_step() {
    let mut e = open();
    let id = e.id();
    assert_eq!(id.name, "zimage");
    assert_eq!(id.model_digest.as_deref().map(str::len), Some(64));
    let mut seen = Vec::new();
    let a = e
        .run(&request(None, 11), &mut |p| {
            seen.push((p.step, p.total));
            Flow::Continue
        })
        .unwrap();
    // strength 0.75 of 4 steps: t_start 1, three steps run.
    assert_eq!(seen, vec![(1, 3), (2, 3), (3, 3)]);
    assert_eq!(a.dimensions(), input().dimensions());
    let b = e.run(&request(None, 11), &mut |_| Flow::Continue).unwrap();
    assert_eq!(a.as_raw(), b.as_raw(), "same seed, same bytes");
    let c = e.run(&request(None, 12), &mut |_| Flow::Continue).unwrap();
    assert_ne!(a.as_raw(), c.as_raw(), "another seed, another image");
}

#[test]
fn inpaint_keeps_the_outside_close_and_is_seeded() {
    let mut e = open();
    let mut req = request(Some(mask()), 5);
    req.params.strength = 1.0;
    let mut n = 0;
    let a = e
        .run(&req, &mut |_| {
            n += 1;
            Flow::Continue
        })
        .unwrap();
    assert_eq!(n, 4);
    let b = e.run(&req, &mut |_| Flow::Continue).unwrap();
    assert_eq!(a.as_raw(), b.as_raw());
    let plain = e.run(&request(None, 5), &mut |_| Flow::Continue).unwrap();
    assert_ne!(a.as_raw(), plain.as_raw(), "the mask changes the result");
}

#[test]
fn cancel_stops_between_steps() {
    let mut e = open();
    let mut calls = 0;
    let r = e.run(&request(None, 1), &mut |_| {
        calls += 1;
        Flow::Cancel
    });
    assert!(matches!(r, Err(EngineError::Cancelled)), "{r:?}");
    assert_eq!(calls, 1);
}

#[test]
fn odd_sizes_come_back_at_their_own_size() {
    let mut e = open();
    let mut req = request(None, 3);
    req.image = image::imageops::resize(&input(), 50, 37, image::imageops::FilterType::Triangle);
    let out = e.run(&req, &mut |_| Flow::Continue).unwrap();
    assert_eq!(out.dimensions(), (50, 37));
}

#[test]
fn large_decodes_run_on_blended_tiles() {
    use candle_core::{DType, Device, Tensor};
    let mut p = zedit::engine::zimage::Pipeline::load(
        &root().join("tiny-zimage"),
        &Device::Cpu,
        DType::F32,
    )
    .unwrap();
    let z = Tensor::randn(0f32, 1.0, (1, 16, 72, 80), &Device::Cpu).unwrap();
    let whole = p.vae().decode(&z).unwrap();
    p.vae_mut().tile_above_pixels = 0;
    let tiled = p.vae().decode(&z).unwrap();
    assert_eq!(tiled.dims(), &[1, 3, 576, 640]);
    let diff = (tiled - &whole).unwrap().abs().unwrap().mean_all().unwrap();
    let diff = diff.to_scalar::<f32>().unwrap();
    // Tiles see their own group-norm statistics, so they differ a little, not a lot.
    assert!(
        diff.is_finite() && diff < 0.1,
        "mean |tiled - whole| = {diff}"
    );
}
