//! What a model folder holds, for `zedit models --model DIR`: each component's files, format
//! and size, and the GPU memory the plan expects for it (bf16, at the plan size), per placement
//! and, for a GGUF transformer or text encoder, per execution choice.

use super::gguf_files::{GgufSet, GgufTensors};
use super::memory::{self, Inputs, Placement};
use super::transformer::QuantMode;
use super::EngineError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Serialize)]
pub struct Component {
    pub name: String,
    /// `gguf` or `safetensors`.
    pub format: String,
    pub files: Vec<String>,
    pub bytes: u64,
    pub params: u64,
    /// GGUF only: tensors per type.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub types: BTreeMap<String, usize>,
}

#[derive(Debug, Serialize)]
pub struct Expected {
    pub placement: String,
    /// GGUF transformer or text encoder only: the execution choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution: Option<String>,
    pub peak_bytes: u64,
    /// The peak while denoising (where the execution choice shows).
    pub denoise_peak_bytes: u64,
    pub summary: String,
}

#[derive(Debug, Serialize)]
pub struct Inventory {
    pub folder: String,
    pub components: Vec<Component>,
    pub plan_size: u32,
    pub expected: Vec<Expected>,
}

fn files_of(dir: &Path, ext: &str) -> (Vec<String>, u64) {
    let mut files = Vec::new();
    let mut bytes = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == ext) {
                bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
                files.push(p.display().to_string());
            }
        }
    }
    files.sort();
    (files, bytes)
}

/// The inventory of the complete model folder `dir`.
pub fn inventory(dir: &Path) -> Result<Inventory, EngineError> {
    let missing = super::models::missing_files(dir);
    if !missing.is_empty() {
        return Err(EngineError::Unavailable(format!(
            "model folder {} is incomplete: missing {}",
            dir.display(),
            missing.join(", ")
        )));
    }
    let (t, te, v) = memory::read_configs(dir)?;
    let base = Inputs {
        transformer: &t,
        text_encoder: &te,
        vae: &v,
        dtype_bytes: 2,
        score_bytes: super::transformer::SCORE_BYTES as u64,
        caption_tokens: 128,
        transformer_bytes: None,
        text_encoder_bytes: None,
    };
    let params = base.params();
    let mut components = Vec::new();
    let gguf = super::gguf::transformer_file(dir);
    match &gguf {
        Some(f) => {
            let w = super::gguf::GgufWeights::open(f)?;
            components.push(gguf_component("transformer", w.files(), params.transformer));
        }
        None => components.push(safetensors("transformer", dir, params.transformer)),
    }
    let gguf_text = super::text_encoder_gguf::text_encoder_file(dir);
    match &gguf_text {
        Some(f) => {
            let w = super::text_encoder_gguf::GgufTextEncoder::open(f)?;
            components.push(gguf_component(
                "text_encoder",
                w.files(),
                params.text_encoder,
            ));
        }
        None => components.push(safetensors("text_encoder", dir, params.text_encoder)),
    }
    components.push(safetensors("vae", dir, params.vae));
    let size = memory::plan_size();
    let choices: Vec<Option<QuantMode>> = if gguf.is_some() || gguf_text.is_some() {
        vec![Some(QuantMode::MatMul), Some(QuantMode::Dequantize)]
    } else {
        vec![None]
    };
    let mut expected = Vec::new();
    for choice in choices {
        let inputs = Inputs {
            transformer_bytes: match choice {
                Some(q) => memory::gguf_bytes(dir, 2, q)?,
                None => None,
            },
            text_encoder_bytes: match choice {
                Some(q) => memory::text_encoder_gguf_bytes(dir, &te, 2, q)?,
                None => None,
            },
            ..base
        };
        for placement in [
            Placement::AllResident,
            Placement::ReleaseTextEncoder,
            Placement::ReleaseTextEncoderTiledDecode,
            Placement::CpuTextEncoderTiledDecode,
        ] {
            let plan = inputs.plan(placement, size, size);
            expected.push(Expected {
                placement: format!("{placement:?}"),
                execution: choice.map(|q| q.name().to_string()),
                peak_bytes: plan.peak(),
                denoise_peak_bytes: plan.denoise_peak,
                summary: plan.describe(),
            });
        }
    }
    Ok(Inventory {
        folder: dir.display().to_string(),
        components,
        plan_size: size,
        expected,
    })
}

fn gguf_component(name: &str, set: &GgufSet, params: u64) -> Component {
    Component {
        name: name.into(),
        format: "gguf".into(),
        files: set
            .paths()
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        bytes: set.file_bytes(),
        params,
        types: set.type_counts(),
    }
}

fn safetensors(name: &str, dir: &Path, params: u64) -> Component {
    let (files, bytes) = files_of(&dir.join(name), "safetensors");
    Component {
        name: name.into(),
        format: "safetensors".into(),
        files,
        bytes,
        params,
        types: BTreeMap::new(),
    }
}
