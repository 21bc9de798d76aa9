//! `zedit edit`: plan the instruction (unless told the op), then run and record each step.

use super::edit_inputs::{import_overlay, mask_spec};
use super::edit_plan::{plan_steps, recipe_for};
use super::{absolute, Ctx};
use crate::core::{EditParams, MaskShape, MaskSource, Mode, Op, Rect, Region, Status, Step};
use crate::engine::{EngineOptions, QuantMode};
use crate::session::{Session, StepRequest};
use crate::worker::{default_factory, Client, ClientOptions, Job, LocalRunner};
use anyhow::bail;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct EditArgs {
    /// Session name, or path to a session folder
    pub session: String,
    /// What to change, in Chinese or English
    pub instruction: String,
    /// Run one step of this op instead of planning: delete, add, replace, recolor, relight,
    /// restyle, edit
    #[arg(long)]
    pub op: Option<Op>,
    /// Send the instruction as one step without planning (op inferred as `edit` unless --op)
    #[arg(long)]
    pub no_plan: bool,
    /// Denoise strength in [0, 1] (default: the plan's suggestion, else 0.6)
    #[arg(long)]
    pub strength: Option<f32>,
    /// Denoising steps
    #[arg(long, default_value_t = 8)]
    pub steps: u32,
    /// Guidance scale (0 disables classifier-free guidance)
    #[arg(long, default_value_t = 0.0)]
    pub cfg: f32,
    /// Seed (default: a fresh one, recorded in the step)
    #[arg(long)]
    pub seed: Option<u64>,
    /// Mask image: white marks what to change; must have the image's size
    #[arg(long, conflicts_with_all = ["mask_rect", "mask_ellipse"])]
    pub mask: Option<PathBuf>,
    /// Mask found by Segment Anything from points (--point, --neg) and a box (--box)
    #[command(flatten)]
    pub sam_prompt: super::segment::PromptArgs,
    /// Segmentation model for --point/--neg/--box and words (default: mobile-sam)
    #[arg(long, value_name = "M")]
    pub sam_model: Option<String>,
    /// Mask found from words naming what to change ("杯子", "the cup on the right"), by
    /// Segment Anything's automatic masks scored with Chinese-CLIP (`--text` is add's caption)
    #[arg(long, value_name = "WORDS", conflicts_with_all = ["mask", "mask_rect", "mask_ellipse", "mask_from"])]
    pub mask_text: Option<String>,
    /// `target`: each planned step's mask found from its own target words and position
    #[arg(long, value_name = "target", value_parser = ["target"], conflicts_with_all = ["mask", "mask_rect", "mask_ellipse"])]
    pub mask_from: Option<String>,
    #[command(flatten)]
    pub words: super::segment_text::WordsArgs,
    /// Limit the change to this rectangle, x,y,w,h in pixels
    #[arg(long, value_name = "X,Y,W,H", value_parser = super::edit_inputs::parse_rect, conflicts_with = "mask_ellipse")]
    pub mask_rect: Option<Rect>,
    /// Limit the change to the ellipse inside this rectangle, x,y,w,h in pixels
    #[arg(long, value_name = "X,Y,W,H", value_parser = super::edit_inputs::parse_rect)]
    pub mask_ellipse: Option<Rect>,
    /// Where, by op: relight, where the light comes from (a side, a corner, or x,y,w,h for a
    /// window); add, where to place; delete and recolor, the part of the frame to change (a
    /// soft-edged mask). left, right, top, bottom, center, top-left, top-right, bottom-left,
    /// bottom-right, background, or x,y,w,h
    #[arg(long)]
    pub region: Option<Region>,
    /// Pixels to grow the mask by
    #[arg(long, default_value_t = 0)]
    pub grow: u32,
    /// Pixels of soft edge on the mask
    #[arg(long, default_value_t = 0)]
    pub feather: u32,
    /// Engine: classic (built in) or zimage
    #[arg(long, env = "ZEDIT_ENGINE", default_value = "classic")]
    pub engine: String,
    /// Model folder or name, for generative engines
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Device for generative engines: cpu, cuda, cuda:N, metal
    #[arg(long)]
    pub device: Option<String>,
    /// How a GGUF model's quantized weights run: qmatmul (quantized matmul) or dequant
    /// (dequantized just before use); default: $ZEDIT_GGUF_EXEC, else qmatmul
    #[arg(long, value_name = "qmatmul|dequant", value_parser = QuantMode::parse_arg)]
    pub gguf_exec: Option<QuantMode>,
    /// LoRA for the zimage engine, FILE or FILE:WEIGHT (weight 1 by default); repeatable
    #[arg(long, value_name = "FILE[:WEIGHT]", value_parser = super::lora::parse)]
    pub lora: Vec<super::lora::LoraArg>,
    /// Amount for classic ops (relight: stops of exposure), overriding the instruction's words
    #[arg(long, allow_negative_numbers = true)]
    pub amount: Option<f32>,
    /// Colour name for recolor or for text (深棕色, navy, light grey...)
    #[arg(long)]
    pub color: Option<String>,
    /// Text to add
    #[arg(long)]
    pub text: Option<String>,
    /// Text size in pixels
    #[arg(long)]
    pub size: Option<f32>,
    /// Image to composite for add (with alpha)
    #[arg(long)]
    pub overlay: Option<PathBuf>,
    /// Position x,y in pixels for add
    #[arg(long, value_parser = super::edit_inputs::parse_point)]
    pub at: Option<(i32, i32)>,
    /// Scale for the overlay image
    #[arg(long)]
    pub scale: Option<f32>,
    /// Prompt for a generative engine, instead of the one derived from the instruction (what
    /// the picture should show; FlowEdit's target)
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,
    /// FlowEdit's source prompt (what the picture shows now), instead of the derived one
    #[arg(long, value_name = "TEXT")]
    pub source_prompt: Option<String>,
    /// Negative prompt, used when guidance is on
    #[arg(long, value_name = "TEXT")]
    pub negative_prompt: Option<String>,
    /// Recipe mode instead of the derived one: img2img, inpaint, flowedit,
    /// classic_prefill_inpaint
    #[arg(long, value_parser = super::edit_inputs::parse_mode)]
    pub mode: Option<Mode>,
    /// FlowEdit: how many of the last steps run (default: as img2img's strength would)
    #[arg(long)]
    pub n_max: Option<u32>,
    /// FlowEdit: how many of those are plain sampling under the target prompt
    #[arg(long)]
    pub n_min: Option<u32>,
    /// FlowEdit: noise draws averaged per step
    #[arg(long)]
    pub n_avg: Option<u32>,
    /// FlowEdit: guidance of the source velocity (0: off)
    #[arg(long)]
    pub source_guidance: Option<f32>,
    /// FlowEdit: guidance of the target velocity (0: off)
    #[arg(long)]
    pub target_guidance: Option<f32>,
    /// Print the recorded steps as JSON
    #[arg(long)]
    pub json: bool,
    /// Run the engine in this process instead of through the worker
    #[arg(long)]
    pub local: bool,
    /// Worker socket (default: $XDG_RUNTIME_DIR/zedit/worker.sock)
    #[arg(long, env = "ZEDIT_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

/// Where steps run: the in-process runner, or the persistent worker (the default).
enum Backend {
    Local(LocalRunner),
    Worker(Box<Client>, ClientOptions),
}

pub fn run(args: EditArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    // Absolute, because the worker may run in another folder.
    let dir = absolute(&ctx.session_dir(&args.session)?);
    if args.instruction.trim().is_empty() {
        bail!("the instruction is empty: say what to change");
    }
    let planned = plan_steps(&args)?;
    let overrides = args.prompt.is_some() || args.source_prompt.is_some() || args.mode.is_some();
    if overrides && planned.len() > 1 {
        bail!(
            "--prompt, --source-prompt and --mode set one step's recipe, but the instruction plans \
             {} steps: run them one at a time with --op, or use --no-plan",
            planned.len()
        );
    }
    let session = Session::load(&dir)?;
    let mask = mask_spec(&args, &session)?;
    let overlay = args
        .overlay
        .as_deref()
        .map(|o| import_overlay(&session, o))
        .transpose()?;
    let seed = args.seed.unwrap_or_else(fresh_seed);
    let generative = args.engine != "classic" && !args.engine.is_empty();
    if !args.lora.is_empty() && !generative {
        bail!("--lora applies to the zimage engine: add --engine zimage");
    }
    let loras = super::lora::resolve(&args.lora, args.model.as_deref())?;
    let mut requests = Vec::new();
    for p in planned {
        let mask = match &args.mask_from {
            Some(_) => Some(super::edit_inputs::target_mask_spec(&args, &p.step)?),
            None => mask.clone(),
        };
        let mut params = EditParams {
            strength: args.strength.unwrap_or(p.step.strength),
            steps: args.steps,
            cfg: args.cfg,
            seed,
            amount: args.amount,
            region: args.region.or(p.step.region),
            // With a mask, grow and feather are the mask's own; else the region's.
            grow: if mask.is_none() { args.grow } else { 0 },
            feather: if mask.is_none() { args.feather } else { 0 },
            color: args.color.clone(),
            text: args.text.clone(),
            size: args.size,
            at: args.at,
            scale: args.scale,
            flowedit: None,
        };
        let recipe = if generative {
            let source = if let Some(m) = &mask {
                match m.shape {
                    MaskShape::File { .. } => MaskSource::File,
                    MaskShape::Text { .. } => MaskSource::Words,
                    _ => MaskSource::Drawn,
                }
            } else if args.region.is_some() {
                MaskSource::Words
            } else {
                MaskSource::None
            };
            let mut recipe = recipe_for(&args, &p, source, &mut params)?;
            recipe.loras = loras.clone();
            Some(recipe)
        } else {
            None
        };
        requests.push((p.step, params, recipe, mask));
    }
    if requests.len() > 1 {
        eprintln!("planned {} steps:", requests.len());
        for (i, (s, _, r, _)) in requests.iter().enumerate() {
            let told = r
                .as_ref()
                .map(|r| {
                    format!(
                        " -> {} \"{}\"",
                        r.mode,
                        crate::printable::printable(&r.prompt)
                    )
                })
                .unwrap_or_default();
            let text = crate::printable::printable(&s.instruction);
            eprintln!("  {}. {} \"{text}\"{told}", i + 1, s.op);
        }
    }
    let opts = EngineOptions {
        name: args.engine.clone(),
        model: args.model.clone(),
        device: args.device.clone(),
        gguf_exec: args.gguf_exec,
    };
    let mut backend = if args.local {
        Backend::Local(LocalRunner::start(default_factory(), opts.clone(), None)?)
    } else {
        let reach = super::worker::client_options(args.socket.as_deref());
        Backend::Worker(Box::new(Client::connect_or_start(&reach)?), reach)
    };
    let mut parent = session.doc.head;
    let mut done = Vec::new();
    for (p, params, recipe, mask) in requests {
        let req = StepRequest {
            parent,
            op: p.op,
            instruction: p.instruction,
            params,
            mask_spec: mask,
            mask: None,
            overlay: overlay.clone(),
            recipe,
        };
        let step = match &mut backend {
            Backend::Local(runner) => {
                let job = Job {
                    session_dir: dir.clone(),
                    request: req,
                    engine: opts.name.clone(),
                    model: opts.model.clone(),
                    device: opts.device.clone(),
                    gguf_exec: opts.gguf_exec,
                };
                let (id, _, events) = runner.submit(job)?;
                LocalRunner::wait_step(&events, id, &dir, &mut |_| {})?
            }
            Backend::Worker(client, reach) => {
                super::worker::run_step(client, &dir, &req, &opts, reach)?
            }
        };
        report_step(&dir, &step, args.json)?;
        if step.status != Status::Done {
            let why = step
                .error
                .as_ref()
                .map_or_else(|| step.status.to_string(), |e| e.to_string());
            bail!(
                "step {} ({} \"{}\") {}: {why}",
                step.id,
                step.op,
                step.instruction,
                step.status
            );
        }
        parent = Some(step.id);
        done.push(step);
    }
    Ok(ExitCode::SUCCESS)
}

fn report_step(dir: &Path, step: &Step, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(step)?);
    } else if let Some(out) = &step.output {
        let path = absolute(&dir.join(&out.path)).display().to_string();
        println!("{}", crate::printable::printable(&path));
    }
    Ok(())
}

fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    (nanos ^ (u64::from(std::process::id()) << 32)) % 1_000_000_000
}
