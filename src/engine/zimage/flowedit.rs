//! FlowEdit (Kulikov et al. 2024) on Z-Image: inversion-free editing by integrating the
//! difference of the velocities under a target and a source prompt, starting from the image
//! itself. Z-Image's transformer outputs the negative velocity, so v = −model(x, 1 − σ, caption).
//!
//! With the schedule's N steps (σ₀ = 1 > … > σ_N = 0), x_src the image latents (posterior mode)
//! and z = x_src, for each step i ≥ N − n_max:
//! - while N − i > n_min (editing): for k < n_avg, draw ε, z_src = (1 − σᵢ)·x_src + σᵢ·ε,
//!   z_tar = z + z_src − x_src, Δ += (v(z_tar, target) − v(z_src, source))·(1/n_avg); then
//!   z ← z + (σᵢ₊₁ − σᵢ)·Δ;
//! - for the last n_min steps (plain sampling): at the first of them draw ε and set
//!   x = z + (1 − σᵢ)·x_src + σᵢ·ε − x_src; then x ← x + (σᵢ₊₁ − σᵢ)·v(x, target).
//!
//! The result is z (or x when n_min > 0). With a mask, after each step the unmasked area is
//! put back: z ← (1 − m)·x_src + m·z, and in plain sampling x ← (1 − m)·(σᵢ₊₁·ε + (1 − σᵢ₊₁)·
//! x_src) + m·x. A guided velocity is −(pos + g·(pos − neg)); g = 0 makes one call.

use super::noise::{Noise, NoiseSource};
use super::pipeline::{err, latent_mask, mix, Output, Pipeline, StepInfo};
use super::scheduler::Schedule;
use super::transformer::Caption;
use super::EngineError;
use crate::core::FlowEditParams;
use crate::engine::Flow;
use candle_core::{DType, Tensor};

/// One FlowEdit run.
#[derive(Debug, Clone)]
pub struct FlowEditJob {
    /// What the picture shows now.
    pub source_prompt: String,
    /// What it should show.
    pub target_prompt: String,
    /// Negative prompt of the guided velocities (the empty prompt when absent).
    pub negative_prompt: Option<String>,
    pub params: FlowEditParams,
    /// Length of the schedule; the last `params.n_max` of its steps run.
    pub steps: usize,
    /// [1, 3, H, W] in [−1, 1]; H and W multiples of 16.
    pub image: Tensor,
    /// [1, 1, H, W] of 0/1 (1 = edit), already binarized.
    pub mask: Option<Tensor>,
    /// One latent draw per edit step and average, then one for the plain-sampling tail.
    pub noise: Noise,
}

/// The captions of one run: source, target, and the negative one when guidance is on.
struct Captions {
    source: Caption,
    target: Caption,
    negative: Option<Caption>,
}

impl Pipeline {
    /// Runs FlowEdit; `on_step` sees each finished step and may cancel between steps.
    pub fn run_flowedit(
        &mut self,
        job: &FlowEditJob,
        on_step: &mut dyn FnMut(StepInfo) -> Flow,
    ) -> Result<Output, EngineError> {
        let p = job.params;
        p.validate(job.steps as u32)
            .map_err(EngineError::BadInput)?;
        let caps = self.captions(job)?;
        let schedule = Schedule::new(self.scheduler_config(), job.steps);
        let image = job
            .image
            .to_device(self.device())
            .and_then(|t| t.to_dtype(DType::F32))
            .map_err(err)?;
        let x_src = self.vae().to_latents(&self.vae().encode(&image)?.mean)?;
        let factor = self.vae().config().spatial_factor();
        let mask = match &job.mask {
            Some(m) => Some(latent_mask(m, factor, self.device())?),
            None => None,
        };
        let mut rng = NoiseSource::new(&job.noise);
        let (n, n_max, n_min) = (job.steps, p.n_max as usize, p.n_min as usize);
        let first = n - n_max;
        let mut z = x_src.clone();
        // The plain-sampling tail: its latents and the noise it started from.
        let mut tail: Option<(Tensor, Tensor)> = None;
        let model_ts: Vec<f32> = (first..n)
            .map(|i| Schedule::model_t(schedule.timesteps[i]))
            .collect();
        self.transformer().prepare_timesteps(&model_ts)?;
        for i in first..n {
            let (s, s_next) = (schedule.sigmas[i], schedule.sigmas[i + 1]);
            let t = Schedule::model_t(schedule.timesteps[i]);
            let dt = (s_next - s) as f64;
            if n - i > n_min {
                let mut delta = x_src.zeros_like().map_err(err)?;
                for _ in 0..p.n_avg {
                    let eps = rng.latent_noise(&x_src)?;
                    let z_src = mix(&eps, &x_src, s)?;
                    let z_tar = ((&z + &z_src).map_err(err)? - &x_src).map_err(err)?;
                    let [v_src, v_tar]: [Tensor; 2] = self
                        .guided(
                            &[
                                (&z_src, &caps.source, p.source_guidance),
                                (&z_tar, &caps.target, p.target_guidance),
                            ],
                            t,
                            &caps,
                        )?
                        .try_into()
                        .map_err(|_| EngineError::Internal("FlowEdit: not 2 velocities".into()))?;
                    let d =
                        ((v_tar - v_src).map_err(err)? * (1.0 / p.n_avg as f64)).map_err(err)?;
                    delta = (delta + d).map_err(err)?;
                }
                z = (&z + (delta * dt).map_err(err)?).map_err(err)?;
                if let Some(m) = &mask {
                    z = blend(m, &x_src, &z)?;
                }
            } else {
                let (mut x, eps) = match tail.take() {
                    Some(state) => state,
                    None => {
                        let eps = rng.latent_noise(&x_src)?;
                        let x_t = mix(&eps, &x_src, s)?;
                        (((&z + x_t).map_err(err)? - &x_src).map_err(err)?, eps)
                    }
                };
                let v = self
                    .guided(&[(&x, &caps.target, p.target_guidance)], t, &caps)?
                    .remove(0);
                x = (&x + (v * dt).map_err(err)?).map_err(err)?;
                if let Some(m) = &mask {
                    x = blend(m, &mix(&eps, &x_src, s_next)?, &x)?;
                }
                tail = Some((x, eps));
            }
            self.finish_step()?;
            let latents = tail.as_ref().map_or(&z, |(x, _)| x);
            if on_step(StepInfo {
                index: i - first,
                total: n_max,
                latents,
            }) == Flow::Cancel
            {
                return Err(EngineError::Cancelled);
            }
        }
        let final_latents = tail.map_or(z, |(x, _)| x);
        let decoded = self
            .vae()
            .decode(&self.vae().from_latents(&final_latents)?)?;
        Ok(Output {
            schedule: Schedule {
                t_start: first,
                ..schedule
            },
            final_latents,
            decoded,
        })
    }

    fn captions(&mut self, job: &FlowEditJob) -> Result<Captions, EngineError> {
        let guided = job.params.source_guidance > 0.0 || job.params.target_guidance > 0.0;
        let source = self.encode_prompt(&job.source_prompt)?;
        let target = self.encode_prompt(&job.target_prompt)?;
        let negative = if guided {
            Some(self.encode_prompt(job.negative_prompt.as_deref().unwrap_or(""))?)
        } else {
            None
        };
        let tr = self.transformer();
        Ok(Captions {
            source: tr.caption(&source)?,
            target: tr.caption(&target)?,
            negative: negative.map(|n| tr.caption(&n)).transpose()?,
        })
    }

    /// v = −(pos + g·(pos − neg)) for each of several latents [1, C, h, w] at one t, with its
    /// caption and guidance g (g = 0 makes one call); the calls run as batches.
    fn guided(
        &self,
        jobs: &[(&Tensor, &Caption, f32)],
        t: f32,
        caps: &Captions,
    ) -> Result<Vec<Tensor>, EngineError> {
        let xs = jobs
            .iter()
            .map(|(x, _, _)| x.squeeze(0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        let negative = |g: f32| caps.negative.as_ref().filter(|_| g > 0.0);
        let mut items = Vec::with_capacity(2 * jobs.len());
        for (x, (_, cap, g)) in xs.iter().zip(jobs) {
            items.push((x, *cap));
            if let Some(neg) = negative(*g) {
                items.push((x, neg));
            }
        }
        let mut outs = self.transformer().forward_batch(&items, t)?.into_iter();
        let mut next = || {
            outs.next()
                .ok_or_else(|| EngineError::Internal("FlowEdit: a batch output is missing".into()))
        };
        let mut v = Vec::with_capacity(jobs.len());
        for (_, _, g) in jobs {
            let pos = next()?;
            let pred = match negative(*g) {
                Some(_) => {
                    let diff = (&pos - next()?).map_err(err)?;
                    (&pos + (diff * *g as f64).map_err(err)?).map_err(err)?
                }
                None => pos,
            };
            v.push(pred.neg().and_then(|v| v.unsqueeze(0)).map_err(err)?);
        }
        Ok(v)
    }
}

/// (1 − m)·keep + m·x.
fn blend(mask: &Tensor, keep: &Tensor, x: &Tensor) -> Result<Tensor, EngineError> {
    let inv = (1.0 - mask).map_err(err)?;
    (keep.broadcast_mul(&inv).map_err(err)? + mask.broadcast_mul(x).map_err(err)?).map_err(err)
}
