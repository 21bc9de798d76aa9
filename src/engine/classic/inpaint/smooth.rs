//! Membrane (Laplace) filling: the smooth start of the coarsest level, the fallback where no
//! patch can be copied, and the solver of the seam correction.

use super::plane::{add, children, scale, Plane};

/// Gauss-Seidel sweeps per pyramid level; the coarse solution is a good start, so a few
/// sweeps per level are enough for a smooth, seam-free membrane.
const SWEEPS: usize = 24;
/// Over-relaxation factor: speeds up the sweeps on large holes without oscillating.
const OMEGA: f32 = 1.6;

/// Replaces the hole pixels of `p` with the harmonic interpolation of the known pixels around
/// them, solved coarse to fine (a cascadic multigrid).
pub fn membrane_fill(p: &mut Plane, hole: &[bool]) {
    let holes: Vec<usize> = (0..hole.len()).filter(|&i| hole[i]).collect();
    if holes.is_empty() {
        return;
    }
    if holes.len() == hole.len() {
        // Nothing known to interpolate from: leave a neutral grey rather than garbage.
        for v in &mut p.px {
            *v = [127.5; 3];
        }
        return;
    }
    if p.w > 4 && p.h > 4 {
        let (mut coarse, chole) = downsample_known(p, hole);
        membrane_fill(&mut coarse, &chole);
        p.fill_from_coarse(hole, &coarse);
    } else {
        let mut mean = [0.0f32; 3];
        let n = (hole.len() - holes.len()) as f32;
        for (i, v) in p.px.iter().enumerate() {
            if !hole[i] {
                add(&mut mean, *v, 1.0 / n);
            }
        }
        for &i in &holes {
            p.px[i] = mean;
        }
    }
    relax(p, &holes, SWEEPS);
}

/// Half-size plane where a coarse pixel is known when any child is (the mean of the known
/// children), so the boundary data survives down to the coarsest level.
fn downsample_known(p: &Plane, hole: &[bool]) -> (Plane, Vec<bool>) {
    let (cw, ch) = (p.w.div_ceil(2), p.h.div_ceil(2));
    let mut out = Plane::new(cw, ch);
    let mut chole = vec![true; cw * ch];
    for cy in 0..ch {
        for cx in 0..cw {
            let mut acc = [0.0f32; 3];
            let mut n = 0.0f32;
            for (x, y) in children(cx, cy, p.w, p.h) {
                let i = y * p.w + x;
                if !hole[i] {
                    add(&mut acc, p.px[i], 1.0);
                    n += 1.0;
                }
            }
            if n > 0.0 {
                out.px[cy * cw + cx] = scale(acc, 1.0 / n);
                chole[cy * cw + cx] = false;
            }
        }
    }
    (out, chole)
}

/// Successive over-relaxation of the 4-neighbour Laplace equation on the hole pixels, in a
/// fixed scan order so the result is the same on every machine.
fn relax(p: &mut Plane, holes: &[usize], sweeps: usize) {
    let (w, h) = (p.w, p.h);
    for _ in 0..sweeps {
        for &i in holes {
            let (x, y) = (i % w, i / w);
            let mut acc = [0.0f32; 3];
            let mut n = 0.0f32;
            if x > 0 {
                add(&mut acc, p.px[i - 1], 1.0);
                n += 1.0;
            }
            if x + 1 < w {
                add(&mut acc, p.px[i + 1], 1.0);
                n += 1.0;
            }
            if y > 0 {
                add(&mut acc, p.px[i - w], 1.0);
                n += 1.0;
            }
            if y + 1 < h {
                add(&mut acc, p.px[i + w], 1.0);
                n += 1.0;
            }
            let old = p.px[i];
            let target = scale(acc, 1.0 / n);
            for c in 0..3 {
                p.px[i][c] = old[c] + OMEGA * (target[c] - old[c]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: usize, h: usize) -> Plane {
        let mut p = Plane::new(w, h);
        for y in 0..h {
            for x in 0..w {
                p.px[y * w + x] = [x as f32 * 2.0, y as f32, 100.0];
            }
        }
        p
    }

    #[test]
    fn membrane_fill_reproduces_a_linear_ramp() {
        let truth = ramp(64, 48);
        let mut p = truth.clone();
        let hole: Vec<bool> = (0..64 * 48)
            .map(|i| (10..50).contains(&(i % 64)) && (8..40).contains(&(i / 64)))
            .collect();
        for (i, v) in p.px.iter_mut().enumerate() {
            if hole[i] {
                *v = [0.0; 3];
            }
        }
        membrane_fill(&mut p, &hole);
        let worst =
            p.px.iter()
                .zip(&truth.px)
                .map(|(a, b)| (0..3).map(|c| (a[c] - b[c]).abs()).fold(0.0, f32::max))
                .fold(0.0, f32::max);
        assert!(worst < 1.0, "worst error {worst}");
    }
}
