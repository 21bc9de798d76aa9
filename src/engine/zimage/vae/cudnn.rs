//! `ZEDIT_CUDNN_ALGO`: which cuDNN forward algorithm the VAE's convolutions use in a
//! `--features cudnn` build (cuDNN's own heuristic unless set), read once and checked at load.

use crate::engine::zimage::EngineError;
use candle_core::conv::CudnnFwdAlgo;
use std::sync::OnceLock;

/// The variable's accepted values, as written, and the algorithm each pins
/// (`heuristic`: none, cuDNN picks per convolution).
pub const NAMES: [(&str, Option<CudnnFwdAlgo>); 9] = [
    ("heuristic", None),
    ("implicit-gemm", Some(CudnnFwdAlgo::ImplicitGemm)),
    (
        "implicit-precomp-gemm",
        Some(CudnnFwdAlgo::ImplicitPrecompGemm),
    ),
    ("gemm", Some(CudnnFwdAlgo::Gemm)),
    ("direct", Some(CudnnFwdAlgo::Direct)),
    ("fft", Some(CudnnFwdAlgo::Fft)),
    ("fft-tiling", Some(CudnnFwdAlgo::FftTiling)),
    ("winograd", Some(CudnnFwdAlgo::Winograd)),
    ("winograd-nonfused", Some(CudnnFwdAlgo::WinogradNonFused)),
];

/// The algorithm a value names; an empty value is the heuristic.
pub fn parse(value: &str) -> Result<Option<CudnnFwdAlgo>, EngineError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    NAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(v))
        .map(|(_, algo)| *algo)
        .ok_or_else(|| {
            let names: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
            EngineError::BadInput(format!(
                "ZEDIT_CUDNN_ALGO=\"{}\": not a cuDNN forward algorithm; use one of {}",
                crate::printable::printable(value),
                names.join(", ")
            ))
        })
}

/// The name [`parse`] reads for `algo`.
pub fn name(algo: Option<CudnnFwdAlgo>) -> &'static str {
    NAMES
        .iter()
        .find(|(_, a)| *a == algo)
        .map_or("heuristic", |(n, _)| n)
}

/// The process's setting, read once. Builds without cuDNN accept it too (so that a typo is
/// still caught) but their convolutions never reach cuDNN, and they say so once.
pub fn algo() -> Result<Option<CudnnFwdAlgo>, EngineError> {
    static SETTING: OnceLock<Result<Option<CudnnFwdAlgo>, String>> = OnceLock::new();
    SETTING
        .get_or_init(|| {
            let value = std::env::var("ZEDIT_CUDNN_ALGO").unwrap_or_default();
            let parsed = parse(&value).map_err(|e| e.to_string());
            if !value.is_empty() && parsed.is_ok() && !cfg!(feature = "cudnn") {
                eprintln!("zimage: ZEDIT_CUDNN_ALGO is ignored: this build has no cuDNN (--features cudnn)");
            }
            parsed
        })
        .clone()
        .map_err(EngineError::BadInput)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_to_its_algorithm_and_back() {
        for (n, a) in NAMES {
            assert_eq!(parse(n).unwrap(), a, "{n}");
            assert_eq!(name(a), n);
            assert_eq!(parse(&n.to_uppercase()).unwrap(), a, "{n} in capitals");
        }
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse(" fft ").unwrap(), Some(CudnnFwdAlgo::Fft));
    }

    #[test]
    fn an_unknown_value_is_refused_with_the_value_and_the_names() {
        let e = parse("winograd_fused\u{1b}[2J").unwrap_err().to_string();
        assert!(e.contains("ZEDIT_CUDNN_ALGO"), "{e}");
        assert!(e.contains("winograd_fused"), "{e}");
        assert!(!e.contains('\u{1b}'), "raw escape in {e}");
        assert!(e.contains("implicit-precomp-gemm"), "{e}");
        assert!(matches!(parse("gemm2"), Err(EngineError::BadInput(_))));
    }
}
