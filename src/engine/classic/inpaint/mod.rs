//! Exemplar-based inpainting: multi-scale patch completion that copies real patches from
//! around the hole, structure first at the coarsest level, with a gradient-domain blend at the
//! seam, then split into structure (a smooth fill where the copies are not trusted) and texture
//! (the copies' fine detail).

mod complete;
mod detail;
mod level;
mod par;
mod patchmatch;
mod plane;
mod poisson;
mod seam;
mod smooth;
mod structure;
mod vote;

use image::{GrayImage, RgbImage};
use plane::Plane;

/// The run was stopped by its progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

/// How to run: the seed of every random choice, and how many threads do the work (the output
/// is the same for any count).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub seed: u64,
    pub threads: usize,
}

impl Options {
    /// The given seed, on as many threads as the machine has cores (up to the work's bands).
    pub fn with_seed(seed: u64) -> Self {
        Options {
            seed,
            threads: par::default_threads(level::BANDS),
        }
    }
}

/// Counts finished work units and asks the callback, after each, whether to go on.
pub struct Ticker<'a> {
    done: u32,
    total: u32,
    on_step: &'a mut dyn FnMut(u32, u32) -> bool,
}

impl Ticker<'_> {
    fn tick(&mut self) -> Result<(), Cancelled> {
        self.done += 1;
        if (self.on_step)(self.done, self.total.max(self.done)) {
            Ok(())
        } else {
            Err(Cancelled)
        }
    }
}

/// Fills the pixels where `mask` is non-zero from the rest of `image`; every other pixel is
/// returned unchanged. Mask values between 0 and 255 mark a soft edge, treated as partly
/// known. `on_step(done, total)` hears of every finished stage and stops the run by returning
/// false. The same inputs and seed give the same bytes on every machine and thread count.
pub fn inpaint(
    image: &RgbImage,
    mask: &GrayImage,
    opts: Options,
    on_step: &mut dyn FnMut(u32, u32) -> bool,
) -> Result<RgbImage, Cancelled> {
    let mut out = image.clone();
    let Some((x0, y0, x1, y1)) = bounding_box(mask) else {
        return Ok(out);
    };
    // Work on a crop around the hole: the patches to copy are near it, and the cost then
    // follows the hole's size rather than the image's.
    let side = (x1 - x0).max(y1 - y0);
    let margin = (side * 3 / 4 + 16).max(48);
    let (cx0, cy0) = (x0.saturating_sub(margin), y0.saturating_sub(margin));
    let (cx1, cy1) = (
        (x1 + margin).min(image.width()),
        (y1 + margin).min(image.height()),
    );
    let (w, h) = ((cx1 - cx0) as usize, (cy1 - cy0) as usize);

    let mut plane = Plane::new(w, h);
    let mut hole = vec![false; w * h];
    let mut known = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let (ix, iy) = (cx0 + x as u32, cy0 + y as u32);
            let p = image.get_pixel(ix, iy).0;
            let i = y * w + x;
            plane.px[i] = [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])];
            let m = mask.get_pixel(ix, iy).0[0];
            hole[i] = m > 0;
            known[i] = f32::from(255 - m) / 255.0;
        }
    }
    let mut ticker = Ticker {
        done: 0,
        total: 1,
        on_step,
    };
    if let Some((lv, nnf)) = complete::complete(
        &mut plane,
        &hole,
        &known,
        opts.seed,
        opts.threads,
        &mut ticker,
    )? {
        let trust = detail::trust(&lv, &plane.px, &nnf);
        seam::blend_seam(&mut plane, &lv, &nnf, opts.threads);
        detail::split_blend(&mut plane, &hole, &trust);
    }
    ticker.tick()?;

    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if hole[i] {
                let v = |c: usize| plane.px[i][c].round().clamp(0.0, 255.0) as u8;
                out.put_pixel(
                    cx0 + x as u32,
                    cy0 + y as u32,
                    image::Rgb([v(0), v(1), v(2)]),
                );
            }
        }
    }
    Ok(out)
}

/// Inclusive-exclusive bounding box of the non-zero pixels.
fn bounding_box(m: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in m.enumerate_pixels() {
        if p.0[0] > 0 {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
        }
    }
    (x0 != u32::MAX).then_some((x0, y0, x1, y1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb};

    fn stripes(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            if (x + y) % 12 < 6 {
                Rgb([30, 60, 200])
            } else {
                Rgb([220, 200, 40])
            }
        })
    }

    fn fill(img: &RgbImage, hole: &GrayImage, seed: u64, threads: usize) -> RgbImage {
        inpaint(img, hole, Options { seed, threads }, &mut |_, _| true).unwrap()
    }

    fn square_hole(w: u32, h: u32, x0: u32, y0: u32, s: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            let inside = (x0..x0 + s).contains(&x) && (y0..y0 + s).contains(&y);
            Luma([if inside { 255 } else { 0 }])
        })
    }

    #[test]
    fn continues_a_periodic_texture_through_the_hole() {
        let truth = stripes(120, 100);
        let hole = square_hole(120, 100, 45, 35, 24);
        let mut img = truth.clone();
        for (x, y, m) in hole.enumerate_pixels() {
            if m.0[0] > 0 {
                img.put_pixel(x, y, Rgb([255, 0, 255]));
            }
        }
        let out = fill(&img, &hole, 5, 2);
        let (mut se, mut n) = (0.0f64, 0.0f64);
        for (x, y, m) in hole.enumerate_pixels() {
            if m.0[0] > 0 {
                for c in 0..3 {
                    let d =
                        f64::from(out.get_pixel(x, y).0[c]) - f64::from(truth.get_pixel(x, y).0[c]);
                    se += d * d;
                    n += 1.0;
                }
            }
        }
        let psnr = 10.0 * (255.0f64 * 255.0 / (se / n).max(1e-9)).log10();
        assert!(psnr > 25.0, "PSNR inside the hole {psnr:.1} dB");
    }

    #[test]
    fn empty_hole_changes_nothing() {
        let img = stripes(20, 20);
        assert_eq!(fill(&img, &GrayImage::new(20, 20), 0, 1), img);
    }

    #[test]
    fn thread_count_does_not_change_a_byte() {
        let mut img = stripes(140, 110);
        for (x, y, p) in img.enumerate_pixels_mut() {
            p.0[1] = p.0[1].wrapping_add(((x * 31 + y * 17) % 13) as u8);
        }
        let hole = square_hole(140, 110, 50, 30, 40);
        let one = fill(&img, &hole, 9, 1);
        for threads in [2, 3, 4, 7] {
            assert_eq!(fill(&img, &hole, 9, threads), one, "{threads} threads");
        }
    }

    #[test]
    fn progress_climbs_to_its_total_and_a_false_stops_the_run() {
        let img = stripes(120, 100);
        let hole = square_hole(120, 100, 45, 35, 24);
        let mut seen = Vec::new();
        let opts = Options::with_seed(1);
        inpaint(&img, &hole, opts, &mut |d, t| {
            seen.push((d, t));
            true
        })
        .unwrap();
        assert!(seen.len() > 3, "{seen:?}");
        assert!(seen.windows(2).all(|p| p[0].0 < p[1].0 && p[0].1 == p[1].1));
        let (last, total) = seen[seen.len() - 1];
        assert_eq!(last, total);
        let mut calls = 0;
        let stopped = inpaint(&img, &hole, opts, &mut |_, _| {
            calls += 1;
            calls < 2
        });
        assert_eq!(stopped, Err(Cancelled));
        assert_eq!(calls, 2, "the run must stop at the first refusal");
    }

    #[test]
    fn bounding_box_is_tight() {
        let hole = square_hole(50, 40, 10, 12, 5);
        assert_eq!(bounding_box(&hole), Some((10, 12, 15, 17)));
    }
}
