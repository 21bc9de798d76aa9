//! Structure first: at the coarsest level the hole is filled patch by patch in priority order
//! (in the manner of Criminisi et al.), where a strong edge meets the fill front going first,
//! so lines and contours run on into the hole before flat areas close over them.

use super::level::{Level, R};

/// Keeps flat fronts moving (in onion-peel order) where no edge reaches them.
const FLAT_PRIORITY: f32 = 0.02;

/// Fills every hole pixel of `img` by copying whole patches from the sources of `lv`, front
/// pixel of highest priority first. `per_px` is the match penalty per pixel of distance.
pub fn priority_fill(lv: &Level, img: &mut [[f32; 3]], per_px: f32) {
    if lv.valid_list.is_empty() || lv.holes.is_empty() {
        return;
    }
    let mut filled: Vec<bool> = lv.hole.iter().map(|&x| !x).collect();
    let mut conf: Vec<f32> = filled.iter().map(|&f| f32::from(u8::from(f))).collect();
    let mut left = lv.holes.len();
    while left > 0 {
        let mut best: Option<(f32, usize)> = None;
        for &i in &lv.holes {
            let i = i as usize;
            if filled[i] || !on_front(lv, &filled, i) {
                continue;
            }
            let p = confidence(lv, &conf, i) * (FLAT_PRIORITY + data_term(lv, img, &filled, i));
            if best.is_none_or(|(bp, _)| p > bp) {
                best = Some((p, i));
            }
        }
        let Some((_, t)) = best else {
            break;
        };
        let c = confidence(lv, &conf, t);
        let s = best_source(lv, img, &filled, t, per_px);
        for (ti, si) in window_pairs(lv, t, s) {
            if !filled[ti] {
                img[ti] = img[si];
                filled[ti] = true;
                conf[ti] = c;
                left -= 1;
            }
        }
    }
}

/// Pixel pairs (target, source) of the patches at `t` and `s`, clipped to the plane around
/// `t` (sources lie wholly inside).
fn window_pairs(lv: &Level, t: usize, s: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let (w, h) = (lv.w as isize, lv.h as isize);
    let (tx, ty) = ((t % lv.w) as isize, (t / lv.w) as isize);
    let r = R as isize;
    (-r..=r).flat_map(move |dy| {
        (-r..=r).filter_map(move |dx| {
            let (x, y) = (tx + dx, ty + dy);
            if x < 0 || y < 0 || x >= w || y >= h {
                return None;
            }
            let si = (s as isize + dy * w + dx) as usize;
            Some(((y * w + x) as usize, si))
        })
    })
}

fn on_front(lv: &Level, filled: &[bool], i: usize) -> bool {
    let (x, y) = (i % lv.w, i / lv.w);
    (x > 0 && filled[i - 1])
        || (x + 1 < lv.w && filled[i + 1])
        || (y > 0 && filled[i - lv.w])
        || (y + 1 < lv.h && filled[i + lv.w])
}

/// Mean confidence over the patch: how much of it is known, and how surely.
fn confidence(lv: &Level, conf: &[f32], t: usize) -> f32 {
    let side = (2 * R + 1) as f32;
    window_pairs(lv, t, t).map(|(i, _)| conf[i]).sum::<f32>() / (side * side)
}

/// How strongly an edge flows into the front at `t`: the strongest known isophote in the
/// patch, projected on the front's normal, in units of the 8-bit range.
fn data_term(lv: &Level, img: &[[f32; 3]], filled: &[bool], t: usize) -> f32 {
    let (w, h) = (lv.w, lv.h);
    let known = |x: isize, y: isize| -> f32 {
        let inside = x >= 0 && y >= 0 && x < w as isize && y < h as isize;
        f32::from(u8::from(inside && filled[y as usize * w + x as usize]))
    };
    let (tx, ty) = ((t % w) as isize, (t / w) as isize);
    // Normal of the front: the gradient of the filled indicator (Sobel).
    let nx = known(tx + 1, ty - 1) + 2.0 * known(tx + 1, ty) + known(tx + 1, ty + 1)
        - known(tx - 1, ty - 1)
        - 2.0 * known(tx - 1, ty)
        - known(tx - 1, ty + 1);
    let ny = known(tx - 1, ty + 1) + 2.0 * known(tx, ty + 1) + known(tx + 1, ty + 1)
        - known(tx - 1, ty - 1)
        - 2.0 * known(tx, ty - 1)
        - known(tx + 1, ty - 1);
    let norm = (nx * nx + ny * ny).sqrt();
    if norm == 0.0 {
        return 0.0;
    }
    let lum = |i: usize| 0.299 * img[i][0] + 0.587 * img[i][1] + 0.114 * img[i][2];
    let (mut gx, mut gy, mut best) = (0.0f32, 0.0f32, 0.0f32);
    for (i, _) in window_pairs(lv, t, t) {
        let (x, y) = (i % w, i / w);
        if !filled[i] || x == 0 || y == 0 || x + 1 >= w || y + 1 >= h {
            continue;
        }
        let around = [i - 1, i + 1, i - w, i + w];
        if around.iter().any(|&j| !filled[j]) {
            continue;
        }
        let (ax, ay) = (
            0.5 * (lum(i + 1) - lum(i - 1)),
            0.5 * (lum(i + w) - lum(i - w)),
        );
        let m = ax * ax + ay * ay;
        if m > best {
            (gx, gy, best) = (ax, ay, m);
        }
    }
    // The isophote runs across the gradient: (-gy, gx).
    ((-gy * nx + gx * ny) / norm).abs() / 255.0
}

/// The source patch closest to the known pixels of the patch at `t`, plus the distance
/// penalty; ties go to the first in scan order.
fn best_source(lv: &Level, img: &[[f32; 3]], filled: &[bool], t: usize, per_px: f32) -> usize {
    let pairs: Vec<(usize, isize)> = window_pairs(lv, t, t)
        .filter(|&(i, _)| filled[i])
        .map(|(i, _)| (i, i as isize - t as isize))
        .collect();
    let (tx, ty) = ((t % lv.w) as f32, (t / lv.w) as f32);
    let mut best = (f32::INFINITY, lv.valid_list[0] as usize);
    for &s in &lv.valid_list {
        let s = s as usize;
        let (dx, dy) = (tx - (s % lv.w) as f32, ty - (s / lv.w) as f32);
        let mut d = per_px * (dx * dx + dy * dy).sqrt();
        for &(i, off) in &pairs {
            if d >= best.0 {
                break;
            }
            let (a, b) = (img[i], img[(s as isize + off) as usize]);
            d += (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2);
        }
        if d < best.0 {
            best = (d, s);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vertical_edge_runs_on_through_the_hole() {
        let (w, h) = (40, 40);
        let mut img: Vec<[f32; 3]> = (0..w * h)
            .map(|i| if i % w < 18 { [20.0; 3] } else { [220.0; 3] })
            .collect();
        let hole: Vec<bool> = (0..w * h)
            .map(|i| (12..26).contains(&(i % w)) && (14..28).contains(&(i / w)))
            .collect();
        for (v, &hl) in img.iter_mut().zip(&hole) {
            if hl {
                *v = [128.0, 0.0, 128.0];
            }
        }
        let lv = Level::new(w, h, hole, 0);
        priority_fill(&lv, &mut img, 1.0);
        for y in 14..28 {
            for x in 12..26 {
                let want = if x < 18 { 20.0 } else { 220.0 };
                assert_eq!(img[y * w + x], [want; 3], "pixel ({x}, {y})");
            }
        }
    }
}
