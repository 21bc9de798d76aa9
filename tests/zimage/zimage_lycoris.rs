//! LyCORIS LoHa and LoKr on the tiny transformer (tests/fixtures/zimage-lycoris, made by
//! scripts/make_lycoris_fixtures.py from peft's adapters): every case against LyCORIS's merge
//! (checked there against peft's forward) per transformer call; the base weights never change
//! and removing the adapters restores the base model bit for bit; bad factors are refused by key.
#![cfg(feature = "zimage")]

use crate::common;

use candle_core::{Device, Tensor};
use common::gguf::worst;
use common::lora::{
    apply_case, case_files, dense_weights, flat, meta, reference, tiny_transformer,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use zedit::engine::zimage::config::TransformerConfig;
use zedit::engine::zimage::lora;
use zedit::engine::zimage::transformer::Transformer;

fn fixtures() -> PathBuf {
    common::lora::adapter_fixtures("zimage-lycoris")
}

fn outputs(t: &Transformer, r: &HashMap<String, Tensor>) -> Vec<Tensor> {
    common::lora::outputs(&fixtures(), t, r)
}

#[test]
fn loha_and_lokr_match_lycoris_per_call() {
    let (mut t, cfg) = tiny_transformer();
    let r = reference(&fixtures());
    let base = outputs(&t, &r);
    assert!(worst(&base, &r, "out.base") <= 1e-4);
    let before = dense_weights(&mut t);
    let m = meta(&fixtures());
    let cases = m["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 3, "loha, lokr, stack");
    for (case, spec) in cases {
        let files = case_files(&fixtures(), spec, &cfg);
        for (f, _) in &files {
            assert!(f.coverage().is_none(), "every key used");
        }
        apply_case(&mut t, &files);
        let d = worst(&outputs(&t, &r), &r, &format!("out.{case}"));
        let moved = spec["max_abs_change_from_base"].as_f64().unwrap();
        println!("{case:6}: max|ours - LyCORIS merge| {d:.2e}, the adapter moves the output by {moved:.3}");
        assert!(d <= 1e-4, "{case}: {d}");
        assert!(moved > 0.05, "{case}: the adapter must change the output");
    }
    let after = dense_weights(&mut t);
    assert_eq!(
        before, after,
        "side paths leave the base weights as they are"
    );
    lora::apply(&mut t, &[]).unwrap();
    for (a, b) in base.iter().zip(&outputs(&t, &r)) {
        assert_eq!(flat(a), flat(b));
    }
}

/// `keys` (name, shape) written to `dir/name`, values 0.1.
fn write(dir: &Path, name: &str, keys: &[(&str, &[usize])]) -> PathBuf {
    let mut m = HashMap::new();
    for (k, s) in keys {
        let n: usize = s.iter().product();
        let t = Tensor::from_vec(vec![0.1f32; n], *s, &Device::Cpu).unwrap();
        m.insert(k.to_string(), t);
    }
    let p = dir.join(name);
    candle_core::safetensors::save(&m, &p).unwrap();
    p
}

fn refused(path: &Path, cfg: &TransformerConfig) -> String {
    match lora::read(path, cfg) {
        Ok(_) => panic!("{} was accepted", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_lycoris_factors_are_refused_by_key() {
    let (_, cfg) = tiny_transformer();
    let tmp = tempfile::tempdir().unwrap();
    let q = "lora_unet_layers_0_attention_to_q";
    let d = cfg.dim;
    // LoHa factors for a model 16 wider.
    let o = d + 16;
    let p = write(
        tmp.path(),
        "other.safetensors",
        &[
            (&format!("{q}.hada_w1_a"), &[o, 4]),
            (&format!("{q}.hada_w1_b"), &[4, o]),
            (&format!("{q}.hada_w2_a"), &[o, 4]),
            (&format!("{q}.hada_w2_b"), &[4, o]),
        ],
    );
    let e = refused(&p, &cfg);
    assert!(
        e.contains("other.safetensors") && e.contains("another model"),
        "{e}"
    );
    assert!(e.contains(q), "{e}");
    // A factor missing.
    let p = write(
        tmp.path(),
        "half.safetensors",
        &[
            (&format!("{q}.hada_w1_a"), &[d, 4]),
            (&format!("{q}.hada_w1_b"), &[4, d]),
            (&format!("{q}.hada_w2_a"), &[d, 4]),
        ],
    );
    let e = refused(&p, &cfg);
    assert!(e.contains("'hada_w2_b'"), "{e}");
    // A LoKr whose Kronecker product has another shape: [d/2, d] against the weight's [d, d].
    let p = write(
        tmp.path(),
        "kron.safetensors",
        &[
            (&format!("{q}.lokr_w1"), &[8, 8]),
            (&format!("{q}.lokr_w2"), &[d / 16, d / 8]),
        ],
    );
    let e = refused(&p, &cfg);
    let (kron, weight) = (format!("[{}, {d}]", d / 2), format!("[{d}, {d}]"));
    assert!(e.contains(&kron) && e.contains(&weight), "{e}");
    // Tucker factors (convolution LyCORIS) and DoRA are named.
    let p = write(
        tmp.path(),
        "tucker.safetensors",
        &[(&format!("{q}.hada_t1"), &[4, 4, 3, 3])],
    );
    let e = refused(&p, &cfg);
    assert!(e.contains("Tucker") && e.contains(".hada_t1"), "{e}");
    // Text-encoder keys stay refused, LyCORIS or not.
    let p = write(
        tmp.path(),
        "te.safetensors",
        &[(
            "lora_te_text_model_encoder_layers_0_mlp_fc1.hada_w1_a",
            &[d, 4],
        )],
    );
    let e = refused(&p, &cfg);
    assert!(e.contains("text encoder"), "{e}");
}

#[test]
fn recorded_from_the_tiny_set_in_the_repository() {
    common::assert_recorded_from_the_tiny_set(&meta(&fixtures()), "tests/fixtures/zimage-lycoris");
}
