//! Multi-scale completion (in the manner of Wexler et al.): a pyramid of the crop, the
//! coarsest hole filled structure-first, then at every level EM iterations of PatchMatch
//! search and voting, each finer level starting from the coarser level's field.

use super::level::{Level, R};
use super::patchmatch::{rng_for, Cost, Nnf};
use super::plane::Plane;
use super::smooth::membrane_fill;
use super::structure::priority_fill;
use super::vote::vote;
use super::{Cancelled, Ticker};

/// Fewest hole-bounding-box pixels (longest side) worth another coarser level: the coarsest
/// hole stays several patches across, so its surroundings still show whole structures (a
/// collar, a sky, a shadow) to copy rather than a few pixels of each.
const MIN_HOLE_SIDE: usize = 40;
/// Fewest plane pixels (shortest side) a level may have.
const MIN_PLANE_SIDE: usize = 4 * (2 * R + 1);
const MAX_LEVELS: usize = 8;
/// Random streams for field initialisation live above the ones used by sweeps.
const INIT_STREAM: u64 = 1 << 40;
/// Match penalty for a source one hole-size away, as an RMS error per channel in grey levels:
/// mild, so it only decides between patches that fit about equally well.
const NEAR_RMS: f32 = 4.0;
/// Source exclusion around the hole at the finest levels, in pixels: an object's blurred or
/// anti-aliased edge often reaches past its mask.
const GUARD: [usize; 2] = [2, 1];

/// Fills the hole pixels of `p` with patches copied from the known pixels. `known` weighs
/// how much of each hole pixel's current value is trusted (a soft mask edge), 0 for none.
/// Returns the finest level and its field for the seam step, or `None` where there was
/// nothing to copy from and a smooth fill was used instead.
pub fn complete(
    p: &mut Plane,
    hole: &[bool],
    known: &[f32],
    seed: u64,
    threads: usize,
    ticker: &mut Ticker,
) -> Result<Option<(Level, Nnf)>, Cancelled> {
    let (planes, levels) = pyramid(p, hole);
    let top = levels.len() - 1;
    if levels[0].valid_list.is_empty() {
        membrane_fill(p, hole);
        return Ok(None);
    }
    ticker.total += 1
        + (0..=top)
            .map(|li| schedule(li, top, levels[li].targets.len()).0 as u32)
            .sum::<u32>();
    let mut planes = planes;
    let anchor = p.px.clone();
    let mut prev: Option<Nnf> = None;
    for li in (0..=top).rev() {
        let lv = &levels[li];
        let hole_side = hole_side(lv).max(8) as f32;
        let patch = (3 * (2 * R + 1) * (2 * R + 1)) as f32;
        let cost = Cost {
            per_px: NEAR_RMS * NEAR_RMS * patch / hole_side,
            threads,
        };
        let mut init = rng_for(seed, INIT_STREAM + li as u64);
        let mut nnf = if li == top {
            membrane_fill(&mut planes[li], &lv.hole);
            priority_fill(lv, &mut planes[li].px, cost.per_px);
            ticker.tick()?;
            Nnf::random(lv, &mut init)
        } else {
            let (lower, upper) = planes.split_at_mut(li + 1);
            lower[li].fill_from_coarse(&lv.hole, &upper[0]);
            let coarse = prev.as_ref().ok_or(Cancelled)?;
            let nnf = Nnf::upsample(coarse, &levels[li + 1], lv, &mut init);
            // Rebuild this level's guess from the carried-over field before matching: matching
            // against the blurry upsampled guess would pull every patch toward flat sources.
            vote(lv, &mut lower[li].px, &nnf, true, threads);
            nnf
        };
        let img = &mut planes[li].px;
        if li == 0 {
            soften(lv, img, &anchor, known);
        }
        let (em, pm) = schedule(li, top, lv.targets.len());
        for e in 0..em {
            nnf.refresh(lv, img, cost);
            for s in 0..pm {
                let stream = ((li * 64 + e) * 4 + s) as u64;
                nnf.sweep(lv, img, cost, (seed, stream), s % 2 == 1);
            }
            vote(lv, img, &nnf, false, threads);
            if li == 0 && e + 1 < em {
                soften(lv, img, &anchor, known);
            }
            ticker.tick()?;
        }
        prev = Some(nnf);
    }
    for &i in &levels[0].holes {
        p.px[i as usize] = planes[0].px[i as usize];
    }
    let nnf = prev.ok_or(Cancelled)?;
    Ok(Some((levels.into_iter().next().ok_or(Cancelled)?, nnf)))
}

/// The planes and level geometries from fine to coarse, as deep as the hole is worth.
fn pyramid(p: &Plane, hole: &[bool]) -> (Vec<Plane>, Vec<Level>) {
    let mut planes = vec![p.clone()];
    let mut levels = vec![Level::new(p.w, p.h, hole.to_vec(), GUARD[0])];
    while levels.len() < MAX_LEVELS {
        let (fine, flv) = (&planes[planes.len() - 1], &levels[levels.len() - 1]);
        if hole_side(flv) <= MIN_HOLE_SIDE || fine.w.min(fine.h) / 2 < MIN_PLANE_SIDE {
            break;
        }
        let (coarse, chole) = fine.downsample(&flv.hole);
        let guard = GUARD.get(levels.len()).copied().unwrap_or(0);
        let clv = Level::new(coarse.w, coarse.h, chole, guard);
        // A coarse level without enough sources to copy from would only blur.
        if clv.valid_list.len() < clv.targets.len().max(64) {
            break;
        }
        planes.push(coarse);
        levels.push(clv);
    }
    (planes, levels)
}

/// Pulls the soft-edge pixels of the hole back toward what they showed, by how much of that
/// is trusted, so they steer the matching as partly known pixels.
fn soften(lv: &Level, img: &mut [[f32; 3]], anchor: &[[f32; 3]], known: &[f32]) {
    for &i in &lv.holes {
        let i = i as usize;
        let k = known[i];
        if k > 0.0 {
            for c in 0..3 {
                img[i][c] += k * (anchor[i][c] - img[i][c]);
            }
        }
    }
}

/// Targets above which a level is large enough to cost most of the run: it gets half the EM
/// iterations, so that very large holes (a quarter of a megapixel image) stay within budget,
/// degrading toward a coarser refinement rather than running long.
const LARGE_LEVEL: usize = 100_000;

/// (EM iterations, PatchMatch sweeps per iteration): coarse levels are cheap and set the
/// layout, so they iterate more; the finest level only refines.
fn schedule(li: usize, top: usize, targets: usize) -> (usize, usize) {
    let em = if li == top {
        8
    } else if li == 0 {
        2
    } else {
        4
    };
    if targets > LARGE_LEVEL && li != top {
        (em / 2, 2)
    } else {
        (em, 2)
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
