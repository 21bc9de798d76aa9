//! EM voting: every hole pixel becomes the weighted average of what the overlapping target
//! patches' matches say it should be.

use super::level::{Level, R};
use super::par;
use super::patchmatch::Nnf;
use super::plane::add;
use super::poisson::DIRS;

/// Rewrites the hole pixels of `img` from the field. Matches are weighted by how well they fit
/// (`1 / (1 + d / sigma2)^2`, a rational stand-in for a Gaussian so the bytes do not depend on
/// the platform's `exp`), with `sigma2` a low percentile of the current distances; `uniform`
/// weighs every match alike.
pub fn vote(lv: &Level, img: &mut [[f32; 3]], nnf: &Nnf, uniform: bool, threads: usize) {
    let values = predict(lv, img, nnf, &lv.holes, uniform, threads);
    for (&p, v) in lv.holes.iter().zip(values) {
        img[p as usize] = v;
    }
}

/// What the matches say `pixels` should be (any pixel a target patch covers), without
/// writing it.
fn predict(
    lv: &Level,
    img: &[[f32; 3]],
    nnf: &Nnf,
    pixels: &[u32],
    uniform: bool,
    threads: usize,
) -> Vec<[f32; 3]> {
    let sigma2 = if uniform {
        f32::INFINITY
    } else {
        scale_of(lv, nnf)
    };
    let chunks = split(pixels.len(), 8);
    par::map(chunks, threads, |(a, b)| {
        pixels[a..b]
            .iter()
            .map(|&p| vote_pixel(lv, img, nnf, p as usize, sigma2))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// Calls `f(s, k)` for every target patch covering pixel `p`: `s` is the source pixel its match
/// puts on `p`, `k` the match's weight (1 for every match when `sigma2` is infinite).
fn each_match(lv: &Level, nnf: &Nnf, p: usize, sigma2: f32, mut f: impl FnMut(isize, f32)) {
    let (w, h) = (lv.w as isize, lv.h as isize);
    let (x, y) = ((p % lv.w) as isize, (p / lv.w) as isize);
    let r = R as isize;
    for ey in -r..=r {
        let qy = y - ey;
        if qy < 0 || qy >= h {
            continue;
        }
        for ex in -r..=r {
            let qx = x - ex;
            if qx < 0 || qx >= w {
                continue;
            }
            let q = (qy * w + qx) as usize;
            if !lv.is_target[q] {
                continue;
            }
            // q's patch maps q + e to src + e, and p = q + e.
            let s = nnf.src[q] as isize + ey * w + ex;
            let k = if sigma2.is_finite() {
                1.0 / (1.0 + nnf.dist[q] / sigma2)
            } else {
                1.0
            };
            f(s, k * k);
        }
    }
}

fn vote_pixel(lv: &Level, img: &[[f32; 3]], nnf: &Nnf, p: usize, sigma2: f32) -> [f32; 3] {
    let mut acc = [0.0f32; 3];
    let mut total = 0.0f32;
    each_match(lv, nnf, p, sigma2, |s, k| {
        add(&mut acc, img[s as usize], k);
        total += k;
    });
    if total > 0.0 {
        [acc[0] / total, acc[1] / total, acc[2] / total]
    } else {
        img[p]
    }
}

/// What the matches say each hole pixel's differences toward its four neighbours
/// (`poisson::DIRS`) should be, weighted as in `vote`; a difference no match can show is 0.
pub fn predict_diffs(
    lv: &Level,
    img: &[[f32; 3]],
    nnf: &Nnf,
    threads: usize,
) -> Vec<[[f32; 3]; 4]> {
    let sigma2 = scale_of(lv, nnf);
    let chunks = split(lv.holes.len(), 8);
    par::map(chunks, threads, |(a, b)| {
        lv.holes[a..b]
            .iter()
            .map(|&p| diffs_pixel(lv, img, nnf, p as usize, sigma2))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

fn diffs_pixel(lv: &Level, img: &[[f32; 3]], nnf: &Nnf, p: usize, sigma2: f32) -> [[f32; 3]; 4] {
    let (w, h) = (lv.w as isize, lv.h as isize);
    let mut acc = [[0.0f32; 3]; 4];
    let mut total = [0.0f32; 4];
    each_match(lv, nnf, p, sigma2, |s, k| {
        let (sx, sy) = (s % w, s / w);
        for (d, &(dx, dy)) in DIRS.iter().enumerate() {
            let (tx, ty) = (sx + dx, sy + dy);
            if tx < 0 || ty < 0 || tx >= w || ty >= h {
                continue;
            }
            let (a, b) = (img[s as usize], img[(ty * w + tx) as usize]);
            add(&mut acc[d], [b[0] - a[0], b[1] - a[1], b[2] - a[2]], k);
            total[d] += k;
        }
    });
    std::array::from_fn(|d| {
        if total[d] > 0.0 {
            let t = total[d];
            [acc[d][0] / t, acc[d][1] / t, acc[d][2] / t]
        } else {
            [0.0; 3]
        }
    })
}

/// The distance scale for the weights: a low percentile of the target distances, so that the
/// better matches dominate without one patch taking everything.
fn scale_of(lv: &Level, nnf: &Nnf) -> f32 {
    let mut d: Vec<f32> = lv
        .targets
        .iter()
        .map(|&t| nnf.dist[t as usize])
        .filter(|d| d.is_finite())
        .collect();
    if d.is_empty() {
        return 1.0;
    }
    let k = d.len() / 4;
    let (_, v, _) = d.select_nth_unstable_by(k, f32::total_cmp);
    v.max(1e-3)
}

/// `n` items cut into `parts` contiguous, nearly equal ranges.
fn split(n: usize, parts: usize) -> Vec<(usize, usize)> {
    (0..parts)
        .map(|i| (n * i / parts, n * (i + 1) / parts))
        .filter(|(a, b)| a < b)
        .collect()
}
