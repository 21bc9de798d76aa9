//! The rotary tables of a call: for the image tokens (noise refiner) and for the joint
//! sequences (image, then caption), of every item of a batch stacked row after row. They depend
//! only on the latent grid and the items' padded caption lengths, so a few are kept and reused
//! by every step of an edit.

use super::rope::{self, Rope};
use super::{fused, model_err, pad_to};
use crate::engine::EngineError;
use candle_core::{DType, Device, Tensor};
use std::sync::{Arc, Mutex};

/// How many tables are kept (an edit uses one or two: with and without CFG).
const KEPT: usize = 4;

/// What a set of tables is made for: the latent grid in tokens and each item's padded
/// caption length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub grid: (usize, usize),
    pub captions: Vec<usize>,
}

/// One rotary table pair [rows, head_dim/2] f32, and on CUDA with the fused kernels on, the
/// two side by side as they read them.
pub struct Rotary {
    pub cos: Tensor,
    pub sin: Tensor,
    pub cos_sin: Option<Tensor>,
}

impl Rotary {
    pub fn new(cos: Tensor, sin: Tensor) -> Result<Self, EngineError> {
        let cos_sin = if fused::enabled() && cos.device().is_cuda() {
            Some(fused::cos_sin(&cos, &sin).map_err(model_err)?)
        } else {
            None
        };
        Ok(Rotary { cos, sin, cos_sin })
    }
}

/// The tables of the stacked image rows (noise refiner) and of the stacked joint rows.
pub struct Tables {
    pub image: Rotary,
    pub joint: Rotary,
}

/// The last few tables, newest first.
#[derive(Default)]
pub struct Cache {
    kept: Mutex<Vec<(Key, Arc<Tables>)>>,
}

impl Cache {
    /// The tables for `key`, made (on `device`) when they are not kept.
    pub fn get(&self, rope: &Rope, key: &Key, device: &Device) -> Result<Arc<Tables>, EngineError> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = kept.iter().position(|(k, _)| k == key) {
            let entry = kept.remove(i);
            let t = entry.1.clone();
            kept.insert(0, entry);
            return Ok(t);
        }
        let t = Arc::new(make(rope, key, device)?);
        kept.insert(0, (key.clone(), t.clone()));
        kept.truncate(KEPT);
        Ok(t)
    }
}

fn make(rope: &Rope, key: &Key, device: &Device) -> Result<Tables, EngineError> {
    let (ht, wt) = key.grid;
    let np = pad_to(ht * wt);
    let (mut image, mut joint) = (Vec::new(), Vec::new());
    for &lp in &key.captions {
        let own = rope::image_positions(lp, ht, wt, np);
        image.extend_from_slice(&own);
        joint.extend(own);
        joint.extend(rope::caption_positions(lp));
    }
    let (cos, sin) = rope.tables(&image, device, DType::F32)?;
    let image = Rotary::new(cos, sin)?;
    let (cos, sin) = rope.tables(&joint, device, DType::F32)?;
    Ok(Tables {
        image,
        joint: Rotary::new(cos, sin)?,
    })
}
