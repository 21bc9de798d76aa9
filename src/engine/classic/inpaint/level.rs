//! One pyramid level's geometry: which pixels are holes, which patch centres need a match
//! (targets) and which may serve as a source, plus the row bands used for parallel work.

/// Patch radius: patches are 7x7.
pub const R: usize = 3;
/// Row bands per level. Fixed, not tied to the core count, so the output does not depend on
/// the machine.
pub const BANDS: usize = 4;

/// A contiguous run of rows and the targets inside it.
#[derive(Debug, Clone, Copy)]
pub struct Band {
    pub row0: usize,
    pub row1: usize,
    pub k0: usize,
    pub k1: usize,
}

#[derive(Debug, Clone)]
pub struct Level {
    pub w: usize,
    pub h: usize,
    pub hole: Vec<bool>,
    /// Hole pixel indices, in scan order.
    pub holes: Vec<u32>,
    /// Centres whose patch touches the hole, in scan order.
    pub targets: Vec<u32>,
    pub is_target: Vec<bool>,
    /// Centres whose whole patch lies inside the plane and at least `guard` pixels away from
    /// the hole (an object's blurred edge often spills past its mask).
    pub valid: Vec<bool>,
    pub valid_list: Vec<u32>,
    pub bands: Vec<Band>,
}

impl Level {
    pub fn new(w: usize, h: usize, hole: Vec<bool>, guard: usize) -> Self {
        let sat = SumTable::new(w, h, &hole);
        let mut valid = vec![false; w * h];
        let mut is_target = vec![false; w * h];
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                is_target[i] = sat.window(x, y, R, w, h) > 0;
                let inside = x >= R && y >= R && x + R < w && y + R < h;
                valid[i] = inside && !is_target[i] && sat.window(x, y, R + guard, w, h) == 0;
            }
        }
        let holes = indices(&hole);
        let targets = indices(&is_target);
        let valid_list = indices(&valid);
        let bands = split_bands(&targets, w);
        Level {
            w,
            h,
            hole,
            holes,
            targets,
            is_target,
            valid,
            valid_list,
            bands,
        }
    }
}

fn indices(flags: &[bool]) -> Vec<u32> {
    (0..flags.len())
        .filter(|&i| flags[i])
        .map(|i| i as u32)
        .collect()
}

/// Cuts the target rows into `BANDS` runs of about equal target counts, at row boundaries so
/// each band owns whole rows of the nearest-neighbour field.
fn split_bands(targets: &[u32], w: usize) -> Vec<Band> {
    let mut bands = Vec::with_capacity(BANDS);
    let n = targets.len();
    let row = |k: usize| targets[k] as usize / w;
    let mut k0 = 0;
    for b in 1..=BANDS {
        if k0 >= n {
            break;
        }
        let mut k1 = if b == BANDS {
            n
        } else {
            (n * b / BANDS).max(k0 + 1)
        };
        // Finish the row the cut falls in.
        while k1 < n && row(k1) == row(k1 - 1) {
            k1 += 1;
        }
        bands.push(Band {
            row0: row(k0),
            row1: row(k1 - 1) + 1,
            k0,
            k1,
        });
        k0 = k1;
    }
    bands
}

/// Summed-area table of hole flags, for "any hole in this window" queries in O(1).
pub struct SumTable {
    w1: usize,
    s: Vec<u32>,
}

impl SumTable {
    pub fn new(w: usize, h: usize, flags: &[bool]) -> Self {
        let w1 = w + 1;
        let mut s = vec![0u32; w1 * (h + 1)];
        for y in 0..h {
            let mut row = 0u32;
            for x in 0..w {
                row += u32::from(flags[y * w + x]);
                s[(y + 1) * w1 + x + 1] = s[y * w1 + x + 1] + row;
            }
        }
        SumTable { w1, s }
    }

    /// Flags set in the (2r+1)^2 window around (x, y), clipped to the plane.
    pub fn window(&self, x: usize, y: usize, r: usize, w: usize, h: usize) -> u32 {
        let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
        let (x1, y1) = ((x + r + 1).min(w), (y + r + 1).min(h));
        let at = |xx: usize, yy: usize| self.s[yy * self.w1 + xx];
        at(x1, y1) + at(x0, y0) - at(x0, y1) - at(x1, y0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_surround_the_hole_and_sources_avoid_it() {
        let (w, h) = (30, 20);
        let hole: Vec<bool> = (0..w * h).map(|i| i % w == 15 && i / w == 10).collect();
        let lv = Level::new(w, h, hole.clone(), 0);
        assert_eq!(lv.targets.len(), 49);
        assert!(lv.is_target[7 * w + 12] && !lv.is_target[6 * w + 12]);
        assert!(!lv.valid[10 * w + 18] && lv.valid[10 * w + 19]);
        assert!(!lv.valid[2 * w + 5] && lv.valid[3 * w + 5]);
        let covered: usize = lv.bands.iter().map(|b| b.k1 - b.k0).sum();
        assert_eq!(covered, 49);
        assert!(lv.bands.windows(2).all(|p| p[0].row1 <= p[1].row0));
        let guarded = Level::new(w, h, hole, 2);
        assert!(!guarded.valid[10 * w + 20] && guarded.valid[10 * w + 21]);
        assert_eq!(guarded.targets, lv.targets);
    }
}
