//! The final blend: the matches vote for the hole's pixel differences, and the hole is rebuilt
//! in the gradient domain against the known pixels around it, so the fill meets its
//! surroundings with no seam and smooth shading runs on through the hole exactly.

use super::level::Level;
use super::patchmatch::Nnf;
use super::plane::Plane;
use super::poisson::fuse;
use super::vote::predict_diffs;

/// Rebuilds the hole pixels of `p` (already filled from `nnf`) from the differences the
/// matched patches show, with the known pixels as the boundary.
pub fn blend_seam(p: &mut Plane, lv: &Level, nnf: &Nnf, threads: usize) {
    let diffs = predict_diffs(lv, &p.px, nnf, threads);
    fuse(lv, &mut p.px, &diffs);
}
