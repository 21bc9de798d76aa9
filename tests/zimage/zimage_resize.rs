//! Pillow's LANCZOS resize, which the reference pipelines apply to inputs and masks, reproduced
//! byte for byte: every `{rgb,mask}_{W}x{H}.png` in tests/fixtures/pil_lanczos (written by
//! scripts/make_resize_fixtures.py) against zedit's resize of the source images.
#![cfg(feature = "zimage")]

use std::path::PathBuf;
use zedit::resample::{resize, Filter};

fn dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pil_lanczos"
    ))
}

#[test]
fn every_resize_equals_pillows() {
    let rgb = image::open(dir().join("src_rgb.png")).unwrap().to_rgb8();
    let mask = image::open(dir().join("src_mask.png")).unwrap().to_luma8();
    let mut checked = 0;
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some((kind, size)) = name.strip_suffix(".png").and_then(|n| n.split_once('_')) else {
            continue;
        };
        let Some((w, h)) = size.split_once('x') else {
            continue;
        };
        let to = (w.parse::<usize>().unwrap(), h.parse::<usize>().unwrap());
        let want = image::open(dir().join(&name)).unwrap();
        let (got, want) = match kind {
            "rgb" => (
                resize(rgb.as_raw(), (100, 60), 3, to, Filter::Lanczos),
                want.to_rgb8().into_raw(),
            ),
            "mask" => (
                resize(mask.as_raw(), (100, 60), 1, to, Filter::Lanczos),
                want.to_luma8().into_raw(),
            ),
            _ => continue,
        };
        let worst = got.iter().zip(&want).map(|(a, b)| a.abs_diff(*b)).max();
        assert_eq!(got.len(), want.len(), "{name}: size");
        assert_eq!(
            worst,
            Some(0),
            "{name}: differs from Pillow by up to this many levels"
        );
        checked += 1;
    }
    assert_eq!(checked, 18, "expected 9 RGB and 9 mask resizes");
}
