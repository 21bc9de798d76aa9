//! The final blend: what the matched patches predict on the known band around the hole is
//! compared with what is there, and the difference is spread smoothly (harmonically) over the
//! hole, a gradient-domain correction that lets the fill meet its surroundings with no seam.

use super::level::Level;
use super::patchmatch::Nnf;
use super::plane::{add, Plane};
use super::smooth::membrane_fill;
use super::vote::predict;

/// Corrects the hole pixels of `p` (already filled from `nnf`) so that they agree with the
/// known pixels around the hole at low frequencies while keeping the copied detail.
pub fn blend_seam(p: &mut Plane, lv: &Level, nnf: &Nnf, threads: usize) {
    // Known pixels that some target patch covers: the band within a patch radius of the hole.
    let band: Vec<u32> = lv
        .targets
        .iter()
        .copied()
        .filter(|&t| !lv.hole[t as usize])
        .collect();
    if band.is_empty() {
        return;
    }
    let pred = predict(lv, &p.px, nnf, &band, false, threads);
    let mut corr = Plane::new(p.w, p.h);
    let mut free = vec![true; p.w * p.h];
    for (&b, v) in band.iter().zip(pred) {
        let i = b as usize;
        let o = p.px[i];
        corr.px[i] = [o[0] - v[0], o[1] - v[1], o[2] - v[2]];
        free[i] = false;
    }
    membrane_fill(&mut corr, &free);
    for &i in &lv.holes {
        let i = i as usize;
        add(&mut p.px[i], corr.px[i], 1.0);
    }
}
