//! Flow-matching Euler schedule as the Z-Image pipelines build it (shifted sigmas, reversed t).

use super::config::SchedulerConfig;

/// The sigmas and timesteps of one run, plus where an img2img/inpaint run starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// N + 1 values, the last one 0.
    pub sigmas: Vec<f32>,
    /// N values: 1000·σ.
    pub timesteps: Vec<f32>,
    /// Index of the first step that runs (0 for text-to-image).
    pub t_start: usize,
}

impl Schedule {
    /// Full schedule of `steps` steps: s = linspace(1, 1/N, N), σ = shift·s / (1 + (shift−1)·s).
    pub fn new(cfg: &SchedulerConfig, steps: usize) -> Self {
        let n = steps.max(1);
        let shift = cfg.shift as f32;
        let train = cfg.num_train_timesteps as f32;
        let mut sigmas: Vec<f32> = linspace(1.0, 1.0 / n as f64, n)
            .into_iter()
            .map(|s| {
                // numpy's linspace is float64, cast once; the shift runs in float32 like the
                // reference's float32 array arithmetic.
                let s = s as f32;
                shift * s / (1.0 + (shift - 1.0) * s)
            })
            .collect();
        let timesteps = sigmas.iter().map(|s| s * train).collect();
        sigmas.push(0.0);
        Schedule {
            sigmas,
            timesteps,
            t_start: 0,
        }
    }

    /// Schedule for img2img/inpaint: the reference's t_start = int(N − min(N·strength, N)).
    pub fn with_strength(cfg: &SchedulerConfig, steps: usize, strength: f64) -> Self {
        let mut s = Schedule::new(cfg, steps);
        s.t_start = t_start(s.timesteps.len(), strength);
        s
    }

    /// Number of transformer steps that actually run.
    pub fn run_len(&self) -> usize {
        self.timesteps.len() - self.t_start
    }

    /// The timesteps that run, in order.
    pub fn run_timesteps(&self) -> &[f32] {
        &self.timesteps[self.t_start..]
    }

    /// The transformer's t for a timestep: (1000 − timestep)/1000, in float32.
    pub fn model_t(timestep: f32) -> f32 {
        (1000.0 - timestep) / 1000.0
    }
}

/// t_start as the reference computes it, with the float product truncated.
pub fn t_start(steps: usize, strength: f64) -> usize {
    let n = steps as f64;
    let init = (n * strength).min(n);
    (n - init).max(0.0) as usize
}

/// numpy.linspace(start, stop, num) in float64 (the last value is exactly `stop`).
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 1 {
        return vec![start];
    }
    let step = (stop - start) / (num - 1) as f64;
    let mut v: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    v[num - 1] = stop;
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_steps_match_the_reference() {
        let s = Schedule::new(&SchedulerConfig::default(), 4);
        assert_eq!(s.timesteps, vec![1000.0, 900.0, 750.0, 500.0]);
        assert_eq!(s.sigmas[4], 0.0);
        let t: Vec<f32> = s.timesteps.iter().map(|&x| Schedule::model_t(x)).collect();
        assert_eq!(t, vec![0.0, 0.1, 0.25, 0.5]);
    }

    #[test]
    fn strength_truncates_like_the_reference() {
        assert_eq!(t_start(4, 0.6), 1);
        assert_eq!(t_start(4, 1.0), 0);
        assert_eq!(t_start(8, 0.5), 4);
        assert_eq!(t_start(8, 0.0), 8);
    }
}
