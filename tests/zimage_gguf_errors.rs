//! Bad GGUF transformers are refused with the file and the tensor at fault: truncated, a type
//! zedit cannot read, another architecture, another layout, shapes of another config.
#![cfg(feature = "zimage")]

use std::path::{Path, PathBuf};
use zedit::engine::zimage::gguf::GgufWeights;
use zedit::engine::zimage::transformer::{QuantMode, Source, Transformer};

fn fixture(label: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/zimage-gguf"
    ))
    .join(format!("z_image_tiny-{label}.gguf"))
}

/// A GGUF v3 file by hand: `general.architecture` (when given) and F32-sized tensors of any
/// type id, data zero.
fn gguf(arch: Option<&str>, tensors: &[(&str, &[usize], u32)]) -> Vec<u8> {
    let mut b = Vec::new();
    let s = |b: &mut Vec<u8>, x: &str| {
        b.extend((x.len() as u64).to_le_bytes());
        b.extend(x.as_bytes());
    };
    b.extend(b"GGUF");
    b.extend(3u32.to_le_bytes());
    b.extend((tensors.len() as u64).to_le_bytes());
    b.extend((arch.is_some() as u64).to_le_bytes());
    if let Some(a) = arch {
        s(&mut b, "general.architecture");
        b.extend(8u32.to_le_bytes());
        s(&mut b, a);
    }
    let mut offset = 0u64;
    for (name, shape, ty) in tensors {
        s(&mut b, name);
        b.extend((shape.len() as u32).to_le_bytes());
        for d in shape.iter().rev() {
            b.extend((*d as u64).to_le_bytes());
        }
        b.extend(ty.to_le_bytes());
        b.extend(offset.to_le_bytes());
        offset += shape.iter().product::<usize>() as u64 * 4;
    }
    while b.len() % 32 != 0 {
        b.push(0);
    }
    b.resize(b.len() + offset as usize, 0);
    b
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn open_err(path: &Path) -> String {
    GgufWeights::open(path).unwrap_err().to_string()
}

#[test]
fn a_truncated_file_names_the_first_tensor_cut_off() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("Q8_0")).unwrap();
    let p = write(tmp.path(), "cut.gguf", &bytes[..bytes.len() / 2]);
    let e = open_err(&p);
    assert!(e.contains("cut.gguf") && e.contains("truncated"), "{e}");
    assert!(e.contains("tensor '"), "names a tensor: {e}");
    // Cut inside the header: still the file's name and what happened.
    let p = write(tmp.path(), "stub.gguf", &bytes[..100]);
    let e = open_err(&p);
    assert!(e.contains("stub.gguf") && e.contains("truncated"), "{e}");
}

#[test]
fn an_unknown_quant_type_names_the_tensor_and_the_type() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = gguf(
        Some("lumina2"),
        &[
            ("cap_embedder.1.weight", &[64, 32], 0),
            ("layers.0.attention.qkv.weight", &[192, 64], 99),
        ],
    );
    let e = open_err(&write(tmp.path(), "odd.gguf", &bytes));
    assert!(e.contains("odd.gguf"), "{e}");
    assert!(
        e.contains("'layers.0.attention.qkv.weight'") && e.contains("type 99"),
        "{e}"
    );
}

#[test]
fn another_architecture_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = gguf(
        Some("flux"),
        &[("double_blocks.0.img_attn.proj.weight", &[64, 64], 0)],
    );
    let e = open_err(&write(tmp.path(), "flux.gguf", &bytes));
    assert!(
        e.contains("flux.gguf") && e.contains("architecture 'flux'"),
        "{e}"
    );
    // No architecture at all, and names of another model: the missing tensor is named.
    let bytes = gguf(None, &[("blk.0.attn_q.weight", &[64, 64], 0)]);
    let e = open_err(&write(tmp.path(), "llm.gguf", &bytes));
    assert!(
        e.contains("llm.gguf") && e.contains("'cap_embedder.1.weight'"),
        "{e}"
    );
    assert!(
        e.contains("blk.0.attn_q.weight"),
        "shows what the file holds: {e}"
    );
}

#[test]
fn shapes_of_another_config_name_the_tensor() {
    let file = GgufWeights::open(&fixture("Q4_K")).unwrap();
    let mut cfg = file.infer_config().unwrap();
    cfg.cap_feat_dim = 24;
    let src = Source::Gguf {
        file: &file,
        mode: QuantMode::MatMul,
        device: candle_core::Device::Cpu,
        dtype: candle_core::DType::F32,
    };
    let e = Transformer::load(&src, &cfg).err().unwrap().to_string();
    assert!(e.contains("z_image_tiny-Q4_K.gguf"), "{e}");
    assert!(
        e.contains("'cap_embedder.0.weight'") && e.contains("[24]"),
        "{e}"
    );
}

#[test]
fn a_bad_execution_choice_is_named() {
    std::env::set_var("ZEDIT_GGUF_EXEC", "fast");
    let e = QuantMode::from_env().unwrap_err();
    std::env::remove_var("ZEDIT_GGUF_EXEC");
    assert!(
        e.contains("ZEDIT_GGUF_EXEC=fast") && e.contains("dequant"),
        "{e}"
    );
    assert_eq!(QuantMode::parse("dequant"), Some(QuantMode::Dequantize));
    assert_eq!(QuantMode::parse("qmatmul"), Some(QuantMode::MatMul));
}
