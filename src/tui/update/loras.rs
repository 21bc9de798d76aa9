//! The LoRA picker: the `*.safetensors` files of the LoRA folder, each switched on or off with
//! a weight; the ones on go with the next edit's recipe, as `--lora FILE:WEIGHT` would.

use super::super::action::Command;
use super::super::effect::Effect;
use super::super::state::{Layer, LoraChoice, LoraPicker, State};
use super::step;
use crate::core::LoraRef;
use std::path::PathBuf;

/// How much one key changes a weight.
pub const WEIGHT_STEP: f32 = 0.1;
/// The weights the picker offers, from -MAX to MAX.
pub const WEIGHT_MAX: f32 = 2.0;

/// Asks for the folder's listing; the picker opens when it arrives.
pub fn open(state: &mut State) -> Vec<Effect> {
    if matches!(state.engine.as_str(), "" | "classic") {
        state.error(format!(
            "LoRAs apply to the zimage engine, and the studio runs '{}': set engine = \"zimage\" \
             in config.toml",
            state.engine
        ));
        return Vec::new();
    }
    vec![Effect::ListLoras(state.lora_dir.clone())]
}

/// The folder's files arrived: the picker shows them with the current choices.
pub fn listed(state: &mut State, files: Vec<PathBuf>) -> Vec<Effect> {
    if files.is_empty() {
        state.info(format!(
            "no LoRA files (*.safetensors) in {}: put them there, or set lora_dir in config.toml \
             or ZEDIT_LORA_DIR",
            state.lora_dir.display()
        ));
        return Vec::new();
    }
    let items = files
        .into_iter()
        .map(|path| {
            let chosen = state.loras.iter().find(|l| l.path == path);
            LoraChoice {
                on: chosen.is_some(),
                weight: chosen.map_or(1.0, |l| l.weight),
                path,
            }
        })
        .collect();
    state.layer = Some(Layer::Loras(LoraPicker { items, selected: 0 }));
    Vec::new()
}

/// Keys while the picker is open; it keeps the choices as they change.
pub fn command(state: &mut State, mut picker: LoraPicker, c: Command) -> Vec<Effect> {
    let n = picker.items.len();
    let i = picker.selected;
    match c {
        Command::Back | Command::Confirm | Command::Loras => {
            let on = picker.items.iter().filter(|l| l.on).count();
            state.info(format!("{on} LoRA(s) go with the next edit"));
            return Vec::new();
        }
        Command::Quit => {
            state.quit = true;
            return Vec::new();
        }
        Command::Down => picker.selected = step(i, n, 1),
        Command::Up => picker.selected = step(i, n, -1),
        Command::Toggle if n > 0 => picker.items[i].on = !picker.items[i].on,
        Command::WeightUp if n > 0 => nudge(&mut picker.items[i], 1.0),
        Command::WeightDown if n > 0 => nudge(&mut picker.items[i], -1.0),
        _ => {}
    }
    state.loras = picker.items.iter().filter(|l| l.on).cloned().collect();
    state.layer = Some(Layer::Loras(picker));
    Vec::new()
}

/// One step of weight, kept on the tenths so 0.1 + 0.2 shows (and is recorded) as 0.3.
fn nudge(l: &mut LoraChoice, dir: f32) {
    let w = ((l.weight + dir * WEIGHT_STEP) * 10.0).round() / 10.0;
    l.weight = w.clamp(-WEIGHT_MAX, WEIGHT_MAX);
}

/// The recipe's LoRA list for the chosen files; digests are taken when the job is sent.
pub fn refs(state: &State) -> Vec<LoraRef> {
    state
        .loras
        .iter()
        .map(|l| LoraRef {
            path: l.path.clone(),
            weight: l.weight,
            digest: String::new(),
        })
        .collect()
}

/// `ZEDIT_LORA_DIR`, else `lora_dir` of config.toml, else `<config>/loras`.
pub fn folder(configured: Option<&std::path::Path>, config_dir: &std::path::Path) -> PathBuf {
    let dir = match std::env::var_os("ZEDIT_LORA_DIR").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => configured.map_or_else(|| config_dir.join("loras"), |d| d.to_path_buf()),
    };
    // Absolute, as `--lora` records it: the worker may run in another folder.
    std::path::absolute(&dir).unwrap_or(dir)
}
