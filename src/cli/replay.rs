//! `zedit replay`: re-run a chain on its source (optionally verifying every output) or on a
//! batch of other images, continuing past failures.

use super::{absolute, Ctx};
use crate::core::{EngineId, StepId};
use crate::engine::{EngineError, EngineOptions, Flow, QuantMode};
use crate::printable::printable;
use crate::session::replay::{png_bytes, replay_chain, ReplayInput};
use crate::session::{read_image, write_atomic, Session, StepRequest};
use crate::worker::{default_factory, EngineCache};
use anyhow::bail;
use image::DynamicImage;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Session name, or path to a session folder
    pub session: String,
    /// Compare every output with the recorded one; fail on the first difference
    #[arg(long, conflicts_with = "on")]
    pub verify: bool,
    /// Replay up to this step (default: head)
    #[arg(long)]
    pub step: Option<StepId>,
    /// Apply the chain to these images instead of the source
    #[arg(long, num_args = 1.., value_name = "IMG", requires = "out")]
    pub on: Vec<PathBuf>,
    /// Folder for the batch outputs
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Model folder or name, for steps made by generative engines
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Device for generative engines
    #[arg(long)]
    pub device: Option<String>,
    /// How a GGUF model's quantized weights run: qmatmul or dequant (default: the choice
    /// each step recorded, else $ZEDIT_GGUF_EXEC, else qmatmul)
    #[arg(long, value_name = "qmatmul|dequant", value_parser = QuantMode::parse_arg)]
    pub gguf_exec: Option<QuantMode>,
}

/// Runs each step on the shared engine cache, with the same rules as the worker: an engine is
/// loaded once per name, and dropped after a panic or running out of memory.
struct Runner {
    /// Whether outputs are being verified: a re-segmented mask must then equal the recorded one.
    verify: bool,
    /// Masks segmented again during this chain, by step, for `--on` to write beside outputs.
    masks: Vec<(StepId, image::GrayImage)>,
    model: Option<PathBuf>,
    device: Option<String>,
    gguf_exec: Option<QuantMode>,
    engines: EngineCache,
}

impl Runner {
    fn run(&mut self, input: ReplayInput) -> Result<(DynamicImage, EngineId), String> {
        let step = input.step;
        // The step's own execution choice unless the command names one; steps recorded
        // without it run at the current default.
        let opts = self.engines.options(
            &step.engine.name,
            self.model.clone(),
            self.device.clone(),
            self.gguf_exec.or(step.engine.gguf_exec),
        );
        let req = StepRequest {
            parent: step.parent,
            op: step.op,
            instruction: step.instruction.clone(),
            params: step.params.clone(),
            mask_spec: None,
            mask: None,
            overlay: None,
            recipe: step.recipe.clone(),
        };
        let mask = match &step.mask_spec {
            // Points and boxes are segmented again, on this image (scaled to its size).
            Some(spec) if spec.shape.needs_model() => {
                let found = crate::segment::mask_from_spec(spec, &input.image.to_rgb8())
                    .map_err(|e| e.to_string())?;
                if self.verify {
                    let same = input.mask.as_ref().is_some_and(|m| m.to_luma8() == found);
                    if !same {
                        return Err(format!(
                            "the mask segmented again from {} differs from the recorded one",
                            spec
                        ));
                    }
                }
                self.masks.push((step.id, found.clone()));
                Some(DynamicImage::ImageLuma8(found))
            }
            _ => input.mask,
        };
        let edit =
            crate::worker::build_request(&req, &input.image, mask.as_ref(), input.overlay.as_ref())
                .map_err(|e| e.to_string())?;
        let ran = self
            .engines
            .with_engine(
                &opts,
                |engine| {
                    engine
                        .run(&edit, &mut |_| Flow::Continue)
                        .map(|out| (out, engine.id()))
                },
                |r| matches!(r, Err(EngineError::OutOfMemory(_))),
            )
            .map_err(|e| e.to_string())?;
        let (out, id) = ran.map_err(|e| e.to_string())?;
        Ok((DynamicImage::ImageRgb8(out), id))
    }
}

pub fn run(args: ReplayArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let session = Session::load(&ctx.session_dir(&args.session)?)?;
    let mut runner = Runner {
        verify: args.verify,
        masks: Vec::new(),
        model: args.model.clone(),
        device: args.device.clone(),
        gguf_exec: args.gguf_exec,
        engines: EngineCache::new(default_factory(), EngineOptions::default()),
    };
    if args.on.is_empty() {
        let mut run = |input: ReplayInput| runner.run(input);
        let (_, report) = replay_chain(&session, args.step, None, args.verify, &mut run)?;
        for r in &report {
            let verdict = match r.matches {
                Some(true) => "identical",
                _ => "replayed",
            };
            println!("step {}: {verdict} {}", r.id, &r.blake3[..16]);
            for w in &r.warnings {
                eprintln!("warning: step {}: {}", r.id, printable(w));
            }
        }
        let what = if args.verify {
            "all outputs identical"
        } else {
            "done"
        };
        println!(
            "replayed {} steps of '{}': {what}",
            report.len(),
            printable(session.name())
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(out_dir) = args.out.as_ref() else {
        bail!("--on needs --out DIR")
    };
    std::fs::create_dir_all(out_dir).map_err(|e| anyhow::anyhow!("{}: {e}", out_dir.display()))?;
    let (mut done, mut failed) = (0, Vec::new());
    for img in &args.on {
        let result = (|| -> anyhow::Result<PathBuf> {
            let start = read_image(img)?;
            runner.masks.clear();
            let mut run = |input: ReplayInput| runner.run(input);
            let (out, _) = replay_chain(&session, args.step, Some(start), false, &mut run)?;
            let stem = img
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            // The masks found on this image, beside its output: <stem>.mask<step>.png.
            for (id, mask) in runner.masks.drain(..) {
                let m = out_dir.join(format!("{stem}.mask{id}.png"));
                write_atomic(&m, &png_bytes(&DynamicImage::ImageLuma8(mask))?)?;
            }
            let path = out_dir.join(format!("{stem}.png"));
            write_atomic(&path, &png_bytes(&out)?)?;
            Ok(path)
        })();
        match result {
            Ok(path) => {
                done += 1;
                println!("{}", printable(&absolute(&path).display().to_string()));
            }
            Err(e) => failed.push((img.clone(), super::one_line(&e))),
        }
    }
    println!("{done} done, {} failed", failed.len());
    for (img, why) in &failed {
        let img = img.display().to_string();
        println!("  failed: {}: {}", printable(&img), printable(why));
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
