//! Times one full-size Z-Image Turbo edit: Qwen3-4B prompt encoding, VAE encode, the 8-step
//! denoising loop of the 6B DiT, VAE decode. Prints seconds per stage, the DiT's achieved TFLOP/s
//! and its ratio to the FLOP floor, and `STAGE name start end` lines (unix ms) that the GPU check
//! matches with its VRAM samples.
//!
//! Usage: zimage_speed [--device cuda] [--size 1024] [--steps 8] [--cap-tokens 128]
//! [--dit-only] [--small] [--peak-tflops 989] [--profile-step]
//! [--model DIR [--quick | --vae-only] [--out FILE]]
//!
//! `--profile-step` (random weights) runs one warm-up DiT call, then one call between
//! `cuProfilerStart`/`Stop` for `ncu --profile-from-start off`, and stops there.
//!
//! Without `--model` the weights are random and built in memory; with it, the pipeline loads the
//! folder and runs one edit with the draws of `DIR/inputs.safetensors` (see scripts/gpu_check.sh).

mod model;
mod vae_only;

use candle_core::{Device, Tensor};
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use zedit::engine::zimage::config::{TextEncoderConfig, TransformerConfig, VaeConfig};
use zedit::engine::zimage::scheduler::Schedule;
use zedit::engine::zimage::text_encoder::TextEncoder;
use zedit::engine::zimage::transformer::{flops_per_call, Source, Transformer};
use zedit::engine::zimage::vae::Vae;
use zedit::engine::zimage::{device, weights::Weights};

/// Times a full-size Z-Image Turbo edit stage by stage (see the module docs).
#[derive(clap::Parser)]
#[command(name = "zimage_speed")]
struct Args {
    /// cpu, cuda, cuda:N or metal.
    #[arg(long, default_value = "cuda")]
    device: String,
    /// Side of the square image in pixels (random weights), a multiple of 16.
    #[arg(long, default_value_t = 1024, value_parser = side)]
    size: usize,
    /// Denoising steps.
    #[arg(long, default_value_t = 8, value_parser = positive)]
    steps: usize,
    /// Caption tokens of the random-weight runs.
    #[arg(long, default_value_t = 128, value_parser = positive)]
    cap_tokens: usize,
    /// Only the DiT (random caption features, no text encoder or VAE).
    #[arg(long)]
    dit_only: bool,
    /// With `--model`: only the DiT step and one edit (no text-encoder or VAE stage timings,
    /// no warm-up edit; the step's warm-up warms the DiT).
    #[arg(long, requires = "model", conflicts_with = "vae_only")]
    quick: bool,
    /// With `--model`: only the VAE (see vae_only.rs).
    #[arg(long, requires = "model")]
    vae_only: bool,
    /// A 2-layer, 256-wide DiT and a 3-layer encoder: checks the program on a CPU.
    #[arg(long)]
    small: bool,
    /// One DiT call for the CUDA profiler, then exit (see the module docs).
    #[arg(long, conflicts_with = "model")]
    profile_step: bool,
    /// Dense bf16 peak of the card in TFLOP/s, for the floor (H100/H200 SXM: 989).
    #[arg(long, default_value_t = 989.0)]
    peak_tflops: f64,
    /// A Z-Image model folder with inputs.safetensors: one real edit instead of random weights.
    #[arg(long)]
    model: Option<PathBuf>,
    /// With `--model`: where the decoded image is written (safetensors).
    #[arg(long, requires = "model")]
    out: Option<String>,
}

/// `--size`: a positive multiple of 16 (the VAE's 8 times the DiT's 2x2 patches).
fn side(v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if n > 0 && n % 16 == 0 && n <= 8192 => Ok(n),
        _ => Err(format!("{v:?} is not a multiple of 16 between 16 and 8192")),
    }
}

/// `--steps`, `--cap-tokens`: a count from 1 to 4096.
fn positive(v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if (1..=4096).contains(&n) => Ok(n),
        _ => Err(format!("{v:?} is not a whole number from 1 to 4096")),
    }
}

/// The prompt of `--model` runs (the GPU check's diffusers side uses the same).
pub const PROMPT: &str = "A small wooden boat on a calm lake at sunrise";

fn timed<T>(dev: &Device, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, f64)> {
    dev.synchronize()?;
    let t0 = Instant::now();
    let out = f()?;
    dev.synchronize()?;
    Ok((out, t0.elapsed().as_secs_f64()))
}

fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// Runs one stage between `STAGE` marker lines; on CUDA also prints `POOL name bytes`, the
/// most memory its tensors held at once (the device pool's high watermark, exact however short
/// the stage, where the VRAM sampler only sees every ~100 ms).
fn mark<T>(dev: &Device, name: &str, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    device::reset_pool_peak(dev);
    let start = unix_ms();
    let out = f()?;
    println!("STAGE {name} {start} {}", unix_ms());
    if let Some(bytes) = device::pool_peak(dev) {
        println!("POOL {name} {bytes}");
    }
    Ok(out)
}

/// One guided step (cond with the prompt, uncond with a 16-token negative) as one stacked
/// call and as two separate calls.
fn cfg_step(
    dit: &Transformer,
    x: &Tensor,
    caption: &zedit::engine::zimage::transformer::Caption,
    tcfg: &TransformerConfig,
    dev: &Device,
    dtype: candle_core::DType,
) -> anyhow::Result<()> {
    let neg = Tensor::randn(0f32, 1.0, (16, tcfg.cap_feat_dim), dev)?.to_dtype(dtype)?;
    let neg = dit.caption(&neg)?;
    let items = [(x, caption), (x, &neg)];
    dit.forward_batch(&items, 0.5)?; // warm-up
    let (_, stacked) = mark(dev, "cfg_stacked", || {
        timed(dev, || Ok(dit.forward_batch(&items, 0.5)?))
    })?;
    let (_, separate) = mark(dev, "cfg_separate", || {
        timed(dev, || {
            Ok((dit.forward(x, 0.5, caption)?, dit.forward(x, 0.5, &neg)?))
        })
    })?;
    println!(
        "guided step (cond + uncond): {:.1} ms stacked, {:.1} ms as two calls",
        stacked * 1e3,
        separate * 1e3
    );
    Ok(())
}

/// `--profile-step`: a warm-up DiT call, then one between the profiler's start and stop.
fn profile_step(
    dit: &Transformer,
    x: &Tensor,
    tcfg: &TransformerConfig,
    cap_tokens: usize,
    dev: &Device,
    dtype: candle_core::DType,
) -> anyhow::Result<()> {
    let cap = Tensor::randn(0f32, 1.0, (cap_tokens, tcfg.cap_feat_dim), dev)?.to_dtype(dtype)?;
    let caption = dit.caption(&cap)?;
    dit.forward(x, 0.5, &caption)?; // warm-up
    dev.synchronize()?;
    device::profile(dev, true)?;
    let (_, s) = timed(dev, || Ok(dit.forward(x, 0.5, &caption)?))?;
    device::profile(dev, false)?;
    println!("profiled DiT call: {:.1} ms", s * 1e3);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let a = <Args as clap::Parser>::parse();
    let (dev, dtype) = device::select(Some(&a.device))?;
    if let Some(dir) = &a.model {
        if a.vae_only {
            println!("device {dev:?}, dtype {dtype:?}");
            return vae_only::run(&a, dir, &dev, dtype);
        }
        println!("device {dev:?}, dtype {dtype:?}, {} steps", a.steps);
        return model::run(&a, dir, &dev, dtype);
    }
    println!(
        "device {dev:?}, dtype {dtype:?}, {}x{}, {} steps, {} caption tokens",
        a.size, a.size, a.steps, a.cap_tokens
    );
    let mut tcfg = TransformerConfig::turbo();
    let mut te_cfg = TextEncoderConfig::qwen3_4b();
    if a.small {
        (tcfg.dim, tcfg.n_heads, tcfg.n_layers) = (256, 2, 2);
        te_cfg.num_hidden_layers = 3;
    }
    let (dit, load_s) = timed(&dev, || {
        Ok(Transformer::load(
            &Source::Safetensors(&Weights::random(&dev, dtype)),
            &tcfg,
        )?)
    })?;
    println!("random DiT built in {load_s:.1}s");
    let lat = a.size / 8;
    let x = Tensor::randn(0f32, 1.0, (16, lat, lat), &dev)?;
    if a.profile_step {
        return profile_step(&dit, &x, &tcfg, a.cap_tokens, &dev, dtype);
    }

    let mut total = 0.0;
    let cap = if a.dit_only {
        Tensor::randn(0f32, 1.0, (a.cap_tokens, tcfg.cap_feat_dim), &dev)?.to_dtype(dtype)?
    } else {
        let mut w = Weights::random(&dev, dtype);
        let te = TextEncoder::load(&mut w, &te_cfg)?;
        let ids: Vec<u32> = (0..a.cap_tokens as u32).map(|i| 1000 + i).collect();
        te.encode(&ids)?; // warm-up
        let (cap, s) = mark(&dev, "text_encoder", || {
            timed(&dev, || Ok(te.encode(&ids)?))
        })?;
        println!(
            "text encoder ({} layers, {} tokens): {s:.3}s",
            te_cfg.num_hidden_layers, a.cap_tokens
        );
        total += s;
        cap
    };
    let vae = if a.dit_only {
        None
    } else {
        Some(Vae::load(
            &Weights::random(&dev, dtype),
            &VaeConfig::z_image(),
            true,
        )?)
    };
    if let Some(vae) = &vae {
        let img = Tensor::randn(0f32, 0.5, (1, 3, a.size, a.size), &dev)?;
        vae.encode(&img)?; // warm-up
        let (_, s) = mark(&dev, "vae_encode", || timed(&dev, || Ok(vae.encode(&img)?)))?;
        println!("VAE encode: {s:.3}s");
        total += s;
    }

    let sched = Schedule::new(&Default::default(), a.steps);
    let caption = dit.caption(&cap)?;
    dit.forward(&x, 0.5, &caption)?; // warm-up (kernels, allocator)
    let (xf, loop_s) = mark(&dev, "denoise", || {
        timed(&dev, || {
            let caption = dit.caption(&cap)?;
            let mut x = x.clone();
            for i in 0..a.steps {
                let v = dit
                    .forward(&x, Schedule::model_t(sched.timesteps[i]), &caption)?
                    .neg()?;
                x = (x + (v * (sched.sigmas[i + 1] - sched.sigmas[i]) as f64)?)?;
            }
            Ok(x)
        })
    })?;
    let flops = flops_per_call(&tcfg, (lat / 2) * (lat / 2), a.cap_tokens) * a.steps as f64;
    let floor = flops / (a.peak_tflops * 1e12);
    println!(
        "denoising: {loop_s:.3}s for {} steps ({:.3}s/step), {:.1} TFLOP/step, {:.0} TFLOP/s achieved, \
         {:.2}x the floor ({:.1} ms/step at {} TFLOP/s)",
        a.steps,
        loop_s / a.steps as f64,
        flops / a.steps as f64 / 1e12,
        flops / loop_s / 1e12,
        loop_s / floor,
        floor / a.steps as f64 * 1000.0,
        a.peak_tflops
    );
    total += loop_s;
    cfg_step(&dit, &x, &caption, &tcfg, &dev, dtype)?;
    if let Some(vae) = &vae {
        let z = vae.from_latents(&xf.unsqueeze(0)?)?;
        vae.decode(&z)?; // warm-up
        let (_, s) = mark(&dev, "vae_decode", || timed(&dev, || Ok(vae.decode(&z)?)))?;
        println!("VAE decode: {s:.3}s");
        total += s;
    }
    println!("seconds per edit: {total:.3}");
    Ok(())
}
