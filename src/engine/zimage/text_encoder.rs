//! Qwen3 text encoder, run up to the second-to-last layer (the pipeline's hidden_states[-2]).

use super::config::TextEncoderConfig;
use super::transformer::load_linear;
use super::weights::Weights;
use super::EngineError;
use candle_core::{DType, Device, Module, Result as CResult, Tensor};
use candle_nn::Linear;

struct Layer {
    input_norm: Tensor,
    post_norm: Tensor,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    q_norm: Tensor,
    k_norm: Tensor,
    gate: Linear,
    up: Linear,
    down: Linear,
}

pub struct TextEncoder {
    cfg: TextEncoderConfig,
    embed: Tensor,
    layers: Vec<Layer>,
    device: Device,
    dtype: DType,
}

fn err(e: candle_core::Error) -> EngineError {
    crate::engine::zimage::candle_error("text encoder", e)
}

impl TextEncoder {
    /// Loads the `text_encoder/` folder of the model folder `dir`.
    pub fn open(
        dir: &std::path::Path,
        cfg: &TextEncoderConfig,
        device: &Device,
        dtype: DType,
    ) -> Result<Self, EngineError> {
        let mut w = Weights::open(&dir.join("text_encoder"), device, dtype)?;
        Self::load(&mut w, cfg)
    }

    /// Loads only the layers that hidden_states[-2] needs (all but the last one); weights may be
    /// stored with or without the `model.` prefix.
    pub fn load(w: &mut Weights, cfg: &TextEncoderConfig) -> Result<Self, EngineError> {
        cfg.validate()?;
        w.accept_prefix("model.", "embed_tokens.weight");
        let (h, hd, inter) = (cfg.hidden_size, cfg.head_dim(), cfg.intermediate_size);
        let (nh, nkv) = (cfg.num_attention_heads, cfg.num_key_value_heads);
        let mut layers = Vec::new();
        for i in 0..cfg.num_hidden_layers - 1 {
            let p = format!("layers.{i}.");
            let lin = |n: &str, i, o| load_linear(w, &format!("{p}{n}"), i, o, false);
            layers.push(Layer {
                input_norm: w.get(&format!("{p}input_layernorm.weight"), &[h])?,
                post_norm: w.get(&format!("{p}post_attention_layernorm.weight"), &[h])?,
                q: lin("self_attn.q_proj", h, nh * hd)?,
                k: lin("self_attn.k_proj", h, nkv * hd)?,
                v: lin("self_attn.v_proj", h, nkv * hd)?,
                o: lin("self_attn.o_proj", nh * hd, h)?,
                q_norm: w.get(&format!("{p}self_attn.q_norm.weight"), &[hd])?,
                k_norm: w.get(&format!("{p}self_attn.k_norm.weight"), &[hd])?,
                gate: lin("mlp.gate_proj", h, inter)?,
                up: lin("mlp.up_proj", h, inter)?,
                down: lin("mlp.down_proj", inter, h)?,
            });
        }
        Ok(TextEncoder {
            embed: w.get("embed_tokens.weight", &[cfg.vocab_size, h])?,
            layers,
            device: w.device().clone(),
            dtype: w.dtype(),
            cfg: cfg.clone(),
        })
    }

    /// Hidden states [L, hidden] (f32) of the real tokens `ids`. Right padding is causal-masked
    /// away from every real token in the reference, so running the real tokens alone gives the
    /// same rows.
    pub fn encode(&self, ids: &[u32]) -> Result<Tensor, EngineError> {
        if let Some(bad) = ids.iter().find(|&&i| i as usize >= self.cfg.vocab_size) {
            return Err(EngineError::Model(format!(
                "token id {bad} is outside the text encoder's vocabulary of {}; \
                 tokenizer and text_encoder do not belong together",
                self.cfg.vocab_size
            )));
        }
        self.run(ids).map_err(err)
    }

    fn run(&self, ids: &[u32]) -> CResult<Tensor> {
        let l = ids.len();
        let ids_t = Tensor::new(ids, &self.device)?;
        let mut x = self.embed.index_select(&ids_t, 0)?;
        let (cos, sin) = self.rope_tables(l)?;
        let mask = causal_mask(l, &self.device)?.to_dtype(self.dtype)?;
        let eps = self.cfg.rms_norm_eps as f32;
        for layer in &self.layers {
            let h = candle_nn::ops::rms_norm(&x, &layer.input_norm, eps)?;
            let a = self.attention(layer, &h, &cos, &sin, &mask)?;
            x = (x + a)?;
            let h = candle_nn::ops::rms_norm(&x, &layer.post_norm, eps)?;
            let m = (candle_nn::ops::silu(&layer.gate.forward(&h)?)? * layer.up.forward(&h)?)?;
            x = (x + layer.down.forward(&m)?)?;
        }
        x.to_dtype(DType::F32)
    }

    fn attention(
        &self,
        layer: &Layer,
        h: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: &Tensor,
    ) -> CResult<Tensor> {
        let l = h.dim(0)?;
        let hd = self.cfg.head_dim();
        let (nh, nkv) = (self.cfg.num_attention_heads, self.cfg.num_key_value_heads);
        let eps = self.cfg.rms_norm_eps as f32;
        let split = |t: Tensor, n: usize, norm: Option<&Tensor>| -> CResult<Tensor> {
            let t = t.reshape((l, n, hd))?;
            let t = match norm {
                Some(w) => candle_nn::ops::rms_norm(&t, w, eps)?,
                None => t,
            };
            t.transpose(0, 1)?.unsqueeze(0)?.contiguous()
        };
        let q = split(layer.q.forward(h)?, nh, Some(&layer.q_norm))?;
        let k = split(layer.k.forward(h)?, nkv, Some(&layer.k_norm))?;
        let v = split(layer.v.forward(h)?, nkv, None)?;
        let q = candle_nn::rotary_emb::rope(&q, cos, sin)?;
        let k = candle_nn::rotary_emb::rope(&k, cos, sin)?;
        // Grouped-query attention: each kv head serves nh/nkv query heads.
        let rep = nh / nkv;
        let expand = |t: Tensor| -> CResult<Tensor> {
            if rep == 1 {
                return Ok(t);
            }
            t.unsqueeze(2)?
                .expand((1, nkv, rep, l, hd))?
                .reshape((1, nh, l, hd))
        };
        let (k, v) = (expand(k)?, expand(v)?);
        let att = (q.matmul(&k.t()?)? / (hd as f64).sqrt())?;
        let att = candle_nn::ops::softmax_last_dim(&att.broadcast_add(mask)?)?;
        let o = att.matmul(&v.contiguous()?)?;
        let o = o.squeeze(0)?.transpose(0, 1)?.reshape((l, nh * hd))?;
        layer.o.forward(&o)
    }

    /// Default RoPE (half-split), inverse frequencies in float32 as transformers computes them.
    fn rope_tables(&self, l: usize) -> CResult<(Tensor, Tensor)> {
        let hd = self.cfg.head_dim();
        let theta = self.cfg.theta();
        let inv: Vec<f32> = (0..hd / 2)
            .map(|i| {
                let e = ((2 * i) as f32) / hd as f32;
                1.0 / (theta.powf(e as f64) as f32)
            })
            .collect();
        let mut cos = Vec::with_capacity(l * hd / 2);
        let mut sin = Vec::with_capacity(l * hd / 2);
        for pos in 0..l {
            for f in &inv {
                let a = pos as f32 * f;
                cos.push((a as f64).cos() as f32);
                sin.push((a as f64).sin() as f32);
            }
        }
        let cos = Tensor::from_vec(cos, (l, hd / 2), &self.device)?.to_dtype(self.dtype)?;
        let sin = Tensor::from_vec(sin, (l, hd / 2), &self.device)?.to_dtype(self.dtype)?;
        Ok((cos, sin))
    }
}

fn causal_mask(l: usize, device: &Device) -> CResult<Tensor> {
    let v: Vec<f32> = (0..l)
        .flat_map(|i| (0..l).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(v, (l, l), device)?.reshape((1, 1, l, l))
}
