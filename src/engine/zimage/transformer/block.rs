//! One DiT block: RMSNorm'd self-attention with per-head q/k RMSNorm and RoPE, then a SwiGLU
//! FFN, each scaled and gated by adaLN modulation when the block has it.

use super::load_linear;
use crate::engine::zimage::config::TransformerConfig;
use crate::engine::zimage::weights::Weights;
use crate::engine::EngineError;
use candle_core::{DType, Module, Result as CResult, Tensor, D};
use candle_nn::Linear;

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
    heads: usize,
    head_dim: usize,
    eps: f32,
}

impl Block {
    pub fn load(
        w: &Weights,
        p: &str,
        cfg: &TransformerConfig,
        modulated: bool,
    ) -> Result<Self, EngineError> {
        let (dim, hd, ffn) = (cfg.dim, cfg.head_dim(), cfg.ffn_dim());
        let adaln = if modulated {
            Some(load_linear(
                w,
                &format!("{p}adaLN_modulation.0"),
                cfg.adaln_dim(),
                4 * dim,
                true,
            )?)
        } else {
            None
        };
        let lin = |n: &str, i, o| load_linear(w, &format!("{p}{n}"), i, o, false);
        Ok(Block {
            adaln,
            norm1: w.get(&format!("{p}attention_norm1.weight"), &[dim])?,
            norm2: w.get(&format!("{p}attention_norm2.weight"), &[dim])?,
            ffn_norm1: w.get(&format!("{p}ffn_norm1.weight"), &[dim])?,
            ffn_norm2: w.get(&format!("{p}ffn_norm2.weight"), &[dim])?,
            to_q: lin("attention.to_q", dim, dim)?,
            to_k: lin("attention.to_k", dim, dim)?,
            to_v: lin("attention.to_v", dim, dim)?,
            to_out: lin("attention.to_out.0", dim, dim)?,
            norm_q: w.get(&format!("{p}attention.norm_q.weight"), &[hd])?,
            norm_k: w.get(&format!("{p}attention.norm_k.weight"), &[hd])?,
            w1: lin("feed_forward.w1", dim, ffn)?,
            w2: lin("feed_forward.w2", ffn, dim)?,
            w3: lin("feed_forward.w3", dim, ffn)?,
            heads: cfg.n_heads,
            head_dim: hd,
            eps: cfg.norm_eps as f32,
        })
    }

    /// x: [S, dim]; cos/sin: [S, head_dim/2]; temb: [1, adaln_dim] for modulated blocks.
    pub fn forward(
        &self,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        temb: Option<&Tensor>,
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
        let scaled = |t: Tensor, s: &Option<Tensor>| match s {
            Some(s) => t.broadcast_mul(s),
            None => Ok(t),
        };
        let h = scaled(rms(x, &self.norm1)?, &scale_msa)?;
        let o = self.attention(&h, cos, sin)?;
        let x = (x + scaled(rms(&o, &self.norm2)?, &gate_msa)?)?;
        let h = scaled(rms(&x, &self.ffn_norm1)?, &scale_mlp)?;
        let f = (candle_nn::ops::silu(&self.w1.forward(&h)?)? * self.w3.forward(&h)?)?;
        let f = self.w2.forward(&f)?;
        &x + scaled(rms(&f, &self.ffn_norm2)?, &gate_mlp)?
    }

    fn attention(&self, h: &Tensor, cos: &Tensor, sin: &Tensor) -> CResult<Tensor> {
        let s = h.dim(0)?;
        let (nh, hd) = (self.heads, self.head_dim);
        // Per-head RMSNorm (eps fixed at 1e-5 in the reference) before RoPE.
        let heads = |lin: &Linear, norm: Option<&Tensor>| -> CResult<Tensor> {
            let t = lin.forward(h)?.reshape((s, nh, hd))?;
            let t = match norm {
                Some(w) => candle_nn::ops::rms_norm(&t, w, 1e-5)?,
                None => t,
            };
            t.transpose(0, 1)?.unsqueeze(0)?.contiguous()
        };
        // RoPE runs in f32 (tables are f32) as the reference's complex64 product does, then
        // returns to the model dtype.
        let rot = |t: Tensor| -> CResult<Tensor> {
            let dt = t.dtype();
            candle_nn::rotary_emb::rope_i(&t.to_dtype(DType::F32)?, cos, sin)?.to_dtype(dt)
        };
        let q = rot(heads(&self.to_q, Some(&self.norm_q))?)?;
        let k = rot(heads(&self.to_k, Some(&self.norm_k))?)?;
        let v = heads(&self.to_v, None)?;
        let scale = 1.0 / (hd as f64).sqrt();
        // No attention mask: pad tokens attend and are attended to, as in the reference.
        let att = (q.matmul(&k.t()?)? * scale)?;
        let att = candle_nn::ops::softmax_last_dim(&att)?;
        let o = att.matmul(&v)?; // [1, H, S, D]
        let o = o.squeeze(0)?.transpose(0, 1)?.reshape((s, nh * hd))?;
        self.to_out.forward(&o)
    }
}
