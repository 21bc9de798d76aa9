//! `--model DIR` mode: one full edit through the real pipeline on a model folder (the GPU check's
//! random full-size weights), with the draws of `DIR/inputs.safetensors`, so the result can be
//! compared with diffusers' run on the same folder. Prints per-stage timings (each after a
//! warm-up call), seconds per edit, and stage markers for the VRAM sampler.

use super::{mark, timed, Args, PROMPT};
use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;
use std::path::Path;
use zedit::engine::zimage::prompt::MAX_SEQUENCE_LENGTH;
use zedit::engine::zimage::scheduler::Schedule;
use zedit::engine::zimage::transformer::flops_per_call;
use zedit::engine::zimage::{device, imageio, pipeline, Init, Job, Noise, Pipeline};
use zedit::engine::Flow;

pub fn run(a: &Args, dir: &Path, dev: &Device, dtype: DType) -> anyhow::Result<()> {
    let (mut p, load_s) = mark(dev, "load", || {
        timed(dev, || Ok(Pipeline::load(dir, dev, dtype)?))
    })?;
    println!("pipeline loaded from {} in {load_s:.1}s", dir.display());
    let (inputs, image, size) = input_image(dir, dev)?;
    let get = |k: &str| {
        inputs
            .get(k)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("inputs.safetensors has no tensor {k}"))
    };
    let job = Job {
        prompt: PROMPT.into(),
        negative_prompt: None,
        guidance: 0.0,
        cfg_truncation: 1.0,
        cfg_normalization: 0.0,
        steps: a.steps,
        strength: 1.0,
        init: Init::Image {
            image: image.clone(),
            mask: None,
        },
        noise: Noise::Given {
            posterior_eps: vec![get("posterior_eps")?],
            noise: get("noise")?,
        },
    };

    // Per stage, each after one warm-up call.
    let ids = p.tokenizer().ids(PROMPT, MAX_SEQUENCE_LENGTH)?;
    let stage = |name: &str, f: &mut dyn FnMut() -> anyhow::Result<Tensor>| stage(dev, name, f);
    let (cap, te_s) = if a.quick {
        (p.text_encoder()?.encode(&ids)?, 0.0)
    } else {
        let (cap, s) = stage("text_encoder", &mut || {
            Ok(p.text_encoder()?.encode(&ids)?)
        })?;
        stage("vae_encode", &mut || Ok(p.vae().encode(&image)?.mean))?;
        (cap, s)
    };
    let lat = Tensor::randn(
        0f32,
        1.0,
        (16, size.1 as usize / 8, size.0 as usize / 8),
        dev,
    )?;
    let sched = Schedule::new(p.scheduler_config(), a.steps);
    let t = Schedule::model_t(sched.timesteps[a.steps / 2]);
    let caption = p.transformer().caption(&cap)?;
    let (_, step_s) = stage("dit_step", &mut || {
        Ok(p.transformer().forward(&lat, t, &caption)?)
    })?;
    if dev.is_cuda() && !device::tf32_requested() && !a.quick {
        // The same step with the attention's f32 products on TF32 (ZEDIT_CUDA_TF32=1), then
        // back to the default for the edits.
        device::set_tf32(true);
        stage("dit_step_tf32", &mut || {
            Ok(p.transformer().forward(&lat, t, &caption)?)
        })?;
        device::set_tf32(false);
    }
    if !a.quick {
        let z = lat.unsqueeze(0)?;
        stage("vae_decode", &mut || Ok(p.vae().decode(&z)?))?;
    }
    let cfg = p.transformer().config().clone();
    let tokens = (size.0 as usize / 16) * (size.1 as usize / 16);
    let flops = flops_per_call(&cfg, tokens, cap.dim(0)?);
    let floor = flops / (a.peak_tflops * 1e12);
    println!(
        "  zedit DiT step: {:.1} TFLOP, {:.0} TFLOP/s achieved, {:.2}x the {:.1} ms floor at {} TFLOP/s",
        flops / 1e12,
        flops / step_s / 1e12,
        step_s / floor,
        floor * 1000.0,
        a.peak_tflops
    );

    // End to end through Pipeline::run: once to warm up, once timed. The prompt's caption
    // features are cached by then, as in a session's later edits.
    let mut out = None;
    let labels: &[&str] = if a.quick {
        &["timed"]
    } else {
        &["warm-up", "timed"]
    };
    for &label in labels {
        let (o, s) = mark(dev, &format!("edit_{label}"), || {
            timed(dev, || Ok(p.run(&job, &mut |_| Flow::Continue)?))
        })?;
        println!("zedit {label} edit (prompt cached): {s:.3}s");
        if label == "timed" {
            println!(
                "zedit seconds per edit: {s:.3} (with prompt encoding {:.3})",
                s + te_s
            );
        }
        out = Some(o);
    }
    if dev.is_cuda() && !a.quick && !device::keep_pool_requested() {
        // The same edit with freed memory kept in the device pool (ZEDIT_CUDA_KEEP_POOL=1)
        // instead of handed back at each synchronization: one edit grows the pool, one is timed.
        device::keep_pool_memory(dev)?;
        p.run(&job, &mut |_| Flow::Continue)?;
        let (_, s) = mark(dev, "edit_pool_kept", || {
            timed(dev, || Ok(p.run(&job, &mut |_| Flow::Continue)?))
        })?;
        println!("zedit timed edit with the pool kept (ZEDIT_CUDA_KEEP_POOL=1): {s:.3}s");
    }
    if let (Some(o), Some(path)) = (out, &a.out) {
        save_decoded(&o.decoded, path)?;
    }
    Ok(())
}

/// The tensors of `DIR/inputs.safetensors` by name (the GPU check's draws).
pub type Draws = HashMap<String, Tensor>;

/// `DIR/inputs.safetensors` and its `pixels` as the pipeline's image tensor at the model size.
pub fn input_image(dir: &Path, dev: &Device) -> anyhow::Result<(Draws, Tensor, (u32, u32))> {
    let inputs = candle_core::safetensors::load(dir.join("inputs.safetensors"), &Device::Cpu)?;
    let px = inputs
        .get("pixels")
        .ok_or_else(|| anyhow::anyhow!("inputs.safetensors has no tensor pixels"))?;
    let (_, _, h, w) = px.dims4()?;
    let hwc: Vec<u8> = px
        .squeeze(0)?
        .permute((1, 2, 0))?
        .flatten_all()?
        .to_vec1()?;
    let img = image::RgbImage::from_raw(w as u32, h as u32, hwc)
        .ok_or_else(|| anyhow::anyhow!("pixels tensor has the wrong size"))?;
    let size = imageio::model_size(img.width(), img.height())?;
    let image = imageio::image_tensor(&img, size, dev)?;
    Ok((inputs, image, size))
}

/// One stage: a warm-up call, then a timed one between `STAGE` markers.
pub fn stage(
    dev: &Device,
    name: &str,
    f: &mut dyn FnMut() -> anyhow::Result<Tensor>,
) -> anyhow::Result<(Tensor, f64)> {
    f()?;
    let (t, s) = mark(dev, name, || timed(dev, &mut *f))?;
    println!("  zedit {name:14} {:8.1} ms", s * 1000.0);
    Ok((t, s))
}

/// Writes a decoded image ([1, 3, H, W] in about [−1, 1]) as the `image` tensor of `path`.
pub fn save_decoded(decoded: &Tensor, path: &str) -> anyhow::Result<()> {
    let img = pipeline::unit_image(decoded)?.unsqueeze(0)?;
    candle_core::safetensors::save(&[("image", img)].into_iter().collect(), path)?;
    println!("decoded image written to {path}");
    Ok(())
}
