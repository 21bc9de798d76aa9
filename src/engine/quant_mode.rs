//! The execution choice for quantized GGUF weights (`--gguf-exec`, else `ZEDIT_GGUF_EXEC`):
//! candle's quantized matmul, or dequantizing each weight just before use.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How quantized GGUF weights run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum QuantMode {
    /// candle's quantized matmul (`QMatMul`): the weights stay quantized; activations are
    /// quantized to 8 bits inside the kernel.
    #[default]
    #[serde(rename = "qmatmul")]
    MatMul,
    /// Each weight is dequantized to the model dtype just before its matmul: numerics of the
    /// model dtype, resident weights as small as the file's.
    #[serde(rename = "dequant")]
    Dequantize,
}

/// The environment variable that picks [`QuantMode`] when no option does.
pub const QUANT_MODE_ENV: &str = "ZEDIT_GGUF_EXEC";

impl QuantMode {
    pub fn parse(s: &str) -> Option<QuantMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "qmatmul" | "matmul" | "quantized" => Some(QuantMode::MatMul),
            "dequant" | "dequantize" => Some(QuantMode::Dequantize),
            _ => None,
        }
    }

    /// Parses an option's value; the error names the value and the choices.
    pub fn parse_arg(s: &str) -> Result<QuantMode, String> {
        QuantMode::parse(s)
            .ok_or_else(|| format!("'{s}' is not a GGUF execution choice: use qmatmul or dequant"))
    }

    pub fn name(self) -> &'static str {
        match self {
            QuantMode::MatMul => "qmatmul",
            QuantMode::Dequantize => "dequant",
        }
    }

    /// `ZEDIT_GGUF_EXEC`, else the default (`qmatmul`); an unknown value is an error naming it.
    pub fn from_env() -> Result<QuantMode, String> {
        match std::env::var(QUANT_MODE_ENV) {
            Ok(v) if !v.trim().is_empty() => QuantMode::parse(&v).ok_or_else(|| {
                format!("{QUANT_MODE_ENV}={v} is not an execution choice: use qmatmul or dequant")
            }),
            _ => Ok(QuantMode::default()),
        }
    }

    /// The option's choice when given, else the environment's, else the default.
    pub fn chosen(option: Option<QuantMode>) -> Result<QuantMode, String> {
        option.map_or_else(QuantMode::from_env, Ok)
    }
}

impl fmt::Display for QuantMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
