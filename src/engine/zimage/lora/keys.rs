//! LoRA key names in the formats people bring, mapped onto the transformer's linear layers:
//! diffusers / ai-toolkit (`lora_A` / `lora_B`), kohya / musubi (`lora_unet_…_to_q.lora_down`),
//! ComfyUI's original Z-Image names (fused `attention.qkv`, `attention.out`, `x_embedder`).

use crate::engine::zimage::config::TransformerConfig;
use std::collections::HashMap;

/// What one key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Down,
    Up,
    Alpha,
}

/// The layer a key's module is: one linear, or the fused q/k/v of a block (its prefix).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Linear(String),
    FusedQkv(String),
}

/// How a key reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Lora(Target, Role),
    /// A text-encoder key (zedit applies LoRAs to the transformer only).
    TextEncoder,
    /// A LyCORIS or DoRA key, which zedit does not apply.
    Unsupported(&'static str),
    /// Names no layer of this model.
    Unknown,
}

const PREFIXES: &[&str] = &[
    "base_model.model.",
    "model.diffusion_model.",
    "diffusion_model.",
    "transformer.",
];
/// Prefixes of the formats that write module names with underscores for dots (kohya and
/// musubi-tuner; ComfyUI's LyCORIS names).
const UNDERSCORED: &[&str] = &["lora_unet_", "lycoris_"];
const TEXT_ENCODER: &[&str] = &[
    "lora_te",
    "text_encoder",
    "text_encoders.",
    "te.",
    "te1.",
    "te2.",
    "cond_stage_model.",
    "conditioner.",
];
const ROLES: &[(&str, Role)] = &[
    (".lora_A.default.weight", Role::Down),
    (".lora_B.default.weight", Role::Up),
    (".lora_A.weight", Role::Down),
    (".lora_B.weight", Role::Up),
    (".lora_down.weight", Role::Down),
    (".lora_up.weight", Role::Up),
    (".lora.down.weight", Role::Down),
    (".lora.up.weight", Role::Up),
    (".alpha", Role::Alpha),
];
const UNSUPPORTED: &[(&str, &str)] = &[
    (".hada_", "LyCORIS LoHa"),
    (".lokr_", "LyCORIS LoKr"),
    (".dora_scale", "DoRA"),
];

/// The linears of a config, by every name a LoRA may give them: the diffusers name, the
/// original Z-Image name, and the kohya forms of both (dots as underscores).
pub struct Names {
    by_name: HashMap<String, Target>,
    /// [out, in] of each linear.
    pub shapes: HashMap<String, (usize, usize)>,
}

impl Names {
    pub fn new(cfg: &TransformerConfig) -> Names {
        let (d, ffn, ada) = (cfg.dim, cfg.ffn_dim(), cfg.adaln_dim());
        let pp = cfg.patch() * cfg.patch() * cfg.in_channels;
        let mut shapes = HashMap::new();
        let mut by_name = HashMap::new();
        let mut blocks: Vec<(String, bool)> = Vec::new();
        for i in 0..cfg.n_refiner_layers {
            blocks.push((format!("noise_refiner.{i}"), true));
            blocks.push((format!("context_refiner.{i}"), false));
        }
        for i in 0..cfg.n_layers {
            blocks.push((format!("layers.{i}"), true));
        }
        let mut add = |names: &[String], diffusers: &str, shape: (usize, usize)| {
            shapes.insert(diffusers.to_string(), shape);
            for n in names {
                let t = Target::Linear(diffusers.to_string());
                for p in UNDERSCORED {
                    by_name.insert(format!("{p}{}", n.replace('.', "_")), t.clone());
                }
                by_name.insert(n.clone(), t);
            }
        };
        for (b, modulated) in &blocks {
            for p in ["to_q", "to_k", "to_v"] {
                let n = format!("{b}.attention.{p}");
                add(std::slice::from_ref(&n), &n, (d, d));
            }
            let out = format!("{b}.attention.to_out.0");
            add(&[out.clone(), format!("{b}.attention.out")], &out, (d, d));
            for (w, shape) in [("w1", (ffn, d)), ("w2", (d, ffn)), ("w3", (ffn, d))] {
                let n = format!("{b}.feed_forward.{w}");
                add(std::slice::from_ref(&n), &n, shape);
            }
            if *modulated {
                let n = format!("{b}.adaLN_modulation.0");
                add(std::slice::from_ref(&n), &n, (4 * d, ada));
            }
        }
        let singles: [(Vec<String>, &str, (usize, usize)); 6] = [
            (
                vec!["t_embedder.mlp.0".into()],
                "t_embedder.mlp.0",
                (1024, 256),
            ),
            (
                vec!["t_embedder.mlp.2".into()],
                "t_embedder.mlp.2",
                (ada, 1024),
            ),
            (
                vec!["cap_embedder.1".into()],
                "cap_embedder.1",
                (d, cfg.cap_feat_dim),
            ),
            (
                vec!["all_x_embedder.2-1".into(), "x_embedder".into()],
                "all_x_embedder.2-1",
                (d, pp),
            ),
            (
                vec![
                    "all_final_layer.2-1.linear".into(),
                    "final_layer.linear".into(),
                ],
                "all_final_layer.2-1.linear",
                (pp, d),
            ),
            (
                vec![
                    "all_final_layer.2-1.adaLN_modulation.1".into(),
                    "final_layer.adaLN_modulation.1".into(),
                ],
                "all_final_layer.2-1.adaLN_modulation.1",
                (d, ada),
            ),
        ];
        for (names, diffusers, shape) in &singles {
            add(names, diffusers, *shape);
        }
        for (b, _) in &blocks {
            let fused = format!("{b}.attention.qkv");
            let t = Target::FusedQkv(b.clone());
            for p in UNDERSCORED {
                by_name.insert(format!("{p}{}", fused.replace('.', "_")), t.clone());
            }
            by_name.insert(fused, t);
        }
        Names { by_name, shapes }
    }

    /// Reads one key of a LoRA file.
    pub fn classify(&self, key: &str) -> Key {
        if TEXT_ENCODER.iter().any(|p| key.starts_with(p)) {
            return Key::TextEncoder;
        }
        if let Some((_, what)) = UNSUPPORTED.iter().find(|(m, _)| key.contains(m)) {
            return Key::Unsupported(what);
        }
        let Some((module, role)) = ROLES
            .iter()
            .find_map(|(suffix, role)| key.strip_suffix(suffix).map(|m| (m, *role)))
        else {
            return Key::Unknown;
        };
        let mut module = module;
        for p in PREFIXES {
            if let Some(rest) = module.strip_prefix(p) {
                module = rest;
            }
        }
        match self.by_name.get(module) {
            Some(t) => Key::Lora(t.clone(), role),
            None => Key::Unknown,
        }
    }

    /// [out, in] of a target (the fused q/k/v: 3·dim rows).
    pub fn shape(&self, t: &Target) -> Option<(usize, usize)> {
        match t {
            Target::Linear(n) => self.shapes.get(n).copied(),
            Target::FusedQkv(b) => self
                .shapes
                .get(&format!("{b}.attention.to_q"))
                .map(|(o, i)| (3 * o, *i)),
        }
    }
}
