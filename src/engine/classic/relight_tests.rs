//! Tests of the classic relight: warmth, brightness, contrast and shadows, directional light, and that an identity plan changes nothing.

use super::*;

fn grey(v: u8) -> RgbImage {
    RgbImage::from_pixel(64, 32, image::Rgb([v, v, v]))
}

#[test]
fn warm_raises_red_over_blue() {
    let out = apply(
        &grey(120),
        &LightPlan {
            warmth: 0.5,
            ..Default::default()
        },
        None,
    );
    let p = out.get_pixel(0, 0).0;
    assert!(p[0] > 120 && p[2] < 120, "{p:?}");
}

#[test]
fn identity_plan_keeps_every_byte() {
    let img = RgbImage::from_fn(256, 3, |x, y| {
        image::Rgb([x as u8, (x * y) as u8, 255 - x as u8])
    });
    assert_eq!(apply(&img, &LightPlan::default(), None), img);
}

#[test]
fn brighter_keeps_white_white_and_lifts_midtones() {
    let img = RgbImage::from_fn(256, 1, |x, _| image::Rgb([x as u8; 3]));
    let out = apply(
        &img,
        &LightPlan {
            exposure: 1.0,
            ..Default::default()
        },
        None,
    );
    assert_eq!(out.get_pixel(255, 0).0, [255; 3]);
    assert!(out.get_pixel(100, 0).0[0] > 120);
    let row: Vec<u8> = out.pixels().map(|p| p.0[0]).collect();
    assert!(row.windows(2).all(|w| w[0] <= w[1]), "monotonic");
}

#[test]
fn directional_light_brightens_its_side() {
    let light = SideLight {
        from: LightSource::Side(Region::Right),
        strength: 0.6,
        color: [1.0; 3],
    };
    let out = apply(
        &grey(100),
        &LightPlan {
            light: Some(light),
            ..Default::default()
        },
        None,
    );
    let (l, r) = (out.get_pixel(0, 16).0[0], out.get_pixel(63, 16).0[0]);
    assert!(r > 110 && l < 100, "left {l} right {r}");
}

#[test]
fn contrast_and_shadows_move_the_right_tones() {
    let img = RgbImage::from_fn(2, 1, |x, _| image::Rgb([if x == 0 { 60 } else { 200 }; 3]));
    let out = apply(
        &img,
        &LightPlan {
            contrast: 0.5,
            ..Default::default()
        },
        None,
    );
    assert!(out.get_pixel(0, 0).0[0] < 60 && out.get_pixel(1, 0).0[0] > 200);
    let out = apply(
        &img,
        &LightPlan {
            shadows: 0.5,
            ..Default::default()
        },
        None,
    );
    assert!(out.get_pixel(0, 0).0[0] > 70);
}
