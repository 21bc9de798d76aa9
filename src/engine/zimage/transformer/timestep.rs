//! The timestep's sinusoidal features, made on the host and kept on the device. They depend on
//! t alone (no weight, so a LoRA change leaves them valid), and an edit uploads all of its steps'
//! at once before the first step, so the denoising loop itself does no host work for them.

use candle_core::{DType, Device, Result as CResult, Tensor};
use std::sync::Mutex;

/// Feature width of the t embedder's input.
pub const FREQ_DIM: usize = 256;

/// How many timesteps' features are kept (a 50-step schedule, with room to spare).
const KEPT: usize = 64;

/// [cos, sin] (cos first) of t·t_scale·freq_i, freq_i = exp(−ln(1e4)·i/half), in f32 as the
/// reference computes them.
pub fn values(t: f32, t_scale: f32) -> Vec<f32> {
    let half = FREQ_DIM / 2;
    let arg0 = t * t_scale;
    let c = -(10000f64.ln()) as f32;
    let mut feats = vec![0f32; FREQ_DIM];
    for i in 0..half {
        let f = (((c * i as f32) / half as f32) as f64).exp() as f32;
        let a = arg0 * f;
        feats[i] = (a as f64).cos() as f32;
        feats[half + i] = (a as f64).sin() as f32;
    }
    feats
}

/// Features [1, FREQ_DIM] in the model's dtype on its device, by t's bits, newest first.
#[derive(Default)]
pub struct Features {
    kept: Mutex<Vec<(u32, Tensor)>>,
}

impl Features {
    /// Uploads the features of every t in `ts` that is not kept, as one transfer.
    pub fn prepare(&self, ts: &[f32], t_scale: f32, dev: &Device, dtype: DType) -> CResult<()> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let mut missing: Vec<f32> = Vec::new();
        for &t in ts {
            let bits = t.to_bits();
            if !kept.iter().any(|(b, _)| *b == bits) && !missing.iter().any(|m| m.to_bits() == bits)
            {
                missing.push(t);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let flat: Vec<f32> = missing.iter().flat_map(|&t| values(t, t_scale)).collect();
        let all = Tensor::from_vec(flat, (missing.len(), FREQ_DIM), dev)?.to_dtype(dtype)?;
        for (i, t) in missing.iter().enumerate().rev() {
            kept.insert(0, (t.to_bits(), all.narrow(0, i, 1)?.copy()?));
        }
        kept.truncate(KEPT);
        Ok(())
    }

    /// The features of `t`, uploaded now when they were not prepared.
    pub fn get(&self, t: f32, t_scale: f32, dev: &Device, dtype: DType) -> CResult<Tensor> {
        let find = |kept: &Vec<(u32, Tensor)>| {
            kept.iter()
                .find(|(b, _)| *b == t.to_bits())
                .map(|(_, x)| x.clone())
        };
        if let Some(x) = find(&self.kept.lock().unwrap_or_else(|e| e.into_inner())) {
            return Ok(x);
        }
        self.prepare(&[t], t_scale, dev, dtype)?;
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        Ok(find(&kept).expect("prepare keeps the newest features"))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.kept.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(x: &Tensor) -> Vec<f32> {
        x.flatten_all().unwrap().to_vec1().unwrap()
    }

    #[test]
    fn prepared_and_fetched_features_equal_the_host_values() {
        let f = Features::default();
        let dev = Device::Cpu;
        let ts = [0.9375f32, 0.5, 0.9375, 0.125];
        f.prepare(&ts, 1000.0, &dev, DType::F32).unwrap();
        assert_eq!(f.len(), 3, "one entry per distinct t");
        for &t in &ts {
            let got = f.get(t, 1000.0, &dev, DType::F32).unwrap();
            assert_eq!(got.dims(), &[1, FREQ_DIM]);
            assert_eq!(row(&got), values(t, 1000.0), "t = {t}");
        }
        assert_eq!(f.len(), 3, "prepared features are fetched, not made again");
        // Not prepared: made on the spot, then kept.
        let got = f.get(0.3, 1000.0, &dev, DType::F32).unwrap();
        assert_eq!(row(&got), values(0.3, 1000.0));
        assert_eq!(f.len(), 4);
        assert_ne!(values(0.3, 1000.0), values(0.5, 1000.0));
    }

    #[test]
    fn at_most_kept_timesteps_stay() {
        let f = Features::default();
        let ts: Vec<f32> = (0..100).map(|i| i as f32 / 100.0).collect();
        f.prepare(&ts, 1000.0, &Device::Cpu, DType::F32).unwrap();
        assert_eq!(f.len(), KEPT);
        let got = f.get(ts[0], 1000.0, &Device::Cpu, DType::F32).unwrap();
        assert_eq!(row(&got), values(ts[0], 1000.0));
    }
}
