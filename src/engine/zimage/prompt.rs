//! Prompt → token ids: Qwen3's chat template (thinking enabled, so no `<think>` block), the
//! model's tokenizer.json, truncation to the pipeline's max_sequence_length.

use super::EngineError;
use std::path::Path;

/// The pipeline's default `max_sequence_length`.
pub const MAX_SEQUENCE_LENGTH: usize = 512;

/// Wraps a prompt as one user turn followed by the assistant header.
pub fn chat_template(prompt: &str) -> String {
    format!("<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n")
}

pub struct PromptTokenizer {
    tok: tokenizers::Tokenizer,
}

impl PromptTokenizer {
    pub fn load(model_dir: &Path) -> Result<Self, EngineError> {
        let path = model_dir.join("tokenizer").join("tokenizer.json");
        if !path.is_file() {
            return Err(EngineError::Unavailable(format!(
                "{} is missing; fetch the model again",
                path.display()
            )));
        }
        let tok = tokenizers::Tokenizer::from_file(&path).map_err(|e| {
            EngineError::Model(format!("cannot load tokenizer {}: {e}", path.display()))
        })?;
        Ok(PromptTokenizer { tok })
    }

    /// Token ids of the templated prompt (the rows the text encoder's mask keeps), at most
    /// `max_len` of them, as the reference's right-padded, truncated batch.
    pub fn ids(&self, prompt: &str, max_len: usize) -> Result<Vec<u32>, EngineError> {
        let text = chat_template(prompt);
        let enc = self.tok.encode(text.as_str(), true).map_err(|e| {
            EngineError::BadInput(format!("cannot tokenize prompt {prompt:?}: {e}"))
        })?;
        let mut ids = enc.get_ids().to_vec();
        ids.truncate(max_len);
        Ok(ids)
    }
}
