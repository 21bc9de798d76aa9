//! One DiT block: RMSNorm'd self-attention with per-head q/k RMSNorm and RoPE, then a SwiGLU
//! FFN, each scaled and gated by adaLN modulation when the block has it.

use super::tables::Rotary;
use super::{fused, Linear, Source};
use crate::engine::zimage::config::TransformerConfig;
use crate::engine::EngineError;
use candle_core::{DType, Module, Result as CResult, Tensor, D};

pub struct Block {
    adaln: Option<Linear>,
    norm1: Tensor,
    norm2: Tensor,
    ffn_norm1: Tensor,
    ffn_norm2: Tensor,
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    to_out: Linear,
    norm_q: Tensor,
    norm_k: Tensor,
    w1: Linear,
    w2: Linear,
    w3: Linear,
    /// to_q, to_k and to_v as one weight, when all three are dense (see [`Linear::fuse`]).
    qkv: Option<Tensor>,
    /// w1 and w3 as one weight, likewise.
    w13: Option<Tensor>,
    heads: usize,
    head_dim: usize,
    eps: f32,
}

impl Block {
    pub fn load(
        w: &Source,
        p: &str,
        cfg: &TransformerConfig,
        modulated: bool,
    ) -> Result<Self, EngineError> {
        let (dim, hd, ffn) = (cfg.dim, cfg.head_dim(), cfg.ffn_dim());
        let adaln = if modulated {
            Some(w.linear(
                &format!("{p}adaLN_modulation.0"),
                cfg.adaln_dim(),
                4 * dim,
                true,
            )?)
        } else {
            None
        };
        let lin = |n: &str, i, o| w.linear(&format!("{p}{n}"), i, o, false);
        let mut block = Block {
            adaln,
            norm1: w.tensor(&format!("{p}attention_norm1.weight"), &[dim])?,
            norm2: w.tensor(&format!("{p}attention_norm2.weight"), &[dim])?,
            ffn_norm1: w.tensor(&format!("{p}ffn_norm1.weight"), &[dim])?,
            ffn_norm2: w.tensor(&format!("{p}ffn_norm2.weight"), &[dim])?,
            to_q: lin("attention.to_q", dim, dim)?,
            to_k: lin("attention.to_k", dim, dim)?,
            to_v: lin("attention.to_v", dim, dim)?,
            to_out: lin("attention.to_out.0", dim, dim)?,
            norm_q: w.tensor(&format!("{p}attention.norm_q.weight"), &[hd])?,
            norm_k: w.tensor(&format!("{p}attention.norm_k.weight"), &[hd])?,
            w1: lin("feed_forward.w1", dim, ffn)?,
            w2: lin("feed_forward.w2", ffn, dim)?,
            w3: lin("feed_forward.w3", dim, ffn)?,
            qkv: None,
            w13: None,
            heads: cfg.n_heads,
            head_dim: hd,
            eps: cfg.norm_eps as f32,
        };
        let fused = |parts: &mut [&mut Linear]| {
            Linear::fuse(parts).map_err(|e| EngineError::Internal(format!("{p}: {e}")))
        };
        block.qkv = fused(&mut [&mut block.to_q, &mut block.to_k, &mut block.to_v])?;
        block.w13 = fused(&mut [&mut block.w1, &mut block.w3])?;
        Ok(block)
    }

    /// `x · Wᵀ` through a fused weight, when there is one and none of its layers has a LoRA
    /// side path; split into the layers' outputs.
    fn fused(x: &Tensor, w: &Option<Tensor>, parts: &[&Linear]) -> CResult<Option<Vec<Tensor>>> {
        let Some(w) = w
            .as_ref()
            .filter(|_| parts.iter().all(|l| l.side().is_empty()))
        else {
            return Ok(None);
        };
        let y = x.matmul(&w.t()?)?;
        let mut offset = 0;
        let mut out = Vec::with_capacity(parts.len());
        for l in parts {
            out.push(y.narrow(1, offset, l.out_features())?);
            offset += l.out_features();
        }
        Ok(Some(out))
    }

    /// The block's linears by module name under `p` (e.g. `layers.0.`).
    pub fn linears_mut(&mut self, p: &str) -> Vec<(String, &mut Linear)> {
        let mut v: Vec<(String, &mut Linear)> = vec![
            (format!("{p}attention.to_q"), &mut self.to_q),
            (format!("{p}attention.to_k"), &mut self.to_k),
            (format!("{p}attention.to_v"), &mut self.to_v),
            (format!("{p}attention.to_out.0"), &mut self.to_out),
            (format!("{p}feed_forward.w1"), &mut self.w1),
            (format!("{p}feed_forward.w2"), &mut self.w2),
            (format!("{p}feed_forward.w3"), &mut self.w3),
        ];
        if let Some(a) = &mut self.adaln {
            v.push((format!("{p}adaLN_modulation.0"), a));
        }
        v
    }

    /// x: [S, dim]; rot: the rotary tables [S, head_dim/2]; temb: [1, adaln_dim] for
    /// modulated blocks. `segments` are the lengths of the sequences stacked in x's rows
    /// (summing to S): attention runs within each, every other part per token.
    pub fn forward(
        &self,
        x: &Tensor,
        rot: &Rotary,
        temb: Option<&Tensor>,
        segments: &[usize],
    ) -> CResult<Tensor> {
        let rms = |t: &Tensor, w: &Tensor| candle_nn::ops::rms_norm(&t.contiguous()?, w, self.eps);
        let (scale_msa, gate_msa, scale_mlp, gate_mlp) = match (&self.adaln, temb) {
            (Some(lin), Some(temb)) => {
                let m = lin.forward(temb)?;
                let c = m.chunk(4, D::Minus1)?;
                (
                    Some((&c[0] + 1.0)?),
                    Some(c[1].tanh()?),
                    Some((&c[2] + 1.0)?),
                    Some(c[3].tanh()?),
                )
            }
            _ => (None, None, None, None),
        };
        // adaLN folded into the norms: rms(t)·w·s is rms(t) times the one vector w·s.
        let scaled = |t: &Tensor, w: &Tensor, s: &Option<Tensor>| match s {
            Some(s) => rms(t, &w.broadcast_mul(&s.squeeze(0)?)?),
            None => rms(t, w),
        };
        let h = scaled(x, &self.norm1, &scale_msa)?;
        let o = self.attention(&h, rot, segments)?;
        let x = (x + scaled(&o, &self.norm2, &gate_msa)?)?;
        let h = scaled(&x, &self.ffn_norm1, &scale_mlp)?;
        let f = match Self::fused(&h, &self.w13, &[&self.w1, &self.w3])? {
            Some(y) => (candle_nn::ops::silu(&y[0])? * &y[1])?,
            None => (candle_nn::ops::silu(&self.w1.forward(&h)?)? * self.w3.forward(&h)?)?,
        };
        let f = self.w2.forward(&f)?;
        &x + scaled(&f, &self.ffn_norm2, &gate_mlp)?
    }

    fn attention(&self, h: &Tensor, rot: &Rotary, segments: &[usize]) -> CResult<Tensor> {
        let s = h.dim(0)?;
        let (nh, hd) = (self.heads, self.head_dim);
        let scale = 1.0 / (hd as f64).sqrt();
        let parts = [&self.to_q, &self.to_k, &self.to_v];
        let [yq, yk, yv]: [Tensor; 3] = match Self::fused(h, &self.qkv, &parts)? {
            Some(y) => y
                .try_into()
                .map_err(|_| candle_core::Error::Msg("fused q, k, v: not 3 parts".into()))?,
            None => [
                parts[0].forward(h)?,
                parts[1].forward(h)?,
                parts[2].forward(h)?,
            ],
        };
        if let Some(cs) = rot
            .cos_sin
            .as_ref()
            .filter(|_| fused::applies([&yq, &yk, &yv], hd, segments))
        {
            let (nq, nk) = (&self.norm_q, &self.norm_k);
            let o = fused::attention(&yq, &yk, &yv, nq, nk, cs, nh, segments, scale)?;
            if fused::should_check(segments) {
                let want = self.unfused_attention([yq, yk, yv], rot, segments, scale)?;
                fused::report(&o, &want, s, segments)?;
            }
            return self.to_out.forward(&o);
        }
        let o = self.unfused_attention([yq, yk, yv], rot, segments, scale)?;
        self.to_out.forward(&o)
    }

    /// Attention from the q/k/v products [S, H·D] through candle's ops: per-head norm, RoPE,
    /// softmax in f32 within each sequence → [S, H·D], before the output projection.
    fn unfused_attention(
        &self,
        [yq, yk, yv]: [Tensor; 3],
        rot: &Rotary,
        segments: &[usize],
        scale: f64,
    ) -> CResult<Tensor> {
        let s = yq.dim(0)?;
        let (nh, hd) = (self.heads, self.head_dim);
        // Per-head RMSNorm (eps fixed at 1e-5 in the reference) before RoPE.
        let heads = |t: Tensor, norm: Option<&Tensor>| -> CResult<Tensor> {
            let t = t.contiguous()?.reshape((s, nh, hd))?;
            let t = match norm {
                Some(w) => head_norm(&t, w, 1e-5)?,
                None => t,
            };
            t.transpose(0, 1)?.unsqueeze(0)?.contiguous()
        };
        // RoPE runs in f32 (tables are f32) as the reference's complex64 product does, then
        // returns to the model dtype, as the reference's `type_as` does.
        let dt = yq.dtype();
        let rotate = |t: Tensor| -> CResult<Tensor> {
            let t = t.to_dtype(DType::F32)?;
            candle_nn::rotary_emb::rope_i(&t, &rot.cos, &rot.sin)?.to_dtype(dt)
        };
        let q = rotate(heads(yq, Some(&self.norm_q))?)?;
        let k = rotate(heads(yk, Some(&self.norm_k))?)?;
        let v = heads(yv, None)?;
        let o = segmented_attention(&q, &k, &v, scale, segments)?;
        o.squeeze(0)?.transpose(0, 1)?.reshape((s, nh * hd))
    }
}

/// The reference's RMSNorm of half-precision activations: x·rsqrt(mean(x²) + eps) in f32,
/// rounded to the model dtype, then times the weight (a second rounding). In f32 this is
/// candle's one-pass norm, which computes the same products in the same order.
pub(super) fn head_norm(t: &Tensor, w: &Tensor, eps: f32) -> CResult<Tensor> {
    match t.dtype() {
        DType::F32 | DType::F64 => candle_nn::ops::rms_norm(t, w, eps),
        dt => {
            let x = t.to_dtype(DType::F32)?;
            let ms = (x.sqr()?.sum_keepdim(D::Minus1)? / t.dim(D::Minus1)? as f64)?;
            let normed = x.broadcast_mul(&(ms + eps as f64)?.sqrt()?.recip()?)?;
            normed.to_dtype(dt)?.broadcast_mul(w)
        }
    }
}

/// [`attention_f32`] within each of the sequences stacked along dim 2 of [1, H, S, D] tensors,
/// `segments` long (summing to S; one segment is the whole).
pub(super) fn segmented_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    scale: f64,
    segments: &[usize],
) -> CResult<Tensor> {
    let s = q.dim(2)?;
    if segments.iter().sum::<usize>() != s {
        return Err(candle_core::Error::Msg(format!(
            "attention segments {segments:?} do not sum to the sequence length {s}"
        )));
    }
    if segments.len() <= 1 {
        return attention_f32(q, k, v, scale);
    }
    let mut outs = Vec::with_capacity(segments.len());
    let mut start = 0;
    for &len in segments {
        let part = |t: &Tensor| t.narrow(2, start, len)?.contiguous();
        outs.push(attention_f32(&part(q)?, &part(k)?, &part(v)?, scale)?);
        start += len;
    }
    Tensor::cat(&outs, 2)
}

/// Bytes of f32 attention scores one chunk of heads may hold at once.
pub const SCORE_BYTES: usize = 1 << 30;

/// softmax(q·kᵀ·scale)·v over [1, H, S, D] tensors with the logits, the softmax and the
/// weighted sum in f32 whatever the model dtype, as the reference's fused attention keeps them;
/// the result returns in the inputs' dtype. Heads run in chunks so that the S×S scores never
/// take more than [`SCORE_BYTES`]. No mask: pad tokens attend and are attended to, as in the
/// reference.
pub(crate) fn attention_f32(q: &Tensor, k: &Tensor, v: &Tensor, scale: f64) -> CResult<Tensor> {
    attention_in_chunks(q, k, v, scale, SCORE_BYTES)
}

fn attention_in_chunks(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    scale: f64,
    score_bytes: usize,
) -> CResult<Tensor> {
    let (_, nh, s, _) = q.dims4()?;
    let dt = q.dtype();
    let per_head = (s * s * 4).max(1);
    let chunk = (score_bytes / per_head).clamp(1, nh);
    let mut outs = Vec::with_capacity(nh.div_ceil(chunk));
    for start in (0..nh).step_by(chunk) {
        let n = chunk.min(nh - start);
        let f32_of = |t: &Tensor| t.narrow(1, start, n)?.to_dtype(DType::F32);
        let (q, k, v) = (f32_of(q)?, f32_of(k)?, f32_of(v)?);
        let att = (q.matmul(&k.t()?)? * scale)?;
        let att = candle_nn::ops::softmax_last_dim(&att)?;
        outs.push(att.matmul(&v)?.to_dtype(dt)?);
    }
    Tensor::cat(&outs, 1)
}

/// Every value of `t`, as f32 (for tests).
#[cfg(test)]
pub(super) fn f32_values(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1())
        .expect("a tensor's values")
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn rand(seed: u64, shape: (usize, usize, usize, usize)) -> Tensor {
        let n = shape.0 * shape.1 * shape.2 * shape.3;
        let mut x = seed;
        let v: Vec<f32> = (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 6.0
            })
            .collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    /// The same math in f64 on the CPU, from the bf16 values of the inputs.
    fn reference(q: &Tensor, k: &Tensor, v: &Tensor, scale: f64) -> Vec<f64> {
        let f = |t: &Tensor| -> Vec<f64> { f32_values(t).into_iter().map(f64::from).collect() };
        let (_, nh, s, d) = q.dims4().unwrap();
        let (q, k, v) = (f(q), f(k), f(v));
        let mut out = vec![0.0; nh * s * d];
        for h in 0..nh {
            let at = |m: &[f64], i: usize, j: usize| m[(h * s + i) * d + j];
            for i in 0..s {
                let logits: Vec<f64> = (0..s)
                    .map(|j| (0..d).map(|c| at(&q, i, c) * at(&k, j, c)).sum::<f64>() * scale)
                    .collect();
                let m = logits.iter().cloned().fold(f64::MIN, f64::max);
                let e: Vec<f64> = logits.iter().map(|l| (l - m).exp()).collect();
                let z: f64 = e.iter().sum();
                for c in 0..d {
                    out[(h * s + i) * d + c] = (0..s).map(|j| e[j] / z * at(&v, j, c)).sum();
                }
            }
        }
        out
    }

    #[test]
    fn bf16_attention_keeps_logits_and_softmax_in_f32() {
        let shape = (1, 3, 40, 16);
        let bf = |t: Tensor| t.to_dtype(DType::BF16).unwrap();
        let (q, k, v) = (bf(rand(1, shape)), bf(rand(2, shape)), bf(rand(3, shape)));
        let scale = 0.25;
        let want = reference(&q, &k, &v, scale);
        let err = |t: &Tensor| -> f64 {
            assert_eq!(t.dtype(), DType::BF16);
            f32_values(t)
                .iter()
                .zip(&want)
                .map(|(a, b)| (*a as f64 - b).abs())
                .fold(0.0, f64::max)
        };
        let ours = attention_f32(&q, &k, &v, scale).unwrap();
        // Only the final rounding to bf16 remains: 2^-8 relative of values below ~3.
        assert!(err(&ours) < 3.0 / 256.0, "f32 path error {}", err(&ours));
        // Logits and softmax in bf16, as the unfused path would, are measurably worse.
        let att = candle_nn::ops::softmax_last_dim(
            &(q.matmul(&k.t().unwrap()).unwrap() * scale).unwrap(),
        )
        .unwrap();
        let bf16_path = att.matmul(&v).unwrap();
        assert!(
            err(&bf16_path) > 2.0 * err(&ours),
            "{} vs {}",
            err(&bf16_path),
            err(&ours)
        );
    }

    #[test]
    fn head_chunks_give_the_same_result() {
        let shape = (1, 5, 24, 8);
        let (q, k, v) = (rand(4, shape), rand(5, shape), rand(6, shape));
        let one = attention_in_chunks(&q, &k, &v, 0.3, usize::MAX).unwrap();
        let per_head = attention_in_chunks(&q, &k, &v, 0.3, 24 * 24 * 4).unwrap();
        let two = attention_in_chunks(&q, &k, &v, 0.3, 2 * 24 * 24 * 4).unwrap();
        let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(flat(&one), flat(&per_head));
        assert_eq!(flat(&one), flat(&two));
    }
}
