//! A model folder with a GGUF transformer, for the tests of GGUF models.

use std::path::PathBuf;

/// tests/fixtures/zimage-gguf (scripts/make_gguf_fixtures.py).
pub fn gguf_fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/zimage-gguf"
    ))
}

/// A model folder: the shared tiny model's text encoder, VAE, tokenizer and scheduler, and
/// the fixture's `z_image_tiny-<label>.gguf` transformer with no config.json.
pub fn gguf_model_folder(label: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = super::zimage_fixtures().join("tiny-zimage");
    for comp in ["text_encoder", "vae", "tokenizer", "scheduler"] {
        let to = tmp.path().join(comp);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(src.join(comp)).unwrap().flatten() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    std::fs::copy(
        src.join("model_index.json"),
        tmp.path().join("model_index.json"),
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("transformer")).unwrap();
    let name = format!("z_image_tiny-{label}.gguf");
    std::fs::copy(
        gguf_fixtures().join(&name),
        tmp.path().join("transformer").join(&name),
    )
    .unwrap();
    tmp
}
