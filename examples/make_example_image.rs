//! Paints the example photo used by `sessions/beach`: a beach at late afternoon with sky, sun,
//! sea, sand and a bin on the right. Deterministic: `cargo run --example make_example_image OUT.png`.

use image::{Rgb, RgbImage};

fn hash(x: u32, y: u32) -> f32 {
    let mut h = x.wrapping_mul(374_761_393) ^ y.wrapping_mul(668_265_263);
    h = (h ^ (h >> 13)).wrapping_mul(1_274_126_177);
    ((h ^ (h >> 16)) & 0xffff) as f32 / 65535.0
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "beach.png".into());
    let (w, h) = (320u32, 240u32);
    let horizon = 120.0;
    let shore = 165.0;
    let img = RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let mut c = if fy < horizon {
            mix([70.0, 120.0, 200.0], [200.0, 220.0, 240.0], fy / horizon)
        } else if fy < shore + 6.0 * (fx / 23.0).sin() {
            let t = (fy - horizon) / (shore - horizon);
            let wave = 12.0 * ((fx * 0.15 + fy * 0.9).sin() * 0.5 + 0.5);
            let base = mix([30.0, 90.0, 140.0], [60.0, 140.0, 160.0], t);
            [base[0] + wave, base[1] + wave, base[2] + wave]
        } else {
            let grain = 18.0 * (hash(x, y) - 0.5);
            let base = mix(
                [220.0, 200.0, 160.0],
                [190.0, 165.0, 120.0],
                (fy - shore) / (h as f32 - shore),
            );
            [base[0] + grain, base[1] + grain, base[2] + grain * 0.8]
        };
        // The sun, with a soft glow.
        let d = ((fx - 80.0).powi(2) + (fy - 50.0).powi(2)).sqrt();
        if d < 16.0 {
            c = [255.0, 240.0, 190.0];
        } else if fy < horizon {
            c = mix(
                c,
                [255.0, 230.0, 180.0],
                (1.0 - (d - 16.0) / 60.0).clamp(0.0, 1.0) * 0.5,
            );
        }
        // A green bin on the sand, right of centre.
        if (250.0..274.0).contains(&fx) && (170.0..210.0).contains(&fy) {
            let shade = if fx < 256.0 { 0.8 } else { 1.0 };
            c = [40.0 * shade, 110.0 * shade, 60.0 * shade];
            if fy < 174.0 {
                c = [30.0, 80.0, 45.0];
            }
        }
        Rgb(c.map(|v| v.clamp(0.0, 255.0).round() as u8))
    });
    img.save(&out)?;
    println!("{out}");
    Ok(())
}
