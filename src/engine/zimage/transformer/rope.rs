//! 3-axis rotary embedding of the DiT: per-axis θ^(−2i/d) in f64, angles cast to f32, and
//! rotation of consecutive (interleaved) pairs.

use crate::engine::EngineError;
use candle_core::{DType, Device, Tensor};

/// Per-axis inverse frequencies, kept in f64 as the reference computes them.
#[derive(Debug, Clone)]
pub struct Rope {
    freqs: Vec<Vec<f64>>,
}

impl Rope {
    pub fn new(axes_dims: &[usize], theta: f64) -> Self {
        let freqs = axes_dims
            .iter()
            .map(|&d| {
                (0..d / 2)
                    .map(|i| 1.0 / theta.powf((2 * i) as f64 / d as f64))
                    .collect()
            })
            .collect();
        Rope { freqs }
    }

    /// cos and sin tables [S, head_dim/2] for position ids (one `[f, h, w]` triple per token).
    pub fn tables(
        &self,
        positions: &[[u32; 3]],
        device: &Device,
        dtype: DType,
    ) -> Result<(Tensor, Tensor), EngineError> {
        let half: usize = self.freqs.iter().map(Vec::len).sum();
        let mut cos = Vec::with_capacity(positions.len() * half);
        let mut sin = Vec::with_capacity(positions.len() * half);
        for pos in positions {
            for (axis, freqs) in self.freqs.iter().enumerate() {
                let p = pos[axis] as f64;
                for f in freqs {
                    // The angle table is float64 then cast to float32 before cos/sin.
                    let ang = (p * f) as f32;
                    cos.push((ang as f64).cos() as f32);
                    sin.push((ang as f64).sin() as f32);
                }
            }
        }
        let shape = (positions.len(), half);
        let mk = |v: Vec<f32>| {
            Tensor::from_vec(v, shape, device)
                .and_then(|t| t.to_dtype(dtype))
                .map_err(|e| EngineError::Internal(format!("rope table: {e}")))
        };
        Ok((mk(cos)?, mk(sin)?))
    }
}

/// Caption position ids: (1 + k, 0, 0) for every token, pads included.
pub fn caption_positions(padded_len: usize) -> Vec<[u32; 3]> {
    (0..padded_len).map(|k| [1 + k as u32, 0, 0]).collect()
}

/// Image position ids: (cap_padded + 1 + f, h, w) for real tokens, (0, 0, 0) for pads.
pub fn image_positions(cap_padded: usize, ht: usize, wt: usize, padded: usize) -> Vec<[u32; 3]> {
    let mut v = Vec::with_capacity(padded);
    for h in 0..ht {
        for w in 0..wt {
            v.push([cap_padded as u32 + 1, h as u32, w as u32]);
        }
    }
    v.resize(padded, [0, 0, 0]);
    v
}
