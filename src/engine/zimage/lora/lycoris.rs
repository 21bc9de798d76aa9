//! LyCORIS LoHa and LoKr factors turned into side paths, with LyCORIS's scales: LoHa's
//! ΔW = (w1_a·w1_b) ⊙ (w2_a·w2_b) · alpha/r becomes one exact low-rank product of rank r1·r2
//! (the Khatri–Rao form), LoKr's ΔW = kron(w1 or w1_a·w1_b, w2 or w2_a·w2_b) · scale a
//! Kronecker side path (scale alpha/r when a factor is decomposed, r its inner size, else 1).

use super::Pair;
use candle_core::{Result as CResult, Tensor};
use std::collections::BTreeMap;

/// The side path of one layer's LyCORIS factors for a layer of shape `[out, in]`; the error
/// says what is wrong in words the caller completes with the key and the layer.
pub fn pair(
    parts: &BTreeMap<&'static str, Tensor>,
    alpha: Option<f64>,
    (out, input): (usize, usize),
) -> Result<Pair, String> {
    let hada = parts.keys().any(|k| k.starts_with("hada_"));
    let lokr = parts.keys().any(|k| k.starts_with("lokr_"));
    match (hada, lokr) {
        (true, true) => Err("mixes LoHa and LoKr factors".into()),
        (true, false) => loha(parts, alpha, (out, input)),
        _ => lokr_pair(parts, alpha, (out, input)),
    }
}

fn get<'a>(parts: &'a BTreeMap<&'static str, Tensor>, k: &str) -> Result<&'a Tensor, String> {
    parts
        .get(k)
        .ok_or_else(|| format!("has no '{k}' factor beside the others"))
}

fn dims(t: &Tensor) -> Result<(usize, usize), String> {
    t.dims2().map_err(|e| e.to_string())
}

fn loha(
    parts: &BTreeMap<&'static str, Tensor>,
    alpha: Option<f64>,
    (out, input): (usize, usize),
) -> Result<Pair, String> {
    let (w1a, w1b) = (get(parts, "hada_w1_a")?, get(parts, "hada_w1_b")?);
    let (w2a, w2b) = (get(parts, "hada_w2_a")?, get(parts, "hada_w2_b")?);
    let (o1, r1) = dims(w1a)?;
    let (r1b, i1) = dims(w1b)?;
    let (o2, r2) = dims(w2a)?;
    let (r2b, i2) = dims(w2b)?;
    if r1 != r1b || r2 != r2b || [o1, o2] != [out, out] || [i1, i2] != [input, input] {
        return Err(format!(
            "has LoHa factors [{o1}, {r1}]·[{r1b}, {i1}] and [{o2}, {r2}]·[{r2b}, {i2}], but this \
             model's layer is [{out}, {input}]: the LoHa is for another model"
        ));
    }
    // (A1·B1) ⊙ (A2·B2) = Σ_ij (a1_i ⊙ a2_j)(b1_i ⊙ b2_j)ᵀ: rank r1·r2, exactly.
    let khatri_rao = || -> CResult<(Tensor, Tensor)> {
        let down = w1b
            .unsqueeze(1)?
            .broadcast_mul(&w2b.unsqueeze(0)?)?
            .reshape((r1 * r2, input))?;
        let up = w1a
            .unsqueeze(2)?
            .broadcast_mul(&w2a.unsqueeze(1)?)?
            .reshape((out, r1 * r2))?;
        Ok((down, up))
    };
    let (down, up) = khatri_rao().map_err(|e| e.to_string())?;
    let scale = alpha.map_or(1.0, |a| a / r1 as f64);
    Ok(Pair::LowRank { down, up, scale })
}

fn lokr_pair(
    parts: &BTreeMap<&'static str, Tensor>,
    alpha: Option<f64>,
    (out, input): (usize, usize),
) -> Result<Pair, String> {
    let mut dim = None;
    let mut factor = |full: &str, a: &str, b: &str| -> Result<Tensor, String> {
        if let Some(w) = parts.get(full) {
            return Ok(w.clone());
        }
        let (wa, wb) = (get(parts, a)?, get(parts, b)?);
        let (_, ra) = dims(wa)?;
        let (rb, _) = dims(wb)?;
        if ra != rb {
            return Err(format!("has '{a}' and '{b}' of inner sizes {ra} and {rb}"));
        }
        dim = Some(rb);
        wa.matmul(wb).map_err(|e| e.to_string())
    };
    let w1 = factor("lokr_w1", "lokr_w1_a", "lokr_w1_b")?;
    let w2 = factor("lokr_w2", "lokr_w2_a", "lokr_w2_b")?;
    let ((a, b), (c, d)) = (dims(&w1)?, dims(&w2)?);
    if a * c != out || b * d != input {
        return Err(format!(
            "has LoKr factors [{a}, {b}] ⊗ [{c}, {d}] = [{}, {}], but this model's layer is \
             [{out}, {input}]: the LoKr is for another model",
            a * c,
            b * d
        ));
    }
    let scale = match (alpha, dim) {
        (Some(alpha), Some(r)) => alpha / r as f64,
        _ => 1.0,
    };
    Ok(Pair::Kron { w1, w2, scale })
}
