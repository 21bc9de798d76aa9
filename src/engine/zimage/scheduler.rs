//! Flow-matching Euler schedule as the Z-Image pipelines build it (shifted sigmas, reversed t),
//! reproduced to the bit: the f32 linspace of the pipeline's default sigmas, the f32 shift, and
//! the img2img start index from the strength's decimal value; and the scheduler config, with the
//! settings zedit does not implement refused by name.

use super::EngineError;
use serde::Deserialize;
use std::path::Path;

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
    /// Full schedule of `steps` steps: s = linspace(1, 1/N, N) in f32, σ = shift·s / (1 +
    /// (shift−1)·s) in f32, timesteps = σ·num_train_timesteps, then a final σ of 0.
    pub fn new(cfg: &SchedulerConfig, steps: usize) -> Self {
        let n = steps.max(1);
        // Python floats meet an f32 array: each scalar (shift − 1 included, computed in f64
        // first) is rounded to f32 once, then the array arithmetic runs in f32.
        let shift = cfg.shift as f32;
        let shift_less_one = (cfg.shift - 1.0) as f32;
        let train = cfg.num_train_timesteps as f32;
        // The pipeline passes these sigmas as a Python list of the f32 values; the scheduler
        // turns them back into an f32 array, so no precision changes on the way.
        let end = (1.0 / n as f64) as f32;
        let mut sigmas: Vec<f32> = linspace_f32(1.0, end, n)
            .into_iter()
            .map(|s| shift * s / (1.0 + shift_less_one * s))
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
    /// `strength` is the decimal value the user gave (see [`decimal`]).
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

/// t_start as the reference computes it in Python floats, with the product truncated.
pub fn t_start(steps: usize, strength: f64) -> usize {
    let n = steps as f64;
    let init = (n * strength).min(n);
    (n - init).max(0.0) as usize
}

/// The f64 of an f32 parameter's shortest decimal form: 0.6f32 becomes 0.6, not
/// 0.6000000238. Parameters are typed, stored and shown as these decimals, and the reference
/// pipeline receives them as Python floats, so this is the value its arithmetic sees.
pub fn decimal(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(x as f64)
}

/// torch.linspace(start, end, n) for float32 on the CPU: the first half counts up from
/// `start`, the second half down from `end`, each value one fused multiply-add of the f32 step.
fn linspace_f32(start: f32, end: f32, n: usize) -> Vec<f32> {
    if n == 1 {
        return vec![start];
    }
    let step = (end - start) / (n - 1) as f32;
    let half = n / 2;
    (0..n)
        .map(|i| {
            if i < half {
                step.mul_add(i as f32, start)
            } else {
                (-step).mul_add((n - 1 - i) as f32, end)
            }
        })
        .collect()
}

/// `FlowMatchEulerDiscreteScheduler` settings that Z-Image uses. The keys that would change
/// the schedule in ways zedit does not implement are read too, so that a config setting them is
/// refused instead of silently run with a different schedule.
#[derive(Debug, Clone, Deserialize)]
pub struct SchedulerConfig {
    #[serde(default = "thousand")]
    pub num_train_timesteps: usize,
    #[serde(default = "three")]
    pub shift: f64,
    #[serde(default, rename = "_class_name")]
    class_name: Option<String>,
    #[serde(default)]
    use_dynamic_shifting: bool,
    #[serde(default)]
    invert_sigmas: bool,
    #[serde(default)]
    shift_terminal: Option<f64>,
    #[serde(default)]
    use_karras_sigmas: bool,
    #[serde(default)]
    use_exponential_sigmas: bool,
    #[serde(default)]
    use_beta_sigmas: bool,
    #[serde(default)]
    stochastic_sampling: bool,
}

fn thousand() -> usize {
    1000
}

fn three() -> f64 {
    3.0
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            num_train_timesteps: 1000,
            shift: 3.0,
            class_name: None,
            use_dynamic_shifting: false,
            invert_sigmas: false,
            shift_terminal: None,
            use_karras_sigmas: false,
            use_exponential_sigmas: false,
            use_beta_sigmas: false,
            stochastic_sampling: false,
        }
    }
}

/// The scheduler class whose schedule zedit reproduces.
const SCHEDULER_CLASS: &str = "FlowMatchEulerDiscreteScheduler";

impl SchedulerConfig {
    /// Reads `dir/scheduler/scheduler_config.json` (the real model's defaults when the file is
    /// absent) and refuses settings zedit does not implement.
    pub fn read(dir: &Path) -> Result<Self, EngineError> {
        let path = dir.join("scheduler").join("scheduler_config.json");
        let cfg = match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text)
                .map_err(|m| EngineError::Model(format!("{}: {m}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => SchedulerConfig::default(),
            Err(e) => {
                return Err(EngineError::Unavailable(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        };
        Ok(cfg)
    }

    /// Parses and checks one scheduler config's JSON text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let cfg: SchedulerConfig =
            serde_json::from_str(text).map_err(|e| format!("not a valid scheduler config: {e}"))?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), String> {
        if let Some(class) = &self.class_name {
            if class != SCHEDULER_CLASS {
                return Err(format!(
                    "`_class_name` is {class}; zedit implements only {SCHEDULER_CLASS}"
                ));
            }
        }
        let flags = [
            ("use_dynamic_shifting", self.use_dynamic_shifting),
            ("invert_sigmas", self.invert_sigmas),
            ("use_karras_sigmas", self.use_karras_sigmas),
            ("use_exponential_sigmas", self.use_exponential_sigmas),
            ("use_beta_sigmas", self.use_beta_sigmas),
            ("stochastic_sampling", self.stochastic_sampling),
        ];
        if let Some((key, _)) = flags.iter().find(|(_, on)| *on) {
            return Err(format!(
                "`{key}` is true, which zedit does not implement (it runs the fixed-shift \
                 Euler schedule); set it to false or remove the key"
            ));
        }
        if let Some(v) = self.shift_terminal.filter(|v| *v != 0.0) {
            return Err(format!(
                "`shift_terminal` is {v}, which zedit does not implement; set it to null"
            ));
        }
        if !(self.shift.is_finite() && self.shift > 0.0) || self.num_train_timesteps == 0 {
            return Err(format!(
                "`shift` {} must be a positive number and `num_train_timesteps` {} at least 1",
                self.shift, self.num_train_timesteps
            ));
        }
        Ok(())
    }
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

    #[test]
    fn f32_parameters_reach_the_schedule_as_their_decimals() {
        assert_eq!(decimal(0.6f32), 0.6);
        assert_eq!(decimal(0.8f32), 0.8);
        assert_eq!(decimal(0.55f32), 0.55);
        assert_eq!(decimal(1.0f32), 1.0);
        // Widening instead would start one step early at these settings.
        assert_eq!(t_start(10, 0.8f32 as f64), 1);
        assert_eq!(t_start(10, decimal(0.8)), 2);
        assert_eq!(t_start(10, 0.6f32 as f64), 3);
        assert_eq!(t_start(10, decimal(0.6)), 4);
    }

    #[test]
    fn the_real_scheduler_config_is_accepted() {
        let c = SchedulerConfig::parse(
            r#"{"_class_name": "FlowMatchEulerDiscreteScheduler", "_diffusers_version": "0.36.0",
                "num_train_timesteps": 1000, "use_dynamic_shifting": false, "shift": 3.0,
                "shift_terminal": null, "base_shift": 0.5, "time_shift_type": "exponential"}"#,
        )
        .unwrap();
        assert_eq!((c.num_train_timesteps, c.shift), (1000, 3.0));
    }

    #[test]
    fn unsupported_flags_are_refused_by_name() {
        for (json, key) in [
            (r#"{"use_dynamic_shifting": true}"#, "use_dynamic_shifting"),
            (r#"{"shift_terminal": 0.1}"#, "shift_terminal"),
            (r#"{"use_karras_sigmas": true}"#, "use_karras_sigmas"),
            (
                r#"{"use_exponential_sigmas": true}"#,
                "use_exponential_sigmas",
            ),
            (r#"{"use_beta_sigmas": true}"#, "use_beta_sigmas"),
            (r#"{"invert_sigmas": true}"#, "invert_sigmas"),
            (r#"{"stochastic_sampling": true}"#, "stochastic_sampling"),
            (
                r#"{"_class_name": "EulerDiscreteScheduler"}"#,
                "_class_name",
            ),
            (r#"{"shift": -1.0}"#, "shift"),
        ] {
            let e = SchedulerConfig::parse(json).unwrap_err();
            assert!(e.contains(&format!("`{key}`")), "{json}: {e}");
        }
        assert!(SchedulerConfig::parse(r#"{"shift_terminal": 0.0}"#).is_ok());
    }
}
