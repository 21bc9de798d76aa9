//! Times one full-size Z-Image Turbo edit with random weights: Qwen3-4B prompt encoding, VAE
//! encode, the 8-step denoising loop of the 6B DiT, VAE decode. Prints seconds per stage and the
//! DiT's achieved TFLOP/s. Usage: zimage_speed [--device cuda] [--size 1024] [--steps 8]
//! [--cap-tokens 128] [--dit-only] [--small]

use candle_core::{Device, Tensor};
use std::time::Instant;
use zedit::engine::zimage::config::{TextEncoderConfig, TransformerConfig, VaeConfig};
use zedit::engine::zimage::scheduler::Schedule;
use zedit::engine::zimage::text_encoder::TextEncoder;
use zedit::engine::zimage::transformer::{flops_per_call, Transformer};
use zedit::engine::zimage::vae::Vae;
use zedit::engine::zimage::{device, weights::Weights};

struct Args {
    device: String,
    size: usize,
    steps: usize,
    cap_tokens: usize,
    dit_only: bool,
    /// A 2-layer, 256-wide DiT and a 3-layer encoder: checks the program on a CPU.
    small: bool,
}

fn args() -> Args {
    let mut a = Args {
        device: "cuda".into(),
        size: 1024,
        steps: 8,
        cap_tokens: 128,
        dit_only: false,
        small: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut val = || it.next().unwrap_or_default();
        match k.as_str() {
            "--device" => a.device = val(),
            "--size" => a.size = val().parse().unwrap_or(1024),
            "--steps" => a.steps = val().parse().unwrap_or(8),
            "--cap-tokens" => a.cap_tokens = val().parse().unwrap_or(128),
            "--dit-only" => a.dit_only = true,
            "--small" => a.small = true,
            other => eprintln!("ignoring unknown argument {other}"),
        }
    }
    a
}

fn timed<T>(dev: &Device, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, f64)> {
    dev.synchronize()?;
    let t0 = Instant::now();
    let out = f()?;
    dev.synchronize()?;
    Ok((out, t0.elapsed().as_secs_f64()))
}

fn main() -> anyhow::Result<()> {
    let a = args();
    let (dev, dtype) = device::select(Some(&a.device))?;
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
        Ok(Transformer::load(&Weights::random(&dev, dtype), &tcfg)?)
    })?;
    println!("random DiT built in {load_s:.1}s");
    let lat = a.size / 8;
    let x = Tensor::randn(0f32, 1.0, (16, lat, lat), &dev)?;

    let mut total = 0.0;
    let cap = if a.dit_only {
        Tensor::randn(0f32, 1.0, (a.cap_tokens, tcfg.cap_feat_dim), &dev)?.to_dtype(dtype)?
    } else {
        let mut w = Weights::random(&dev, dtype);
        let te = TextEncoder::load(&mut w, &te_cfg)?;
        let ids: Vec<u32> = (0..a.cap_tokens as u32).map(|i| 1000 + i).collect();
        te.encode(&ids)?; // warm-up
        let (cap, s) = timed(&dev, || Ok(te.encode(&ids)?))?;
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
        let (_, s) = timed(&dev, || Ok(vae.encode(&img)?))?;
        println!("VAE encode: {s:.3}s");
        total += s;
    }

    let sched = Schedule::new(&Default::default(), a.steps);
    let caption = dit.caption(&cap)?;
    dit.forward(&x, 0.5, &caption)?; // warm-up (kernels, allocator)
    let (xf, loop_s) = timed(&dev, || {
        let caption = dit.caption(&cap)?;
        let mut x = x.clone();
        for i in 0..a.steps {
            let v = dit
                .forward(&x, Schedule::model_t(sched.timesteps[i]), &caption)?
                .neg()?;
            x = (x + (v * (sched.sigmas[i + 1] - sched.sigmas[i]) as f64)?)?;
        }
        Ok(x)
    })?;
    let flops = flops_per_call(&tcfg, (lat / 2) * (lat / 2), a.cap_tokens) * a.steps as f64;
    println!(
        "denoising: {loop_s:.3}s for {} steps ({:.3}s/step), {:.1} TFLOP/step, {:.0} TFLOP/s achieved",
        a.steps,
        loop_s / a.steps as f64,
        flops / a.steps as f64 / 1e12,
        flops / loop_s / 1e12
    );
    total += loop_s;
    if let Some(vae) = &vae {
        let (_, s) = timed(&dev, || {
            Ok(vae.decode(&vae.from_latents(&xf.unsqueeze(0)?)?)?)
        })?;
        println!("VAE decode: {s:.3}s");
        total += s;
    }
    println!("seconds per edit: {total:.3}");
    Ok(())
}
