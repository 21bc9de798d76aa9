//! Gradient-domain fusion of the copied patches (in the manner of Darabi et al.'s image
//! melding): the matches vote for the hole's pixel differences as well as its colours, and the
//! hole is rebuilt as the image whose differences best follow those votes while meeting the
//! known pixels at the hole's edge, so patch seams and colour offsets vanish.

use super::level::Level;

/// The 4 neighbour directions as (dx, dy): right, left, down, up.
pub const DIRS: [(isize, isize); 4] = [(1, 0), (-1, 0), (0, 1), (0, -1)];

/// Conjugate-gradient iterations at most, and the relative residual that ends them early.
const MAX_ITERS: usize = 250;
const TOLERANCE: f64 = 1e-4;

/// Rewrites the hole pixels of `img` to minimise, over the hole, the squared mismatch between
/// each pixel difference and its vote `diff[k][d]` (hole pixel `k` in `lv.holes` order, toward
/// neighbour `DIRS[d]`). Known pixels stay fixed and act as the boundary; the current colours
/// are the starting guess.
pub fn fuse(lv: &Level, img: &mut [[f32; 3]], diff: &[[[f32; 3]; 4]]) {
    let n = lv.holes.len();
    if n == 0 {
        return;
    }
    let (w, h) = (lv.w as isize, lv.h as isize);
    // Index of every hole pixel among the unknowns.
    let mut slot = vec![u32::MAX; lv.w * lv.h];
    for (k, &p) in lv.holes.iter().enumerate() {
        slot[p as usize] = k as u32;
    }
    // Per unknown: its hole neighbours, its degree and the right-hand side.
    let mut nbrs: Vec<[u32; 4]> = vec![[u32::MAX; 4]; n];
    let mut diag = vec![0.0f32; n];
    let mut rhs: Vec<[f64; 3]> = vec![[0.0; 3]; n];
    for (k, &p) in lv.holes.iter().enumerate() {
        let p = p as usize;
        let (x, y) = ((p % lv.w) as isize, (p / lv.w) as isize);
        for (d, &(dx, dy)) in DIRS.iter().enumerate() {
            let (nx, ny) = (x + dx, y + dy);
            if nx < 0 || ny < 0 || nx >= w || ny >= h {
                continue;
            }
            let q = (ny * w + nx) as usize;
            diag[k] += 1.0;
            // The wanted difference u_q - u_p; from both sides where both ends are unknown.
            let mut g = diff[k][d];
            if slot[q] != u32::MAX {
                let back = diff[slot[q] as usize][d ^ 1];
                for c in 0..3 {
                    g[c] = 0.5 * (g[c] - back[c]);
                }
                nbrs[k][d] = slot[q];
            }
            for c in 0..3 {
                rhs[k][c] -= f64::from(g[c]);
                if slot[q] == u32::MAX {
                    rhs[k][c] += f64::from(img[q][c]);
                }
            }
        }
    }
    let mut u: Vec<[f64; 3]> = lv
        .holes
        .iter()
        .map(|&p| {
            let v = img[p as usize];
            [f64::from(v[0]), f64::from(v[1]), f64::from(v[2])]
        })
        .collect();
    solve(&nbrs, &diag, &rhs, &mut u);
    for (k, &p) in lv.holes.iter().enumerate() {
        for c in 0..3 {
            img[p as usize][c] = u[k][c] as f32;
        }
    }
}

/// `A u` for the system: degree times the value minus the unknown neighbours.
fn apply(nbrs: &[[u32; 4]], diag: &[f32], u: &[[f64; 3]], out: &mut [[f64; 3]]) {
    for k in 0..u.len() {
        let d = f64::from(diag[k]);
        let mut v = [d * u[k][0], d * u[k][1], d * u[k][2]];
        for &j in &nbrs[k] {
            if j != u32::MAX {
                let q = u[j as usize];
                for c in 0..3 {
                    v[c] -= q[c];
                }
            }
        }
        out[k] = v;
    }
}

/// Conjugate gradients on the three channels side by side, in a fixed order (the same bytes
/// on every machine), from the starting guess in `u`.
fn solve(nbrs: &[[u32; 4]], diag: &[f32], rhs: &[[f64; 3]], u: &mut [[f64; 3]]) {
    let n = u.len();
    let mut r = vec![[0.0f64; 3]; n];
    apply(nbrs, diag, u, &mut r);
    for k in 0..n {
        for c in 0..3 {
            r[k][c] = rhs[k][c] - r[k][c];
        }
    }
    let mut p = r.clone();
    let mut ap = vec![[0.0f64; 3]; n];
    let dot = |a: &[[f64; 3]], b: &[[f64; 3]]| {
        let mut s = [0.0f64; 3];
        for (x, y) in a.iter().zip(b) {
            for c in 0..3 {
                s[c] += x[c] * y[c];
            }
        }
        s
    };
    let norm_b = dot(rhs, rhs);
    let mut rr = dot(&r, &r);
    for _ in 0..MAX_ITERS {
        let done = (0..3).all(|c| rr[c] <= TOLERANCE * TOLERANCE * norm_b[c].max(1.0));
        if done {
            break;
        }
        apply(nbrs, diag, &p, &mut ap);
        let pap = dot(&p, &ap);
        let alpha: [f64; 3] =
            std::array::from_fn(|c| if pap[c] > 0.0 { rr[c] / pap[c] } else { 0.0 });
        for k in 0..n {
            for c in 0..3 {
                u[k][c] += alpha[c] * p[k][c];
                r[k][c] -= alpha[c] * ap[k][c];
            }
        }
        let next = dot(&r, &r);
        let beta: [f64; 3] =
            std::array::from_fn(|c| if rr[c] > 0.0 { next[c] / rr[c] } else { 0.0 });
        for k in 0..n {
            for c in 0..3 {
                p[k][c] = r[k][c] + beta[c] * p[k][c];
            }
        }
        rr = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_differences_rebuild_a_ramp_from_a_wrong_start() {
        let (w, h) = (40, 30);
        let truth = |x: usize, y: usize| [x as f32 * 1.5 + y as f32 * 0.5, 100.0, 3.0 * y as f32];
        let hole: Vec<bool> = (0..w * h)
            .map(|i| (8..30).contains(&(i % w)) && (5..25).contains(&(i / w)))
            .collect();
        let lv = Level::new(w, h, hole, 0);
        let mut img: Vec<[f32; 3]> = (0..w * h).map(|i| truth(i % w, i / w)).collect();
        let mut diff = Vec::new();
        for &p in &lv.holes {
            let (x, y) = (p as usize % w, p as usize / w);
            let here = truth(x, y);
            diff.push(std::array::from_fn(|d| {
                let (dx, dy) = DIRS[d];
                let there = truth((x as isize + dx) as usize, (y as isize + dy) as usize);
                std::array::from_fn(|c| there[c] - here[c])
            }));
            img[p as usize] = [0.0, 255.0, 7.0];
        }
        fuse(&lv, &mut img, &diff);
        for &p in &lv.holes {
            let (x, y) = (p as usize % w, p as usize / w);
            let want = truth(x, y);
            for c in 0..3 {
                assert!((img[p as usize][c] - want[c]).abs() < 0.05, "({x}, {y})");
            }
        }
    }
}
