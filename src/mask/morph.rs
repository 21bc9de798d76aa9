//! Mask filters whose cost does not depend on the radius: dilation (van Herk/Gil-Werman running
//! maxima) and feathering (three box blurs with running sums). Vertical passes walk whole rows
//! at a time so they stay cache friendly; all arithmetic is integer, so results are exact.

use image::GrayImage;

/// Dilates the mask by `radius` pixels (square neighbourhood), keeping soft values.
pub fn grow(mask: &mut GrayImage, radius: u32) {
    if radius == 0 {
        return;
    }
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let r = radius as usize;
    let data: &mut [u8] = mask.as_mut();
    let mut line = vec![0u8; w];
    let (mut pre, mut suf) = (vec![0u8; w], vec![0u8; w]);
    for row in data.chunks_exact_mut(w) {
        line.copy_from_slice(row);
        max_filter(&line, row, r, &mut pre, &mut suf);
    }
    max_filter_rows(data, w, h, r);
}

/// Block-wise running maxima: within blocks of `2r + 1`, `pre` holds the max from the block
/// start and `suf` the max to the block end; any window then spans at most two blocks.
fn max_filter(src: &[u8], dst: &mut [u8], r: usize, pre: &mut [u8], suf: &mut [u8]) {
    let n = src.len();
    let k = 2 * r + 1;
    for start in (0..n).step_by(k) {
        let end = (start + k).min(n);
        let mut m = 0;
        for i in start..end {
            m = m.max(src[i]);
            pre[i] = m;
        }
        m = 0;
        for i in (start..end).rev() {
            m = m.max(src[i]);
            suf[i] = m;
        }
    }
    for (i, out) in dst.iter_mut().enumerate() {
        let (lo, hi) = (i.saturating_sub(r), (i + r).min(n - 1));
        *out = window_max(lo, hi, k, |j| pre[j], |j| suf[j]);
    }
}

/// The maximum over `[lo, hi]` from the block-wise prefix and suffix maxima.
fn window_max(
    lo: usize,
    hi: usize,
    k: usize,
    pre: impl Fn(usize) -> u8,
    suf: impl Fn(usize) -> u8,
) -> u8 {
    if lo / k != hi / k {
        suf(lo).max(pre(hi))
    } else if lo.is_multiple_of(k) {
        // Same block, window starts at the block start (clipped at the top or left edge).
        pre(hi)
    } else {
        // Same block, clipped at the bottom or right edge: the suffix ends at the image end.
        suf(lo)
    }
}

/// `max_filter` down every column at once, one row of the image at a time.
fn max_filter_rows(data: &mut [u8], w: usize, h: usize, r: usize) {
    let k = 2 * r + 1;
    let mut pre = vec![0u8; w * h];
    let mut suf = vec![0u8; w * h];
    for start in (0..h).step_by(k) {
        let end = (start + k).min(h);
        for y in start..end {
            let row = &data[y * w..(y + 1) * w];
            if y == start {
                pre[y * w..(y + 1) * w].copy_from_slice(row);
            } else {
                let (done, cur) = pre.split_at_mut(y * w);
                for ((p, &q), &v) in cur[..w].iter_mut().zip(&done[(y - 1) * w..]).zip(row) {
                    *p = q.max(v);
                }
            }
        }
        for y in (start..end).rev() {
            let row = &data[y * w..(y + 1) * w];
            if y == end - 1 {
                suf[y * w..(y + 1) * w].copy_from_slice(row);
            } else {
                let (cur, done) = suf.split_at_mut((y + 1) * w);
                for ((s, &q), &v) in cur[y * w..].iter_mut().zip(&done[..w]).zip(row) {
                    *s = q.max(v);
                }
            }
        }
    }
    for y in 0..h {
        let (lo, hi) = (y.saturating_sub(r), (y + r).min(h - 1));
        let out = &mut data[y * w..(y + 1) * w];
        if lo / k != hi / k {
            let (s, p) = (&suf[lo * w..(lo + 1) * w], &pre[hi * w..(hi + 1) * w]);
            for ((o, &a), &b) in out.iter_mut().zip(s).zip(p) {
                *o = a.max(b);
            }
        } else if lo.is_multiple_of(k) {
            out.copy_from_slice(&pre[hi * w..(hi + 1) * w]);
        } else {
            out.copy_from_slice(&suf[lo * w..(lo + 1) * w]);
        }
    }
}

/// Softens the mask edges over about `radius` pixels: three box blurs approximate a Gaussian.
pub fn feather(mask: &mut GrayImage, radius: u32) {
    if radius == 0 {
        return;
    }
    // Three passes of a box of half-width b give a Gaussian of sigma ~ b; feathering by `radius`
    // should fade over roughly the radius on each side, so sigma ~ radius / 2.
    // Capped so the box window stays small enough for the exact reciprocal in `Divider`.
    let b = (radius.min(4000) as usize).div_ceil(2);
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let data: &mut [u8] = mask.as_mut();
    let mut line = vec![0u8; w];
    let mut pad = Vec::with_capacity(w + 2 * b + 2);
    for row in data.chunks_exact_mut(w) {
        for _ in 0..3 {
            line.copy_from_slice(row);
            box_blur(&line, row, b, &mut pad);
        }
    }
    let mut src = vec![0u8; w * h];
    for _ in 0..3 {
        src.copy_from_slice(data);
        box_blur_rows(&src, data, w, h, b);
    }
}

/// Rounded division of a window sum by the window size, as a multiply and shift: a hardware
/// divide per pixel would dominate the blur. Exact while `255 * win * win < 2^32`.
#[derive(Clone, Copy)]
struct Divider {
    win: u32,
    mul: u64,
}

impl Divider {
    fn new(win: u32) -> Divider {
        Divider {
            win,
            mul: (1u64 << 32).div_ceil(win as u64),
        }
    }

    fn mean(self, sum: u32) -> u8 {
        (((sum + self.win / 2) as u64 * self.mul) >> 32) as u8
    }
}

/// Mean over `[i - b, i + b]`, with the edge values repeated past the ends. `pad` is scratch.
fn box_blur(src: &[u8], dst: &mut [u8], b: usize, pad: &mut Vec<u8>) {
    // Padding the line once keeps the running-sum loop free of edge checks.
    let (first, last) = (src[0], src[src.len() - 1]);
    pad.clear();
    pad.extend(std::iter::repeat_n(first, b + 1));
    pad.extend_from_slice(src);
    pad.extend(std::iter::repeat_n(last, b + 1));
    let div = Divider::new(2 * b as u32 + 1);
    let mut sum: u32 = pad[1..2 * b + 2].iter().map(|&v| v as u32).sum();
    // Output i averages pad[i + 1 ..= i + 2b + 1]; step by adding the entering value and
    // removing the leaving one.
    for (i, out) in dst.iter_mut().enumerate() {
        *out = div.mean(sum);
        sum = sum + pad[i + 2 * b + 2] as u32 - pad[i + 1] as u32;
    }
}

/// `box_blur` down every column at once, keeping one running sum per column.
fn box_blur_rows(src: &[u8], dst: &mut [u8], w: usize, h: usize, b: usize) {
    let row = |y: i64| {
        let y = y.clamp(0, h as i64 - 1) as usize;
        &src[y * w..(y + 1) * w]
    };
    let div = Divider::new(2 * b as u32 + 1);
    let mut sums = vec![0u32; w];
    for k in -(b as i64)..=b as i64 {
        for (s, &v) in sums.iter_mut().zip(row(k)) {
            *s += v as u32;
        }
    }
    for (y, out) in dst.chunks_exact_mut(w).enumerate() {
        for (o, &s) in out.iter_mut().zip(&sums) {
            *o = div.mean(s);
        }
        let y = y as i64;
        for ((s, &a), &d) in sums
            .iter_mut()
            .zip(row(y + b as i64 + 1))
            .zip(row(y - b as i64))
        {
            *s = *s + a as u32 - d as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn grow_and_feather_widen_and_soften() {
        let mut m = GrayImage::new(21, 21);
        m.put_pixel(10, 10, Luma([255]));
        grow(&mut m, 3);
        assert_eq!(m.get_pixel(13, 13).0[0], 255);
        assert_eq!(m.get_pixel(14, 10).0[0], 0);
        assert_eq!(m.get_pixel(10, 6).0[0], 0);
        feather(&mut m, 4);
        let (c, e) = (m.get_pixel(10, 10).0[0], m.get_pixel(15, 10).0[0]);
        assert!(c > e && e > 0, "centre {c} edge {e}");
        assert_eq!(m.get_pixel(15, 10), m.get_pixel(10, 15), "same both ways");
    }

    #[test]
    fn box_blur_matches_brute_force() {
        let src: Vec<u8> = (0..40u32).map(|i| ((i * 53) % 256) as u8).collect();
        let (mut dst, mut pad) = (vec![0u8; 40], Vec::new());
        box_blur(&src, &mut dst, 3, &mut pad);
        for i in 0..40i64 {
            let sum: u32 = (i - 3..=i + 3)
                .map(|j| src[j.clamp(0, 39) as usize] as u32)
                .sum();
            assert_eq!(dst[i as usize] as u32, (sum + 3) / 7, "at {i}");
        }
    }

    #[test]
    fn divider_is_exact() {
        for win in [1u32, 3, 7, 255, 4001] {
            let d = Divider::new(win);
            for sum in (0..=255 * win).step_by(1 + win as usize / 3) {
                assert_eq!(d.mean(sum) as u32, (sum + win / 2) / win, "{sum}/{win}");
            }
        }
    }

    #[test]
    fn grow_matches_brute_force_in_both_directions() {
        for (w, h, r) in [(50, 37, 4), (9, 13, 1), (20, 20, 30), (33, 7, 3)] {
            let m = GrayImage::from_fn(w, h, |x, y| Luma([((x * 37 + y * 91) % 101) as u8]));
            let mut got = m.clone();
            grow(&mut got, r);
            for y in 0..h {
                for x in 0..w {
                    let mut want = 0;
                    for yy in y.saturating_sub(r)..=(y + r).min(h - 1) {
                        for xx in x.saturating_sub(r)..=(x + r).min(w - 1) {
                            want = want.max(m.get_pixel(xx, yy).0[0]);
                        }
                    }
                    assert_eq!(got.get_pixel(x, y).0[0], want, "{w}x{h} r{r} at ({x}, {y})");
                }
            }
        }
    }
}
