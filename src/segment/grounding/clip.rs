//! Chinese-CLIP through candle-transformers' `chinese_clip`: the sizes read from the
//! checkpoint's Hugging Face `config.json`, the BERT tokenizer built from its `vocab.txt` the
//! way `BertTokenizer` reads it (or a `tokenizer.json`), and the image and text embeddings
//! (projected, as `get_image_features` / `get_text_features` give them).

use super::models::ResolvedClip;
use crate::segment::SegmentError;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::chinese_clip::{
    text_model::ChineseClipTextConfig, vision_model::ChineseClipVisionConfig, Activation,
    ChineseClipConfig, ChineseClipModel,
};
use serde_json::Value;
use tokenizers::Tokenizer;

/// A loaded scoring model.
pub struct ClipScorer {
    pub id: String,
    pub digest: String,
    pub min_score: f32,
    /// The side of the square images the vision tower takes.
    pub image_size: usize,
    /// exp(logit_scale): cosine similarities times this are the model's logits.
    pub logit_scale: f32,
    max_tokens: usize,
    model: ChineseClipModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl std::fmt::Debug for ClipScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipScorer")
            .field("id", &self.id)
            .field("image_size", &self.image_size)
            .finish_non_exhaustive()
    }
}

fn model_error(e: candle_core::Error) -> SegmentError {
    SegmentError::Model(e.to_string())
}

/// The model's sizes from its `config.json` (`text_config`, `vision_config`,
/// `projection_dim`), the published ViT-B/16's where a key is absent.
pub fn config_from_json(text: &str, origin: &str) -> Result<ChineseClipConfig, SegmentError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| SegmentError::Unavailable(format!("{origin}: not JSON ({e})")))?;
    let mut c = ChineseClipConfig::clip_vit_base_patch16();
    let n =
        |o: &Value, k: &str, d: usize| o.get(k).and_then(Value::as_u64).map_or(d, |x| x as usize);
    let f = |o: &Value, k: &str, d: f64| o.get(k).and_then(Value::as_f64).unwrap_or(d);
    let act = |o: &Value, d: Activation| -> Result<Activation, SegmentError> {
        match o.get("hidden_act").and_then(Value::as_str) {
            None => Ok(d),
            Some("gelu") => Ok(Activation::Gelu),
            Some("quick_gelu") => Ok(Activation::QuickGelu),
            Some("gelu_new") => Ok(Activation::GeluNew),
            Some("relu") => Ok(Activation::Relu),
            Some(other) => Err(SegmentError::Unavailable(format!(
                "{origin}: hidden_act '{other}' is not one candle's Chinese-CLIP runs (gelu, \
                 quick_gelu, gelu_new, relu)"
            ))),
        }
    };
    let empty = Value::Object(Default::default());
    let t = v.get("text_config").unwrap_or(&empty);
    let d = ChineseClipTextConfig::clip_vit_base_patch16();
    c.text_config = ChineseClipTextConfig {
        vocab_size: n(t, "vocab_size", d.vocab_size),
        hidden_size: n(t, "hidden_size", d.hidden_size),
        num_hidden_layers: n(t, "num_hidden_layers", d.num_hidden_layers),
        num_attention_heads: n(t, "num_attention_heads", d.num_attention_heads),
        intermediate_size: n(t, "intermediate_size", d.intermediate_size),
        hidden_act: act(t, d.hidden_act)?,
        max_position_embeddings: n(t, "max_position_embeddings", d.max_position_embeddings),
        type_vocab_size: n(t, "type_vocab_size", d.type_vocab_size),
        layer_norm_eps: f(t, "layer_norm_eps", d.layer_norm_eps),
        pad_token_id: n(t, "pad_token_id", d.pad_token_id),
        ..d
    };
    if let Some(kind) = t.get("position_embedding_type").and_then(Value::as_str) {
        if kind != "absolute" {
            return Err(SegmentError::Unavailable(format!(
                "{origin}: position_embedding_type '{kind}' is not supported (absolute only)"
            )));
        }
    }
    let vc = v.get("vision_config").unwrap_or(&empty);
    let d = ChineseClipVisionConfig::clip_vit_base_patch16();
    c.vision_config = ChineseClipVisionConfig {
        hidden_size: n(vc, "hidden_size", d.hidden_size),
        intermediate_size: n(vc, "intermediate_size", d.intermediate_size),
        projection_dim: n(vc, "projection_dim", d.projection_dim),
        num_hidden_layers: n(vc, "num_hidden_layers", d.num_hidden_layers),
        num_attention_heads: n(vc, "num_attention_heads", d.num_attention_heads),
        num_channels: n(vc, "num_channels", d.num_channels),
        image_size: n(vc, "image_size", d.image_size),
        patch_size: n(vc, "patch_size", d.patch_size),
        hidden_act: act(vc, d.hidden_act)?,
        layer_norm_eps: f(vc, "layer_norm_eps", d.layer_norm_eps),
        ..d
    };
    c.projection_dim = n(&v, "projection_dim", c.projection_dim);
    c.image_size = c.vision_config.image_size;
    Ok(c)
}

/// The tokenizer of a `tokenizer.json`, or BERT's (lower-casing, accents stripped, each CJK
/// character a word, WordPiece, `[CLS] ... [SEP]`) over a `vocab.txt`.
pub fn load_tokenizer(path: &std::path::Path) -> Result<Tokenizer, SegmentError> {
    use tokenizers::models::wordpiece::WordPiece;
    use tokenizers::normalizers::bert::BertNormalizer;
    use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
    use tokenizers::processors::bert::BertProcessing;
    let origin = path.display().to_string();
    let bad = |e: String| SegmentError::Unavailable(format!("{origin}: {e}"));
    if path.extension().is_some_and(|e| e == "json") {
        return Tokenizer::from_file(path).map_err(|e| bad(e.to_string()));
    }
    let wp = WordPiece::from_file(&origin)
        .unk_token("[UNK]".into())
        .build()
        .map_err(|e| bad(format!("not a WordPiece vocabulary ({e})")))?;
    let id = |t: &str| {
        tokenizers::Model::token_to_id(&wp, t)
            .ok_or_else(|| bad(format!("the vocabulary has no {t} token")))
    };
    let (cls, sep) = (id("[CLS]")?, id("[SEP]")?);
    let mut tok = Tokenizer::new(wp);
    tok.with_normalizer(Some(BertNormalizer::new(true, true, None, true)))
        .map_err(|e| bad(format!("the normalizer does not fit the vocabulary ({e})")))?
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_post_processor(Some(BertProcessing::new(
            ("[SEP]".into(), sep),
            ("[CLS]".into(), cls),
        )));
    Ok(tok)
}

impl ClipScorer {
    pub fn load(r: &ResolvedClip, device: &Device) -> Result<ClipScorer, SegmentError> {
        let digest = super::models::digest(r)?;
        let text = std::fs::read_to_string(&r.config)
            .map_err(|e| SegmentError::Unavailable(format!("{}: {e}", r.config.display())))?;
        let config = config_from_json(&text, &r.config.display().to_string())?;
        let origin = r.weights.display().to_string();
        let unreadable = |e: candle_core::Error| {
            SegmentError::Unavailable(format!("{origin}: not readable ({e})"))
        };
        let vb = if r.weights.extension().is_some_and(|e| e == "safetensors") {
            let bytes = std::fs::read(&r.weights)
                .map_err(|e| SegmentError::Unavailable(format!("{origin}: {e}")))?;
            VarBuilder::from_buffered_safetensors(bytes, DType::F32, device).map_err(unreadable)?
        } else {
            VarBuilder::from_pth(&r.weights, DType::F32, device).map_err(unreadable)?
        };
        ClipScorer::from_parts(
            r.id.clone(),
            digest,
            r.min_score,
            &config,
            vb,
            load_tokenizer(&r.tokenizer)?,
        )
        .map_err(|e| {
            SegmentError::Unavailable(format!(
                "{origin} does not fit its Chinese-CLIP configuration {}: {e}; fetch the model \
                 again",
                r.config.display()
            ))
        })
    }

    /// A scorer from weights already opened (benchmarks pass random ones).
    pub fn from_parts(
        id: String,
        digest: String,
        min_score: f32,
        config: &ChineseClipConfig,
        vb: VarBuilder,
        tokenizer: Tokenizer,
    ) -> candle_core::Result<ClipScorer> {
        let device = vb.device().clone();
        let logit_scale = match vb.get((), "logit_scale") {
            Ok(t) => t.to_scalar::<f32>()?.exp(),
            Err(_) => 2.6592f32.exp(),
        };
        let model = ChineseClipModel::new(vb, config)?;
        Ok(ClipScorer {
            id,
            digest,
            min_score,
            image_size: config.vision_config.image_size,
            logit_scale,
            max_tokens: config.text_config.max_position_embeddings,
            model,
            tokenizer,
            device,
        })
    }

    /// The token ids of `text`, `[CLS]` first, cut to the model's positions.
    pub fn text_ids(&self, text: &str) -> Result<Vec<u32>, SegmentError> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| SegmentError::Model(format!("cannot tokenize '{text}': {e}")))?;
        let mut ids = enc.get_ids().to_vec();
        if ids.len() > self.max_tokens {
            // Keep the closing [SEP].
            let last = ids[ids.len() - 1];
            ids.truncate(self.max_tokens);
            if let Some(l) = ids.last_mut() {
                *l = last;
            }
        }
        Ok(ids)
    }

    /// The projected text embedding of `text`.
    pub fn embed_text(&self, text: &str) -> Result<Vec<f32>, SegmentError> {
        let ids = self.text_ids(text)?;
        let n = ids.len();
        let t = Tensor::from_vec(ids, (1, n), &self.device).map_err(model_error)?;
        self.model
            .get_text_features(&t, None, None)
            .and_then(|f| f.flatten_all()?.to_vec1::<f32>())
            .map_err(model_error)
    }

    /// The projected image embeddings of prepared crops (each `3 * side * side` values), run
    /// `batch` at a time.
    pub fn embed_images(
        &self,
        pixels: &[Vec<f32>],
        batch: usize,
    ) -> Result<Vec<Vec<f32>>, SegmentError> {
        let side = self.image_size;
        let mut out = Vec::with_capacity(pixels.len());
        for chunk in pixels.chunks(batch.max(1)) {
            let flat: Vec<f32> = chunk.iter().flatten().copied().collect();
            let t = Tensor::from_vec(flat, (chunk.len(), 3, side, side), &self.device)
                .map_err(model_error)?;
            let f = self
                .model
                .get_image_features(&t)
                .and_then(|f| f.to_vec2::<f32>())
                .map_err(model_error)?;
            out.extend(f);
        }
        Ok(out)
    }
}

/// The cosine similarity of two embeddings.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb).max(f32::MIN_POSITIVE)
}
