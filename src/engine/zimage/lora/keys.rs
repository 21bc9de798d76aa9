//! LoRA key names in the formats people bring, mapped onto the transformer's linear layers:
//! diffusers / ai-toolkit (`lora_A` / `lora_B`), kohya / musubi (`lora_unet_…_to_q.lora_down`),
//! ComfyUI's original Z-Image names (fused `attention.qkv`, `attention.out`, `x_embedder`),
//! and LyCORIS's LoHa (`.hada_w1_a` …) and LoKr (`.lokr_w1`, `.lokr_w2_a` …) factors.

use crate::engine::zimage::config::TransformerConfig;
use std::collections::HashMap;

/// What one key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Down,
    Up,
    Alpha,
    /// A LyCORIS factor, by its key suffix (`hada_w1_a`, `lokr_w2` …).
    Lycoris(&'static str),
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
    /// A Tucker-factor LyCORIS or a DoRA key, which zedit does not apply.
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
    (".hada_w1_a", Role::Lycoris("hada_w1_a")),
    (".hada_w1_b", Role::Lycoris("hada_w1_b")),
    (".hada_w2_a", Role::Lycoris("hada_w2_a")),
    (".hada_w2_b", Role::Lycoris("hada_w2_b")),
    (".lokr_w1", Role::Lycoris("lokr_w1")),
    (".lokr_w1_a", Role::Lycoris("lokr_w1_a")),
    (".lokr_w1_b", Role::Lycoris("lokr_w1_b")),
    (".lokr_w2", Role::Lycoris("lokr_w2")),
    (".lokr_w2_a", Role::Lycoris("lokr_w2_a")),
    (".lokr_w2_b", Role::Lycoris("lokr_w2_b")),
];
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        ".hada_t",
        "LyCORIS LoHa with Tucker factors (for convolutions)",
    ),
    (
        ".lokr_t",
        "LyCORIS LoKr with Tucker factors (for convolutions)",
    ),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let mut c = TransformerConfig::turbo();
        (c.n_layers, c.n_refiner_layers) = (2, 2);
        Names::new(&c)
    }

    fn lin(n: &str, role: Role) -> Key {
        Key::Lora(Target::Linear(n.into()), role)
    }

    #[test]
    fn every_format_names_the_same_layers() {
        let n = names();
        let table: &[(&str, Key)] = &[
            (
                "diffusion_model.layers.1.attention.to_q.lora_A.weight",
                lin("layers.1.attention.to_q", Role::Down),
            ),
            (
                "transformer.layers.1.attention.to_out.0.lora_B.weight",
                lin("layers.1.attention.to_out.0", Role::Up),
            ),
            (
                "base_model.model.layers.0.feed_forward.w2.lora_A.default.weight",
                lin("layers.0.feed_forward.w2", Role::Down),
            ),
            (
                "lora_unet_noise_refiner_1_adaLN_modulation_0.lora_up.weight",
                lin("noise_refiner.1.adaLN_modulation.0", Role::Up),
            ),
            (
                "lora_unet_context_refiner_0_attention_to_out_0.alpha",
                lin("context_refiner.0.attention.to_out.0", Role::Alpha),
            ),
            (
                "diffusion_model.layers.0.attention.out.lora_down.weight",
                lin("layers.0.attention.to_out.0", Role::Down),
            ),
            (
                "diffusion_model.x_embedder.lora_up.weight",
                lin("all_x_embedder.2-1", Role::Up),
            ),
            (
                "lycoris_final_layer_linear.lora_down.weight",
                lin("all_final_layer.2-1.linear", Role::Down),
            ),
            (
                "diffusion_model.layers.1.attention.qkv.lora_B.weight",
                Key::Lora(Target::FusedQkv("layers.1".into()), Role::Up),
            ),
            (
                "lora_unet_layers_0_attention_qkv.alpha",
                Key::Lora(Target::FusedQkv("layers.0".into()), Role::Alpha),
            ),
            (
                "lora_te_text_model_encoder_layers_0_mlp_fc1.alpha",
                Key::TextEncoder,
            ),
            (
                "text_encoders.qwen3.layers.0.lora_A.weight",
                Key::TextEncoder,
            ),
            (
                "diffusion_model.layers.0.attention.to_q.lokr_w1",
                lin("layers.0.attention.to_q", Role::Lycoris("lokr_w1")),
            ),
            (
                "lora_unet_layers_1_feed_forward_w3.hada_w2_b",
                lin("layers.1.feed_forward.w3", Role::Lycoris("hada_w2_b")),
            ),
            (
                "lycoris_layers_0_attention_to_k.lokr_w2_a",
                lin("layers.0.attention.to_k", Role::Lycoris("lokr_w2_a")),
            ),
            (
                "lora_unet_layers_0_attention_to_q.hada_t1",
                Key::Unsupported("LyCORIS LoHa with Tucker factors (for convolutions)"),
            ),
            (
                "diffusion_model.layers.7.attention.to_q.lora_A.weight",
                Key::Unknown,
            ),
            (
                "lora_unet_down_blocks_0_attentions_0.lora_up.weight",
                Key::Unknown,
            ),
            (
                "diffusion_model.layers.0.attention.to_q.weight",
                Key::Unknown,
            ),
        ];
        for (key, want) in table {
            assert_eq!(&n.classify(key), want, "{key}");
        }
        assert_eq!(
            n.shape(&Target::FusedQkv("layers.0".into())),
            Some((3 * 3840, 3840))
        );
    }
}
