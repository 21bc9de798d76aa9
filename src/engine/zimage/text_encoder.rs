//! Qwen3 text encoder, run up to the second-to-last layer (the pipeline's hidden_states[-2]),
//! from safetensors or a GGUF file (see [`super::text_encoder_gguf`]).

use super::config::TextEncoderConfig;
use super::text_encoder_gguf::{text_encoder_file, Embedding, GgufTextEncoder};
use super::transformer::source::WeightSource;
use super::transformer::{Linear, QuantMode};
use super::weights::Weights;
use super::EngineError;
use candle_core::{DType, Device, Module, Result as CResult, Tensor};

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
    embed: Embedding,
    layers: Vec<Layer>,
    device: Device,
    dtype: DType,
}

fn err(e: candle_core::Error) -> EngineError {
    crate::engine::zimage::candle_error("text encoder", e)
}

/// Where the weights come from: safetensors (transformers names, with or without `model.`),
/// or a GGUF file whose quantized weights run as `mode` says.
type Source<'a> = WeightSource<'a, GgufTextEncoder>;

impl Source<'_> {
    fn linear(&self, name: &str, input: usize, output: usize) -> Result<Linear, EngineError> {
        match self {
            Source::Safetensors(w) => {
                Linear::dense(w.get(&format!("{name}.weight"), &[output, input])?, None)
                    .map_err(|e| EngineError::Model(format!("cannot set up '{name}': {e}")))
            }
            Source::Gguf {
                file,
                mode,
                device,
                dtype,
            } => file.linear(name, input, output, *mode, device, *dtype),
        }
    }

    fn embedding(&self, vocab: usize, hidden: usize) -> Result<Embedding, EngineError> {
        match self {
            Source::Safetensors(w) => Ok(Embedding::Dense(
                w.get("embed_tokens.weight", &[vocab, hidden])?,
            )),
            Source::Gguf { file, .. } => file.embedding(vocab, hidden),
        }
    }
}

impl TextEncoder {
    /// Loads the text encoder of the model folder `dir`: `text_encoder/*.gguf` when there is
    /// one (its quantized weights run as `mode` says), else the safetensors.
    pub fn open(
        dir: &std::path::Path,
        cfg: &TextEncoderConfig,
        device: &Device,
        dtype: DType,
        mode: QuantMode,
    ) -> Result<Self, EngineError> {
        match text_encoder_file(dir) {
            Some(path) => Self::load_gguf(&GgufTextEncoder::open(&path)?, cfg, device, dtype, mode),
            None => {
                let mut w = Weights::open(&dir.join("text_encoder"), device, dtype)?;
                Self::load(&mut w, cfg)
            }
        }
    }

    /// Loads only the layers that hidden_states[-2] needs (all but the last one); weights may be
    /// stored with or without the `model.` prefix.
    pub fn load(w: &mut Weights, cfg: &TextEncoderConfig) -> Result<Self, EngineError> {
        w.accept_prefix("model.", "embed_tokens.weight");
        Self::load_from(&Source::Safetensors(w), cfg)
    }

    /// As [`TextEncoder::load`], from an opened GGUF file.
    pub fn load_gguf(
        file: &GgufTextEncoder,
        cfg: &TextEncoderConfig,
        device: &Device,
        dtype: DType,
        mode: QuantMode,
    ) -> Result<Self, EngineError> {
        let src = Source::Gguf {
            file,
            mode,
            device: device.clone(),
            dtype,
        };
        Self::load_from(&src, cfg)
    }

    fn load_from(w: &Source, cfg: &TextEncoderConfig) -> Result<Self, EngineError> {
        cfg.validate()?;
        let (h, hd, inter) = (cfg.hidden_size, cfg.head_dim(), cfg.intermediate_size);
        let (nh, nkv) = (cfg.num_attention_heads, cfg.num_key_value_heads);
        let mut layers = Vec::new();
        for i in 0..cfg.num_hidden_layers - 1 {
            let p = format!("layers.{i}.");
            let lin = |n: &str, i, o| w.linear(&format!("{p}{n}"), i, o);
            layers.push(Layer {
                input_norm: w.tensor(&format!("{p}input_layernorm.weight"), &[h])?,
                post_norm: w.tensor(&format!("{p}post_attention_layernorm.weight"), &[h])?,
                q: lin("self_attn.q_proj", h, nh * hd)?,
                k: lin("self_attn.k_proj", h, nkv * hd)?,
                v: lin("self_attn.v_proj", h, nkv * hd)?,
                o: lin("self_attn.o_proj", nh * hd, h)?,
                q_norm: w.tensor(&format!("{p}self_attn.q_norm.weight"), &[hd])?,
                k_norm: w.tensor(&format!("{p}self_attn.k_norm.weight"), &[hd])?,
                gate: lin("mlp.gate_proj", h, inter)?,
                up: lin("mlp.up_proj", h, inter)?,
                down: lin("mlp.down_proj", inter, h)?,
            });
        }
        let (device, dtype) = (w.device().clone(), w.dtype());
        Ok(TextEncoder {
            embed: w.embedding(cfg.vocab_size, h)?,
            layers,
            device,
            dtype,
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
        let mut x = self.embed.lookup(ids, &self.device, self.dtype)?;
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
