//! The classic engine's delete op, through the public Engine trait: what it keeps, what it
//! fills, that it repeats itself, and how it refuses bad masks.

use image::{GrayImage, Luma, Rgb, RgbImage};
use zedit::core::{EditParams, Op, Rect, Region};
use zedit::engine::classic::ClassicEngine;
use zedit::engine::{EditRequest, Engine, EngineError, Flow};

/// Diagonal stripes with a little deterministic grain, so the fill has texture to copy.
fn texture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let band = ((x + 2 * y) / 6) % 2 == 0;
        let grain = ((x * 7919 + y * 104_729) % 23) as u8;
        if band {
            Rgb([40 + grain, 90 + grain, 60])
        } else {
            Rgb([170 + grain, 160, 120 + grain])
        }
    })
}

/// A disc mask, and the image with a pure magenta object painted where the mask is.
fn with_object(w: u32, h: u32, cx: i64, cy: i64, r: i64) -> (RgbImage, GrayImage) {
    let mut img = texture(w, h);
    let mask = GrayImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as i64 - cx, y as i64 - cy);
        Luma([if dx * dx + dy * dy <= r * r { 255 } else { 0 }])
    });
    for (x, y, m) in mask.enumerate_pixels() {
        if m.0[0] > 0 {
            img.put_pixel(x, y, Rgb([255, 0, 255]));
        }
    }
    (img, mask)
}

fn request(image: RgbImage, mask: Option<GrayImage>, seed: u64) -> EditRequest {
    EditRequest {
        op: Op::Delete,
        instruction: "remove the blob".into(),
        image,
        mask,
        overlay: None,
        params: EditParams {
            seed,
            ..Default::default()
        },
        recipe: None,
    }
}

fn run(req: &EditRequest) -> Result<RgbImage, EngineError> {
    ClassicEngine::new().run(req, &mut |_| Flow::Continue)
}

fn magenta_ish(p: &Rgb<u8>) -> bool {
    let [r, g, b] = p.0;
    r > 200 && b > 200 && g < 80
}

#[test]
fn fills_the_hole_and_keeps_everything_else() {
    let (img, mask) = with_object(160, 120, 70, 60, 18);
    let out = run(&request(img.clone(), Some(mask.clone()), 1)).unwrap();
    assert_eq!(out.dimensions(), img.dimensions());
    for (x, y, m) in mask.enumerate_pixels() {
        let (a, b) = (img.get_pixel(x, y), out.get_pixel(x, y));
        if m.0[0] == 0 {
            assert_eq!(a, b, "pixel ({x}, {y}) outside the mask changed");
        } else {
            assert!(
                !magenta_ish(b),
                "pixel ({x}, {y}) still shows the object: {b:?}"
            );
        }
    }
}

#[test]
fn hole_touching_the_border_is_filled() {
    let (img, mask) = with_object(96, 80, 0, 40, 20);
    let out = run(&request(img, Some(mask.clone()), 3)).unwrap();
    let left = mask
        .enumerate_pixels()
        .filter(|(x, y, m)| m.0[0] > 0 && magenta_ish(out.get_pixel(*x, *y)));
    assert_eq!(left.count(), 0);
}

#[test]
fn same_seed_same_bytes_and_seeds_matter() {
    let (img, mask) = with_object(128, 128, 64, 64, 22);
    let a = run(&request(img.clone(), Some(mask.clone()), 7)).unwrap();
    let b = run(&request(img.clone(), Some(mask.clone()), 7)).unwrap();
    assert_eq!(a.as_raw(), b.as_raw());
    let c = run(&request(img, Some(mask), 8)).unwrap();
    assert_ne!(
        a.as_raw(),
        c.as_raw(),
        "a different seed should explore differently"
    );
}

#[test]
fn soft_mask_edge_blends_without_touching_unmasked_pixels() {
    let (img, mut mask) = with_object(120, 100, 60, 50, 16);
    // A soft ring around the object, as feathering makes.
    for (x, y, m) in mask.enumerate_pixels_mut() {
        let d = ((x as f32 - 60.0).hypot(y as f32 - 50.0) - 16.0).max(0.0);
        if m.0[0] == 0 && d < 6.0 {
            m.0[0] = (255.0 * (1.0 - d / 6.0)) as u8;
        }
    }
    let out = run(&request(img.clone(), Some(mask.clone()), 0)).unwrap();
    for (x, y, m) in mask.enumerate_pixels() {
        if m.0[0] == 0 {
            assert_eq!(img.get_pixel(x, y), out.get_pixel(x, y));
        }
    }
}

#[test]
fn region_makes_the_mask() {
    let img = texture(90, 90);
    let mut req = request(img.clone(), None, 0);
    req.params.region = Some(Region::Rect(Rect {
        x: 30,
        y: 30,
        w: 20,
        h: 20,
    }));
    let out = run(&req).unwrap();
    assert_eq!(out.get_pixel(5, 5), img.get_pixel(5, 5));
}

fn bad_input(req: &EditRequest) -> String {
    match run(req) {
        Err(EngineError::BadInput(msg)) => msg,
        other => panic!("expected a bad-input error, got {other:?}"),
    }
}

#[test]
fn refuses_without_a_mask() {
    let msg = bad_input(&request(texture(40, 40), None, 0));
    assert!(msg.contains("delete needs a mask"), "{msg}");
    assert!(msg.contains("--mask") && msg.contains("--region"), "{msg}");
}

#[test]
fn refuses_an_empty_mask() {
    let msg = bad_input(&request(texture(40, 40), Some(GrayImage::new(40, 40)), 0));
    // The shared mask resolution refuses it before the op runs, for every op alike.
    assert!(
        msg.contains("mask is empty") && msg.contains("paint white"),
        "{msg}"
    );
}

#[test]
fn refuses_a_mask_over_the_whole_image() {
    let full = GrayImage::from_pixel(40, 40, Luma([255]));
    let msg = bad_input(&request(texture(40, 40), Some(full), 0));
    assert!(msg.contains("whole image"), "{msg}");
    let mut req = request(texture(40, 40), None, 0);
    req.params.region = Some(Region::Background);
    assert!(bad_input(&req).contains("whole image"));
}

#[test]
fn refuses_a_mask_of_another_size() {
    let msg = bad_input(&request(texture(40, 40), Some(GrayImage::new(30, 40)), 0));
    assert!(msg.contains("30x40") && msg.contains("40x40"), "{msg}");
}

#[test]
fn nearly_full_mask_still_gives_an_image() {
    // A 2-pixel frame is too thin for any source patch: the fill falls back to the membrane.
    let img = texture(48, 48);
    let mask = GrayImage::from_fn(48, 48, |x, y| {
        Luma([if (2..46).contains(&x) && (2..46).contains(&y) {
            255
        } else {
            0
        }])
    });
    let out = run(&request(img.clone(), Some(mask), 0)).unwrap();
    assert_eq!(out.get_pixel(0, 0), img.get_pixel(0, 0));
}

#[test]
fn progress_is_reported_and_cancel_stops_the_run() {
    let (img, mask) = with_object(160, 120, 70, 60, 24);
    let req = request(img, Some(mask), 4);
    let mut seen = Vec::new();
    ClassicEngine::new()
        .run(&req, &mut |p| {
            seen.push((p.step, p.total));
            Flow::Continue
        })
        .unwrap();
    assert!(seen.len() > 4, "too few progress reports: {seen:?}");
    let (last, total) = seen[seen.len() - 1];
    assert_eq!(last, total, "{seen:?}");
    // Cancel at the third report: the run must end there with a cancellation, not an image.
    let mut calls = 0;
    let out = ClassicEngine::new().run(&req, &mut |_| {
        calls += 1;
        if calls < 3 {
            Flow::Continue
        } else {
            Flow::Cancel
        }
    });
    assert!(matches!(out, Err(EngineError::Cancelled)), "{out:?}");
    assert_eq!(calls, 3, "the run went on after it was cancelled");
}

#[test]
fn hole_over_most_of_the_image_fills_gracefully() {
    // 85% of the image masked, out to two borders: only a 14-pixel band along the top and
    // the left is left to copy from.
    let (w, h) = (200u32, 160u32);
    let mut img = texture(w, h);
    let mask = GrayImage::from_fn(w, h, |x, y| {
        Luma([if x >= 14 && y >= 14 { 255 } else { 0 }])
    });
    let covered = mask.pixels().filter(|p| p.0[0] > 0).count() as f64;
    assert!(covered / f64::from(w * h) > 0.8);
    for (x, y, m) in mask.enumerate_pixels() {
        if m.0[0] > 0 {
            img.put_pixel(x, y, Rgb([255, 0, 255]));
        }
    }
    let out = run(&request(img.clone(), Some(mask.clone()), 2)).unwrap();
    for (x, y, m) in mask.enumerate_pixels() {
        let (a, b) = (img.get_pixel(x, y), out.get_pixel(x, y));
        if m.0[0] == 0 {
            assert_eq!(a, b, "pixel ({x}, {y}) outside the mask changed");
        } else {
            assert!(!magenta_ish(b), "pixel ({x}, {y}) still shows the object");
        }
    }
}

/// Mean gradient magnitude of the channel mean over the pixels `pick` selects.
fn grad_energy(img: &RgbImage, pick: impl Fn(u32, u32) -> bool) -> f64 {
    let lum = |x: u32, y: u32| {
        let p = img.get_pixel(x, y).0;
        (f64::from(p[0]) + f64::from(p[1]) + f64::from(p[2])) / 3.0
    };
    let (mut sum, mut n) = (0.0, 0.0);
    for y in 0..img.height() - 1 {
        for x in 0..img.width() - 1 {
            if pick(x, y) {
                let (gx, gy) = (lum(x + 1, y) - lum(x, y), lum(x, y + 1) - lum(x, y));
                sum += gx.hypot(gy);
                n += 1.0;
            }
        }
    }
    sum / n
}

#[test]
fn a_hole_in_a_grainy_texture_keeps_its_grain() {
    // Irregular grain (no period to copy): the fill must not be a smooth blob.
    let (w, h) = (160u32, 140u32);
    let raw = |x: u32, y: u32| ((x * 7919 + y * 104_729 + x * y * 31) % 97) as f64;
    let mut img = RgbImage::from_fn(w, h, |x, y| {
        let (x1, y1) = ((x + 1).min(w - 1), (y + 1).min(h - 1));
        let v = (raw(x, y) + raw(x1, y) + raw(x, y1) + raw(x1, y1)) / 4.0;
        Rgb([(80.0 + v) as u8, (70.0 + v) as u8, (60.0 + v * 0.8) as u8])
    });
    let (cx, cy, r) = (80.0, 70.0, 28.0);
    let dist = |x: u32, y: u32| (f64::from(x) - cx).hypot(f64::from(y) - cy);
    let mask = GrayImage::from_fn(w, h, |x, y| Luma([if dist(x, y) <= r { 255 } else { 0 }]));
    for (x, y, m) in mask.enumerate_pixels() {
        if m.0[0] > 0 {
            img.put_pixel(x, y, Rgb([255, 0, 255]));
        }
    }
    let out = run(&request(img, Some(mask), 5)).unwrap();
    let inside = grad_energy(&out, |x, y| dist(x, y) <= r - 2.0);
    let ring = grad_energy(&out, |x, y| (r + 2.0..r + 9.0).contains(&dist(x, y)));
    let ratio = inside / ring;
    assert!(
        (0.75..1.3).contains(&ratio),
        "gradient energy in the hole {inside:.2} against {ring:.2} around it"
    );
}
