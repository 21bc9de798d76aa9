//! `--model DIR --vae-only` mode: the VAE alone, loaded from the folder, encoding the input
//! image of `DIR/inputs.safetensors` and decoding the posterior mean, each stage timed after a
//! warm-up. The GPU check runs it with the default build (candle's im2col + GEMM convolutions)
//! and with `--features cudnn`, and compares the timings and the two round-trip images.

use super::model::{input_image, save_decoded, stage};
use super::{mark, timed, Args};
use candle_core::{DType, Device};
use std::path::Path;
use zedit::engine::zimage::config::{self, VaeConfig};
use zedit::engine::zimage::vae::Vae;
use zedit::engine::zimage::weights::Weights;

pub fn run(a: &Args, dir: &Path, dev: &Device, dtype: DType) -> anyhow::Result<()> {
    let convs = if cfg!(feature = "cudnn") && dev.is_cuda() {
        "cuDNN"
    } else {
        "im2col + GEMM"
    };
    println!("VAE only, convolutions by {convs}");
    let cfg: VaeConfig = config::read(dir, "vae")?;
    let (vae, load_s) = mark(dev, "load_vae", || {
        timed(dev, || {
            Ok(Vae::load(
                &Weights::open(&dir.join("vae"), dev, dtype)?,
                &cfg,
                true,
            )?)
        })
    })?;
    println!("VAE loaded in {load_s:.1}s");
    let (_, image, size) = input_image(dir, dev)?;
    println!("image {}x{}", size.0, size.1);
    let (mean, enc_s) = stage(dev, "vae_encode", &mut || Ok(vae.encode(&image)?.mean))?;
    let (decoded, dec_s) = stage(dev, "vae_decode", &mut || Ok(vae.decode(&mean)?))?;
    println!(
        "zedit VAE ({convs}): encode {:.1} ms + decode {:.1} ms = {:.1} ms",
        enc_s * 1e3,
        dec_s * 1e3,
        (enc_s + dec_s) * 1e3
    );
    if let Some(path) = &a.out {
        save_decoded(&decoded, path)?;
    }
    Ok(())
}
