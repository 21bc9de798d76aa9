//! Multi-scale texture synthesis: PatchMatch and EM voting from the coarsest level up, each
//! level starting from the one below.

use super::level::{Level, R};
use super::patchmatch::{rng_for, Nnf};
use super::plane::Plane;
use super::vote::vote;

/// Fewest hole-bounding-box pixels (longest side) worth another coarser level.
const MIN_HOLE_SIDE: usize = 2 * (2 * R + 1);
/// Fewest plane pixels (shortest side) a level may have.
const MIN_PLANE_SIDE: usize = 4 * (2 * R + 1);
const MAX_LEVELS: usize = 8;
/// Random streams for field initialisation live above the ones used by sweeps.
const INIT_STREAM: u64 = 1 << 40;

/// Fills the hole pixels of `p` with texture copied, patch by patch, from the known pixels.
/// Pixels outside the hole are left alone; the hole's current values are the starting guess.
pub fn synthesize(p: &mut Plane, hole: &[bool], seed: u64) {
    let mut planes = vec![p.clone()];
    let mut levels = vec![Level::new(p.w, p.h, hole.to_vec())];
    while levels.len() < MAX_LEVELS {
        let (fine, flv) = (&planes[planes.len() - 1], &levels[levels.len() - 1]);
        if hole_side(flv) <= MIN_HOLE_SIDE || fine.w.min(fine.h) / 2 < MIN_PLANE_SIDE {
            break;
        }
        let (coarse, chole) = fine.downsample(&flv.hole);
        let clv = Level::new(coarse.w, coarse.h, chole);
        // A coarse level without enough sources to copy from would only blur.
        if clv.valid_list.len() < clv.targets.len().max(64) {
            break;
        }
        planes.push(coarse);
        levels.push(clv);
    }

    let top = levels.len() - 1;
    let mut prev: Option<(Nnf, usize)> = None;
    for li in (0..=top).rev() {
        if li < top {
            let (lower, upper) = planes.split_at_mut(li + 1);
            lower[li].fill_from_coarse(&levels[li].hole, &upper[0]);
        }
        let lv = &levels[li];
        if lv.valid_list.is_empty() || lv.targets.is_empty() {
            prev = None;
            continue;
        }
        let img = &mut planes[li].px;
        let mut init = rng_for(seed, INIT_STREAM + li as u64);
        let mut nnf = match &prev {
            Some((c, ci)) => Nnf::upsample(c, &levels[*ci], lv, &mut init),
            None => Nnf::random(lv, &mut init),
        };
        let wt: Vec<f32> = lv
            .hole
            .iter()
            .map(|&hl| if hl { HOLE_WEIGHT } else { 1.0 })
            .collect();
        if li < top {
            // Rebuild this level's guess from the carried-over field before matching: matching
            // against the blurry upsampled guess would pull every patch toward flat sources.
            vote(lv, img, &nnf, true);
        }
        let (em, pm) = schedule(li, top);
        for e in 0..em {
            nnf.refresh(lv, img, &wt);
            for s in 0..pm {
                let stream = ((li * 64 + e) * 4 + s) as u64;
                nnf.sweep(lv, img, &wt, seed, stream, s % 2 == 1);
            }
            vote(lv, img, &nnf, false);
        }
        prev = Some((nnf, li));
    }
    for &i in &levels[0].holes {
        p.px[i as usize] = planes[0].px[i as usize];
    }
}

/// Weight of hole pixels (the current guess) against known ones in the patch distance.
const HOLE_WEIGHT: f32 = 1.0;

/// (EM iterations, PatchMatch sweeps per iteration): coarse levels are cheap and set the
/// layout, so they iterate more; the finest level only refines.
fn schedule(li: usize, top: usize) -> (usize, usize) {
    if li == top {
        (10, 2)
    } else if li == 0 {
        (3, 2)
    } else {
        (5, 2)
    }
}

/// The longest side of the hole's bounding box at this level.
fn hole_side(lv: &Level) -> usize {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for &i in &lv.holes {
        let (x, y) = (i as usize % lv.w, i as usize / lv.w);
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    if lv.holes.is_empty() {
        0
    } else {
        (x1 - x0).max(y1 - y0) + 1
    }
}
