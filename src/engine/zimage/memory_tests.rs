//! Tests of the memory plan: parameter counts against the reference's own counts in the fixture
//! manifests, the plans for common cards at 1024x1024, and CFG run one item per call where its
//! pair would not fit.

use super::*;
use crate::engine::zimage::config;
use std::path::{Path, PathBuf};

fn fixture_roots() -> Vec<PathBuf> {
    let shared = std::env::var_os("ZEDIT_FIXTURES")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/fixtures/zimage-tiny"
            ))
        });
    let ours = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/zimage-tiny-b"
    ));
    vec![shared, ours]
}

fn counts(root: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(root.join("fixtures/manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    m["build_info"]["n_params"].clone()
}

#[test]
fn parameter_counts_equal_the_reference_models() {
    for root in fixture_roots() {
        let dir = root.join("tiny-zimage");
        let t: TransformerConfig = config::read(&dir, "transformer").unwrap();
        let v: VaeConfig = config::read(&dir, "vae").unwrap();
        let te: TextEncoderConfig = config::read(&dir, "text_encoder").unwrap();
        let want = counts(&root);
        assert_eq!(
            transformer_params(&t),
            want["transformer"].as_u64().unwrap(),
            "{}",
            root.display()
        );
        assert_eq!(
            vae_params(&v, true),
            want["vae"].as_u64().unwrap(),
            "{}",
            root.display()
        );
        // The reference counts every layer and the final norm; zedit loads one layer less.
        let all = text_encoder_params(&te, te.num_hidden_layers) + te.hidden_size as u64;
        assert_eq!(
            all,
            want["text_encoder"].as_u64().unwrap(),
            "{}",
            root.display()
        );
    }
}

fn turbo() -> (TransformerConfig, TextEncoderConfig, VaeConfig) {
    (
        TransformerConfig::turbo(),
        TextEncoderConfig::qwen3_4b(),
        VaeConfig::z_image(),
    )
}

fn inputs<'a>(c: &'a (TransformerConfig, TextEncoderConfig, VaeConfig)) -> Inputs<'a> {
    Inputs {
        transformer: &c.0,
        text_encoder: &c.1,
        vae: &c.2,
        dtype_bytes: 2,
        score_bytes: 1 << 30,
        caption_tokens: 128,
        transformer_bytes: None,
        text_encoder_bytes: None,
    }
}

#[test]
fn plans_for_common_cards_at_1024() {
    let c = turbo();
    let i = inputs(&c);
    let p = i.params();
    println!(
        "bf16 weights: DiT {:.2} GiB, text encoder {:.2} GiB, VAE {:.2} GiB",
        gib(p.transformer * 2),
        gib(p.text_encoder * 2),
        gib(p.vae * 2)
    );
    assert!((11.0..12.0).contains(&gib(p.transformer * 2)));
    assert!((7.0..7.6).contains(&gib(p.text_encoder * 2)));
    let all = i.plan(Placement::AllResident, 1024, 1024);
    println!("everything resident at 1024x1024: {}", all.describe());
    assert!(
        gib(all.peak()) > 24.0,
        "all resident must not fit 24 GB: {}",
        all.describe()
    );
    // What a card reports as free once the driver holds its share.
    for (card, free_gib) in [("24 GB", 23.3), ("16 GB", 15.3)] {
        let plan = i.choose(1024, 1024, (free_gib * GIB) as u64).unwrap();
        println!("{card} card ({free_gib} GiB free): {}", plan.describe());
        let want = if card == "24 GB" {
            Placement::ReleaseTextEncoder
        } else {
            Placement::CpuTextEncoderTiledDecode
        };
        assert_eq!(plan.placement, want, "{card}");
    }
}

#[test]
fn a_card_too_small_is_refused_with_what_would_fit() {
    let c = turbo();
    let e = inputs(&c)
        .choose(1024, 1024, 12 << 30)
        .unwrap_err()
        .to_string();
    println!("{e}");
    assert!(e.contains("1024x1024") && e.contains("12.0 GiB"), "{e}");
    assert!(e.contains("no image size fits"), "{e}");
    let e = inputs(&c)
        .choose(2048, 2048, 14 << 30)
        .unwrap_err()
        .to_string();
    println!("{e}");
    assert!(e.contains("would fit"), "{e}");
}

#[test]
fn a_tight_card_runs_cfg_one_item_per_call() {
    let c = turbo();
    let i = inputs(&c);
    let tight = Placement::CpuTextEncoderTiledDecode;
    let pair = i.plan_with(tight, 2, 1024, 1024);
    let single = i.plan_with(tight, 1, 1024, 1024);
    println!("pair: {}\nsingle: {}", pair.describe(), single.describe());
    assert!(single.peak() < pair.peak());
    let plan = i
        .choose(1024, 1024, (single.peak() + pair.peak()) / 2)
        .unwrap();
    assert_eq!((plan.placement, plan.batch), (tight, 1));
    assert!(plan.describe().contains("one after the other"));
    let roomy = i.choose(1024, 1024, pair.peak()).unwrap();
    assert_eq!((roomy.placement, roomy.batch), (tight, 2));
}
