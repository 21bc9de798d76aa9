//! Structure plus texture (in the manner of Bertalmio et al. 2003): the hole's shading comes
//! from a smooth membrane fill, except where the copied patches proved they predict this
//! texture, and its fine detail from the copies, scaled to the gradient energy around the hole.

use super::level::{Level, SumTable, R};
use super::patchmatch::Nnf;
use super::plane::Plane;
use super::smooth::membrane_fill;

/// The detail is what one 3x3 box blur takes away: only the finest grain and edges, which
/// carry most of the gradient energy for the least error where the copies are not the truth.
const BLUR_RADIUS: usize = 1;
const BLUR_PASSES: usize = 1;
/// The hole's gradient energy, as a share of the ring's around it.
const ENERGY_TARGET: f32 = 1.0;
/// The largest gain on the copied detail: voting averages overlapping copies, which thins
/// their grain, but never more than three times what the copies show.
const MAX_GAIN: f32 = 3.0;
/// Width of the ring whose gradient energy the hole matches, in pixels past the hole's edge.
const RING: usize = 8;
/// Prediction error of the copies on the known pixels they overlap, as a share of what a
/// random patch of the same texture would give: at or below `TRUST_FULL` the copies are
/// kept whole (a periodic texture), at or above `TRUST_NONE` only their detail is.
const TRUST_FULL: f32 = 0.1;
const TRUST_NONE: f32 = 0.3;

/// Half-width of the window over which the copies' prediction errors are pooled, in pixels.
const TRUST_RADIUS: usize = 8;

/// How far the copies of `nnf` can be trusted for the shading of each pixel, in [0, 1]: how
/// well they predict the known pixels of the patches that overlap the hole's edge nearby,
/// against the error two unrelated patches of that texture would give (twice its variance),
/// carried into the hole by a membrane fill.
pub fn trust(lv: &Level, img: &[[f32; 3]], nnf: &Nnf) -> Vec<f32> {
    let (w, h) = (lv.w, lv.h);
    let mut err = vec![0.0f64; w * h];
    let mut var = vec![0.0f64; w * h];
    for &t in &lv.targets {
        let t = t as usize;
        (err[t], var[t]) = prediction_error(lv, img, t, nnf.src[t] as usize);
    }
    let total = (err.iter().sum::<f64>(), var.iter().sum::<f64>());
    let (err, var) = (box_sums(&err, w, h), box_sums(&var, w, h));
    let (full, none) = (TRUST_FULL, TRUST_NONE);
    let to_trust =
        |e: f64, v: f64| ((none - (e / (2.0 * v)) as f32) / (none - full)).clamp(0.0, 1.0);
    let global = to_trust(total.0, total.1.max(1e-6));
    let mut map = Plane::new(w, h);
    let sat = SumTable::new(w, h, &lv.hole);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let near = sat.window(x, y, TRUST_RADIUS, w, h) > 0;
            let v = var.window(x, y);
            let t = if lv.hole[i] || !near || v <= 1e-6 {
                global
            } else {
                to_trust(err.window(x, y), v).max(global)
            };
            map.px[i] = [t; 3];
        }
    }
    membrane_fill(&mut map, &lv.hole);
    map.px.iter().map(|v| v[0].clamp(0.0, 1.0)).collect()
}

/// Squared error of source `s` against the known pixels of the patch at target `t`, and the
/// squared deviation of those pixels from their mean (both summed over pixels and channels).
fn prediction_error(lv: &Level, img: &[[f32; 3]], t: usize, s: usize) -> (f64, f64) {
    let (w, r) = (lv.w as isize, R as isize);
    let (tx, ty) = ((t % lv.w) as isize, (t / lv.w) as isize);
    let mut known = [(0usize, 0usize); (2 * R + 1) * (2 * R + 1)];
    let mut n = 0;
    for dy in -r..=r {
        for dx in -r..=r {
            let (x, y) = (tx + dx, ty + dy);
            if x < 0 || y < 0 || x >= w || y >= lv.h as isize {
                continue;
            }
            let i = (y * w + x) as usize;
            if !lv.hole[i] {
                known[n] = (i, (s as isize + dy * w + dx) as usize);
                n += 1;
            }
        }
    }
    if n < 2 {
        return (0.0, 0.0);
    }
    let known = &known[..n];
    let mut mean = [0.0f64; 3];
    for &(i, _) in known {
        for c in 0..3 {
            mean[c] += f64::from(img[i][c]) / n as f64;
        }
    }
    let (mut err, mut var) = (0.0f64, 0.0f64);
    for &(i, si) in known {
        for c in 0..3 {
            let (a, b) = (f64::from(img[i][c]), f64::from(img[si][c]));
            err += (a - b) * (a - b);
            var += (a - mean[c]) * (a - mean[c]);
        }
    }
    (err, var)
}

/// Sums of `v` over the (2 TRUST_RADIUS + 1)^2 window around each pixel, clipped to the plane.
struct BoxSums {
    w: usize,
    h: usize,
    s: Vec<f64>,
}

fn box_sums(v: &[f64], w: usize, h: usize) -> BoxSums {
    let w1 = w + 1;
    let mut s = vec![0.0f64; w1 * (h + 1)];
    for y in 0..h {
        let mut row = 0.0;
        for x in 0..w {
            row += v[y * w + x];
            s[(y + 1) * w1 + x + 1] = s[y * w1 + x + 1] + row;
        }
    }
    BoxSums { w, h, s }
}

impl BoxSums {
    fn window(&self, x: usize, y: usize) -> f64 {
        let r = TRUST_RADIUS;
        let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
        let (x1, y1) = ((x + r + 1).min(self.w), (y + r + 1).min(self.h));
        let at = |xx: usize, yy: usize| self.s[yy * (self.w + 1) + xx];
        at(x1, y1) + at(x0, y0) - at(x0, y1) - at(x1, y0)
    }
}

/// Rewrites the hole pixels of `p` (filled with copies) as the smooth fill's shading pulled
/// toward the copies' shading by `trust`, plus the copies' fine detail at the gain that
/// gives the hole the ring's gradient energy (the copies' own gain where fully trusted).
pub fn split_blend(p: &mut Plane, hole: &[bool], trust: &[f32]) {
    let (w, h) = (p.w, p.h);
    let holes: Vec<usize> = (0..hole.len()).filter(|&i| hole[i]).collect();
    if holes.is_empty() {
        return;
    }
    let mut smooth = p.clone();
    membrane_fill(&mut smooth, hole);
    let radius = BLUR_RADIUS;
    let passes = BLUR_PASSES;
    let low = blurred(p, radius, passes);
    // Shading and detail of every hole pixel.
    let base: Vec<[f32; 3]> = holes
        .iter()
        .map(|&i| {
            std::array::from_fn(|c| smooth.px[i][c] + trust[i] * (low[i][c] - smooth.px[i][c]))
        })
        .collect();
    let detail: Vec<[f32; 3]> = holes
        .iter()
        .map(|&i| std::array::from_fn(|c| p.px[i][c] - low[i][c]))
        .collect();
    let sat = SumTable::new(w, h, hole);
    let ring_energy = {
        let (mut sum, mut n) = (0.0f64, 0usize);
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let near = sat.window(x, y, RING, w, h) > 0 && sat.window(x, y, 1, w, h) == 0;
                if near && x + 1 < w && y + 1 < h {
                    sum += f64::from(grad(&p.px, i, w));
                    n += 1;
                }
            }
        }
        sum / n.max(1) as f64
    };
    let inner: Vec<usize> = holes
        .iter()
        .copied()
        .filter(|&i| {
            let (x, y) = (i % w, i / w);
            x + 1 < w && y + 1 < h && sat.window(x, y, 1, w, h) == 9
        })
        .collect();
    let target = ENERGY_TARGET;
    let mut img = p.px.clone();
    let energy_at = |gain: f32, img: &mut Vec<[f32; 3]>| -> f64 {
        for (k, &i) in holes.iter().enumerate() {
            let g = trust[i] + (1.0 - trust[i]) * gain;
            img[i] = std::array::from_fn(|c| base[k][c] + g * detail[k][c]);
        }
        let sum: f64 = inner.iter().map(|&i| f64::from(grad(img, i, w))).sum();
        sum / inner.len().max(1) as f64
    };
    let max_gain = MAX_GAIN;
    let want = f64::from(target) * ring_energy;
    let matched = if inner.is_empty() || energy_at(max_gain, &mut img) <= want {
        max_gain
    } else if energy_at(0.0, &mut img) >= want {
        0.0
    } else {
        let (mut lo, mut hi) = (0.0f32, max_gain);
        for _ in 0..16 {
            let mid = 0.5 * (lo + hi);
            if energy_at(mid, &mut img) < want {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    };
    energy_at(matched, &mut img);
    for &i in &holes {
        p.px[i] = img[i];
    }
}

/// Gradient magnitude of the channel mean at `i` by forward differences (inside the plane).
fn grad(img: &[[f32; 3]], i: usize, w: usize) -> f32 {
    let lum = |j: usize| (img[j][0] + img[j][1] + img[j][2]) / 3.0;
    let (gx, gy) = (lum(i + 1) - lum(i), lum(i + w) - lum(i));
    (gx * gx + gy * gy).sqrt()
}

/// `passes` box blurs of `radius` (separable, edges clamped) of the whole plane.
fn blurred(p: &Plane, radius: usize, passes: usize) -> Vec<[f32; 3]> {
    let (w, h) = (p.w, p.h);
    let mut cur = p.px.clone();
    let mut tmp = vec![[0.0f32; 3]; w * h];
    let k = 1.0 / (2 * radius + 1) as f32;
    for _ in 0..passes {
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0.0f32; 3];
                for d in 0..=2 * radius {
                    let xx = (x + d).saturating_sub(radius).min(w - 1);
                    let v = cur[y * w + xx];
                    for c in 0..3 {
                        acc[c] += v[c];
                    }
                }
                tmp[y * w + x] = std::array::from_fn(|c| acc[c] * k);
            }
        }
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0.0f32; 3];
                for d in 0..=2 * radius {
                    let yy = (y + d).saturating_sub(radius).min(h - 1);
                    let v = tmp[yy * w + x];
                    for c in 0..3 {
                        acc[c] += v[c];
                    }
                }
                cur[y * w + x] = std::array::from_fn(|c| acc[c] * k);
            }
        }
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic grain in [-1, 1].
    fn grain(i: usize) -> f32 {
        let v = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        (v % 2001) as f32 / 1000.0 - 1.0
    }

    fn square(w: usize, h: usize, x0: usize, y0: usize, s: usize) -> Vec<bool> {
        (0..w * h)
            .map(|i| (x0..x0 + s).contains(&(i % w)) && (y0..y0 + s).contains(&(i / w)))
            .collect()
    }

    /// A field whose every target points at the same place shifted by `(dx, dy)`.
    fn shifted(lv: &Level, dx: usize, dy: usize) -> Nnf {
        let mut src = vec![0u32; lv.w * lv.h];
        for &t in &lv.targets {
            src[t as usize] = t + (dy * lv.w + dx) as u32;
        }
        Nnf {
            src,
            dist: vec![0.0; lv.w * lv.h],
        }
    }

    #[test]
    fn copies_of_a_period_are_trusted_and_copies_of_noise_are_not() {
        let (w, h) = (64, 64);
        let hole = square(w, h, 16, 16, 12);
        let lv = Level::new(w, h, hole, 0);
        // Stripes of period 8: a shift by one period predicts the edge exactly.
        let stripes: Vec<[f32; 3]> = (0..w * h)
            .map(|i| [if (i % w) % 8 < 4 { 40.0 } else { 200.0 }; 3])
            .collect();
        let trusted = trust(&lv, &stripes, &shifted(&lv, 24, 0));
        assert!(lv.holes.iter().all(|&i| trusted[i as usize] > 0.99));
        // Independent noise: a shifted copy predicts nothing.
        let noise: Vec<[f32; 3]> = (0..w * h).map(|i| [128.0 + 60.0 * grain(i); 3]).collect();
        let doubted = trust(&lv, &noise, &shifted(&lv, 24, 0));
        assert!(lv.holes.iter().all(|&i| doubted[i as usize] < 0.01));
    }

    fn energy(img: &[[f32; 3]], w: usize, pick: impl Fn(usize) -> bool) -> f32 {
        let (mut s, mut n) = (0.0f32, 0.0f32);
        for i in 0..img.len() - w - 1 {
            if pick(i) && i % w + 1 < w {
                s += grad(img, i, w);
                n += 1.0;
            }
        }
        s / n
    }

    #[test]
    fn faint_copied_grain_is_raised_to_the_rings_energy_and_known_pixels_stay() {
        let (w, h) = (80, 80);
        let hole = square(w, h, 25, 25, 30);
        let mut p = Plane::new(w, h);
        for (i, v) in p.px.iter_mut().enumerate() {
            // Grain all over; inside the hole at half its strength, as averaged votes leave it.
            let k = if hole[i] { 0.5 } else { 1.0 };
            *v = [100.0 + 40.0 * k * grain(i); 3];
        }
        let before = p.clone();
        split_blend(&mut p, &hole, &vec![0.0; w * h]);
        for ((a, b), &inside) in p.px.iter().zip(&before.px).zip(&hole) {
            if !inside {
                assert_eq!(a, b);
            }
        }
        let inside = |i: usize| (27..53).contains(&(i % w)) && (27..53).contains(&(i / w));
        let ring = |i: usize| {
            let (x, y) = (i % w, i / w);
            !hole[i] && (17..63).contains(&x) && (17..63).contains(&y)
        };
        let (a, b) = (energy(&p.px, w, inside), energy(&p.px, w, ring));
        assert!(
            (a / b - 1.0).abs() < 0.15,
            "hole {a:.2} against ring {b:.2}"
        );
        let was = energy(&before.px, w, inside);
        assert!(
            a > 1.5 * was,
            "the grain was not raised: {was:.2} -> {a:.2}"
        );
    }

    #[test]
    fn fully_trusted_copies_are_kept_as_they_are() {
        let (w, h) = (60, 50);
        let hole = square(w, h, 20, 15, 18);
        let mut p = Plane::new(w, h);
        for (i, v) in p.px.iter_mut().enumerate() {
            *v = [
                50.0 + 100.0 * grain(i).abs(),
                80.0,
                120.0 + 30.0 * grain(i + 7),
            ];
        }
        let before = p.clone();
        split_blend(&mut p, &hole, &vec![1.0; w * h]);
        for (a, b) in p.px.iter().zip(&before.px) {
            for c in 0..3 {
                assert!((a[c] - b[c]).abs() < 1e-3);
            }
        }
    }
}
