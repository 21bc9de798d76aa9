//! PatchMatch: a nearest-neighbour field from every target patch to a fully known source
//! patch, found by random initialisation, propagation and random search. The match cost is a
//! weighted patch distance plus a penalty that grows with the distance to the source, so that
//! of two equally good patches the nearer one wins.

use super::level::{Band, Level, R};
use super::par;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// For each pixel (meaningful at targets only): the source patch centre and its distance.
#[derive(Debug, Clone)]
pub struct Nnf {
    pub src: Vec<u32>,
    pub dist: Vec<f32>,
}

/// How a match is scored (the penalty per pixel of distance between target and source) and on
/// how many threads the work runs.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    pub per_px: f32,
    pub threads: usize,
}

/// The seeded random stream for one piece of work, so results depend only on the seed and on
/// where in the algorithm they are drawn, never on thread scheduling.
pub fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

impl Nnf {
    /// Every target gets a uniformly random source.
    pub fn random(lv: &Level, rng: &mut ChaCha8Rng) -> Self {
        let mut src = vec![0u32; lv.w * lv.h];
        let n = lv.valid_list.len();
        for &t in &lv.targets {
            src[t as usize] = lv.valid_list[rng.random_range(0..n)];
        }
        Nnf {
            src,
            dist: vec![f32::INFINITY; lv.w * lv.h],
        }
    }

    /// Carries a coarse field to the next finer level, doubling the offsets; targets whose
    /// scaled source is not valid here draw a random one.
    pub fn upsample(coarse: &Nnf, clv: &Level, lv: &Level, rng: &mut ChaCha8Rng) -> Self {
        let mut src = vec![0u32; lv.w * lv.h];
        let n = lv.valid_list.len();
        for &t in &lv.targets {
            let (x, y) = (t as usize % lv.w, t as usize / lv.w);
            let (cx, cy) = ((x / 2).min(clv.w - 1), (y / 2).min(clv.h - 1));
            let c = cy * clv.w + cx;
            let mut pick = None;
            if clv.is_target[c] {
                let s = coarse.src[c] as usize;
                let sx = 2 * (s % clv.w) + (x - 2 * cx);
                let sy = 2 * (s / clv.w) + (y - 2 * cy);
                if sx < lv.w && sy < lv.h && lv.valid[sy * lv.w + sx] {
                    pick = Some((sy * lv.w + sx) as u32);
                }
            }
            src[t as usize] = pick.unwrap_or_else(|| lv.valid_list[rng.random_range(0..n)]);
        }
        Nnf {
            src,
            dist: vec![f32::INFINITY; lv.w * lv.h],
        }
    }

    /// Recomputes every target's distance against the current image (after a vote changed it).
    pub fn refresh(&mut self, lv: &Level, img: &[[f32; 3]], cost: Cost) {
        let src = &self.src;
        let parts = par::map(lv.bands.clone(), cost.threads, |b| {
            lv.targets[b.k0..b.k1]
                .iter()
                .map(|&t| {
                    let t = t as usize;
                    dist(lv, img, cost, t, src[t] as usize, f32::INFINITY)
                })
                .collect::<Vec<f32>>()
        });
        for (b, part) in lv.bands.iter().zip(parts) {
            for (&t, d) in lv.targets[b.k0..b.k1].iter().zip(part) {
                self.dist[t as usize] = d;
            }
        }
    }

    /// One PatchMatch pass over all targets (scan order, or reversed). Bands run in parallel;
    /// a band reads neighbours in other bands from the field as it was before the pass.
    pub fn sweep(
        &mut self,
        lv: &Level,
        img: &[[f32; 3]],
        cost: Cost,
        rng: (u64, u64),
        reverse: bool,
    ) {
        let (seed, stream) = rng;
        let before = self.src.clone();
        let w = lv.w;
        let mut src_rest: &mut [u32] = &mut self.src;
        let mut dist_rest: &mut [f32] = &mut self.dist;
        let mut offset = 0;
        let mut jobs = Vec::with_capacity(lv.bands.len());
        for (bi, band) in lv.bands.iter().enumerate() {
            let (start, len) = (band.row0 * w, (band.row1 - band.row0) * w);
            let (_, s) = std::mem::take(&mut src_rest).split_at_mut(start - offset);
            let (mine_s, s) = s.split_at_mut(len);
            src_rest = s;
            let (_, d) = std::mem::take(&mut dist_rest).split_at_mut(start - offset);
            let (mine_d, d) = d.split_at_mut(len);
            dist_rest = d;
            offset = start + len;
            let field = BandField {
                base: start,
                src: mine_s,
                dist: mine_d,
                before: &before,
            };
            jobs.push((band, field, rng_for(seed, stream * 64 + bi as u64)));
        }
        par::map(jobs, cost.threads, |(band, mut field, mut rng)| {
            sweep_band(lv, img, cost, band, &mut field, &mut rng, reverse);
        });
    }
}

/// The rows of the field one band may write, plus a frozen copy for reading the rest.
struct BandField<'a> {
    base: usize,
    src: &'a mut [u32],
    dist: &'a mut [f32],
    before: &'a [u32],
}

impl BandField<'_> {
    fn src_at(&self, i: usize) -> u32 {
        match i.checked_sub(self.base) {
            Some(k) if k < self.src.len() => self.src[k],
            _ => self.before[i],
        }
    }
}

fn sweep_band(
    lv: &Level,
    img: &[[f32; 3]],
    cost: Cost,
    band: &Band,
    f: &mut BandField,
    rng: &mut ChaCha8Rng,
    reverse: bool,
) {
    let (w, h) = (lv.w, lv.h);
    let targets = &lv.targets[band.k0..band.k1];
    let step: isize = if reverse { -1 } else { 1 };
    let max_rad = w.max(h) as i32;
    for n in 0..targets.len() {
        let t = targets[if reverse { targets.len() - 1 - n } else { n }] as usize;
        let (x, y) = ((t % w) as isize, (t / w) as isize);
        let k = t - f.base;
        let (mut best, mut best_d) = (f.src[k] as usize, f.dist[k]);
        // Propagation: the neighbour already visited in this pass, shifted by one pixel.
        for (nx, ny) in [(x - step, y), (x, y - step)] {
            if nx < 0 || ny < 0 || nx >= w as isize || ny >= h as isize {
                continue;
            }
            let nb = ny as usize * w + nx as usize;
            if !lv.is_target[nb] {
                continue;
            }
            let s = f.src_at(nb) as usize;
            let (sx, sy) = ((s % w) as isize + x - nx, (s / w) as isize + y - ny);
            try_source(lv, img, cost, t, sx, sy, &mut best, &mut best_d);
        }
        // Random search in windows that halve around the best match so far.
        let mut rad = max_rad;
        while rad >= 1 {
            let (bx, by) = ((best % w) as isize, (best / w) as isize);
            let sx = bx + rng.random_range(-rad..=rad) as isize;
            let sy = by + rng.random_range(-rad..=rad) as isize;
            try_source(lv, img, cost, t, sx, sy, &mut best, &mut best_d);
            rad /= 2;
        }
        f.src[k] = best as u32;
        f.dist[k] = best_d;
    }
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn try_source(
    lv: &Level,
    img: &[[f32; 3]],
    cost: Cost,
    t: usize,
    sx: isize,
    sy: isize,
    best: &mut usize,
    best_d: &mut f32,
) {
    let r = R as isize;
    if sx < r || sy < r || sx >= (lv.w as isize - r) || sy >= (lv.h as isize - r) {
        return;
    }
    let s = sy as usize * lv.w + sx as usize;
    if s == *best || !lv.valid[s] {
        return;
    }
    let d = dist(lv, img, cost, t, s, *best_d);
    if d < *best_d {
        *best = s;
        *best_d = d;
    }
}

/// Weighted squared distance between the patches at target `t` and source `s` plus the
/// distance penalty, stopping once it exceeds `bound`. Target pixels outside the plane do not
/// count; sources lie inside.
pub fn dist(lv: &Level, img: &[[f32; 3]], cost: Cost, t: usize, s: usize, bound: f32) -> f32 {
    let w = lv.w;
    let (tx, ty) = (t % w, t / w);
    let p = 2 * R + 1;
    let (dx, dy) = (tx as f32 - (s % w) as f32, ty as f32 - (s / w) as f32);
    let mut sum = cost.per_px * (dx * dx + dy * dy).sqrt();
    if tx >= R && ty >= R && tx + R < w && ty + R < lv.h {
        let (t0, s0) = (t - R * w - R, s - R * w - R);
        for dy in 0..p {
            let (tr, sr) = (t0 + dy * w, s0 + dy * w);
            let (a, b) = (&img[tr..tr + p], &img[sr..sr + p]);
            for i in 0..p {
                sum += sq(a[i], b[i]);
            }
            if sum > bound {
                return sum;
            }
        }
        return sum;
    }
    for dy in -(R as isize)..=(R as isize) {
        let yy = ty as isize + dy;
        if yy < 0 || yy >= lv.h as isize {
            continue;
        }
        for dx in -(R as isize)..=(R as isize) {
            let xx = tx as isize + dx;
            if xx < 0 || xx >= w as isize {
                continue;
            }
            let ti = yy as usize * w + xx as usize;
            let si = (s as isize + dy * w as isize + dx) as usize;
            sum += sq(img[ti], img[si]);
        }
        if sum > bound {
            return sum;
        }
    }
    sum
}

#[inline]
fn sq(a: [f32; 3], b: [f32; 3]) -> f32 {
    let (d0, d1, d2) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    d0 * d0 + d1 * d1 + d2 * d2
}
