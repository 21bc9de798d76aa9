//! A floating-point RGB plane with the resampling steps the inpainting pyramid needs.

/// An RGB image in `f32`, row-major, with no alpha.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    pub w: usize,
    pub h: usize,
    pub px: Vec<[f32; 3]>,
}

impl Plane {
    pub fn new(w: usize, h: usize) -> Self {
        Plane {
            w,
            h,
            px: vec![[0.0; 3]; w * h],
        }
    }

    /// Half-size plane and hole: a coarse pixel is a hole when any of its children is, so that
    /// every coarse known pixel is made only of known data.
    pub fn downsample(&self, hole: &[bool]) -> (Plane, Vec<bool>) {
        let (cw, ch) = (self.w.div_ceil(2), self.h.div_ceil(2));
        let mut out = Plane::new(cw, ch);
        let mut chole = vec![false; cw * ch];
        for cy in 0..ch {
            for cx in 0..cw {
                let mut acc = [0.0f32; 3];
                let mut n = 0.0f32;
                let mut any_hole = false;
                for (x, y) in children(cx, cy, self.w, self.h) {
                    let i = y * self.w + x;
                    any_hole |= hole[i];
                    add(&mut acc, self.px[i], 1.0);
                    n += 1.0;
                }
                out.px[cy * cw + cx] = scale(acc, 1.0 / n);
                chole[cy * cw + cx] = any_hole;
            }
        }
        (out, chole)
    }

    /// Overwrites the hole pixels of `self` with the bilinear upsampling of `coarse`, a plane
    /// half this size.
    pub fn fill_from_coarse(&mut self, hole: &[bool], coarse: &Plane) {
        for y in 0..self.h {
            for x in 0..self.w {
                let i = y * self.w + x;
                if hole[i] {
                    self.px[i] = coarse.bilinear((x as f32 - 0.5) * 0.5, (y as f32 - 0.5) * 0.5);
                }
            }
        }
    }

    /// Sample at a fractional position, clamped to the plane.
    pub fn bilinear(&self, fx: f32, fy: f32) -> [f32; 3] {
        let fx = fx.clamp(0.0, (self.w - 1) as f32);
        let fy = fy.clamp(0.0, (self.h - 1) as f32);
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
        let mut acc = [0.0f32; 3];
        add(&mut acc, self.px[y0 * self.w + x0], (1.0 - ax) * (1.0 - ay));
        add(&mut acc, self.px[y0 * self.w + x1], ax * (1.0 - ay));
        add(&mut acc, self.px[y1 * self.w + x0], (1.0 - ax) * ay);
        add(&mut acc, self.px[y1 * self.w + x1], ax * ay);
        acc
    }
}

/// The (up to four) fine pixels under coarse pixel (cx, cy).
pub fn children(cx: usize, cy: usize, w: usize, h: usize) -> impl Iterator<Item = (usize, usize)> {
    let xs = [2 * cx, 2 * cx + 1];
    let ys = [2 * cy, 2 * cy + 1];
    ys.into_iter()
        .filter(move |&y| y < h)
        .flat_map(move |y| xs.into_iter().filter(move |&x| x < w).map(move |x| (x, y)))
}

#[inline]
pub fn add(acc: &mut [f32; 3], v: [f32; 3], k: f32) {
    acc[0] += v[0] * k;
    acc[1] += v[1] * k;
    acc[2] += v[2] * k;
}

#[inline]
pub fn scale(v: [f32; 3], k: f32) -> [f32; 3] {
    [v[0] * k, v[1] * k, v[2] * k]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsample_marks_coarse_holes_conservatively() {
        let mut p = Plane::new(3, 3);
        for (i, v) in p.px.iter_mut().enumerate() {
            *v = [i as f32; 3];
        }
        let mut hole = vec![false; 9];
        hole[4] = true;
        let (c, ch) = p.downsample(&hole);
        assert_eq!((c.w, c.h), (2, 2));
        assert_eq!(ch, vec![true, false, false, false]);
        assert_eq!(c.px[0], [(0.0 + 1.0 + 3.0 + 4.0) / 4.0; 3]);
        assert_eq!(c.px[3], [8.0; 3]);
    }
}
