//! `zedit segment`: a mask found by Segment Anything from clicks and a box on the session's
//! head image, stored in the session (every candidate, content-addressed); the chosen one's
//! path is the last line of stdout (words: `segment_text`). Also the `--point/--neg/--box` mask
//! spec of `zedit edit`.

use super::Ctx;
use crate::core::{MaskPoint, MaskShape, MaskSpec, Rect};
use crate::segment::PromptSpec;
use crate::session::Session;
use anyhow::bail;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SegmentArgs {
    /// Session name, or path to a session folder
    pub session: String,
    #[command(flatten)]
    pub prompt: PromptArgs,
    /// Segmentation model: mobile-sam (default), sam-vit-b, a .safetensors file, or a folder
    /// with model.safetensors (and config.json)
    #[arg(long, value_name = "M")]
    pub model: Option<String>,
    /// Words naming what to mask, in Chinese or English ("杯子", "the cup on the right"):
    /// Segment Anything's automatic masks scored against them by Chinese-CLIP
    #[arg(long, value_name = "WORDS")]
    pub text: Option<String>,
    #[command(flatten)]
    pub words: super::segment_text::WordsArgs,
    /// Which candidate to take: 0 is the best (by predicted IoU; for --text by score)
    #[arg(long, default_value_t = 0)]
    pub candidate: u32,
    /// Print the candidates and their scores as JSON (one line) before the mask's path
    #[arg(long)]
    pub json: bool,
}

/// Clicks and a box, in the head image's pixels.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PromptArgs {
    /// A point on the object, x,y in pixels (repeat for more)
    #[arg(long = "point", value_name = "X,Y", value_parser = parse_xy)]
    pub points: Vec<(u32, u32)>,
    /// A point that is not part of the object, x,y in pixels (repeat for more)
    #[arg(long = "neg", value_name = "X,Y", value_parser = parse_xy)]
    pub negs: Vec<(u32, u32)>,
    /// A box around the object, x,y,w,h in pixels
    #[arg(long = "box", value_name = "X,Y,W,H", value_parser = parse_box)]
    pub bbox: Option<Rect>,
}

impl PromptArgs {
    pub fn is_empty(&self) -> bool {
        self.points.is_empty() && self.negs.is_empty() && self.bbox.is_none()
    }

    pub fn spec(&self) -> PromptSpec {
        let pos = self.points.iter().map(|&(x, y)| MaskPoint {
            x,
            y,
            positive: true,
        });
        let neg = self.negs.iter().map(|&(x, y)| MaskPoint {
            x,
            y,
            positive: false,
        });
        PromptSpec {
            points: pos.chain(neg).collect(),
            bbox: self.bbox,
        }
    }
}

fn parse_xy(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("'{s}' is not a point: use x,y in whole pixels from the top-left");
    let (x, y) = s.split_once(',').ok_or_else(bad)?;
    Ok((
        x.trim().parse().map_err(|_| bad())?,
        y.trim().parse().map_err(|_| bad())?,
    ))
}

fn parse_box(s: &str) -> Result<Rect, String> {
    let bad = || format!("'{s}' is not a box: use x,y,w,h in whole pixels");
    let v: Vec<u32> = s
        .split(',')
        .map(|p| p.trim().parse::<u32>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    match v[..] {
        [x, y, w, h] => Ok(Rect { x, y, w, h }),
        _ => Err(bad()),
    }
}

/// The mask spec of a prompt for an image of `size`, with the model that will resolve it
/// (resolved now, so the step records its id and digest).
pub fn prompt_mask_spec(
    prompt: &PromptArgs,
    model: Option<&str>,
    size: (u32, u32),
    grow: u32,
    feather: u32,
) -> anyhow::Result<MaskSpec> {
    let spec = prompt.spec();
    spec.check(size)?;
    let segmenter = Some(segmenter_for(model, size)?);
    let shape = MaskShape::prompt(spec.points, spec.bbox, segmenter);
    Ok(MaskSpec {
        shape,
        grow,
        feather,
    })
}

#[cfg(feature = "sam")]
fn segmenter_for(model: Option<&str>, size: (u32, u32)) -> anyhow::Result<crate::core::Segmenter> {
    let r = crate::segment::models::resolve(model)?;
    Ok(crate::core::Segmenter {
        digest: crate::segment::models::digest(&r.weights)?,
        model: r.id,
        candidate: 0,
        width: size.0,
        height: size.1,
    })
}

#[cfg(not(feature = "sam"))]
fn segmenter_for(_: Option<&str>, _: (u32, u32)) -> anyhow::Result<crate::core::Segmenter> {
    bail!("this zedit is built without segmentation: rebuild with `--features sam`")
}

pub fn run(args: SegmentArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let session = Session::load(&ctx.session_dir(&args.session)?)?;
    let image = session.load_image(session.doc.head_image())?.to_rgb8();
    if let Some(words) = &args.text {
        if !args.prompt.is_empty() {
            bail!("--text finds the mask from words; it cannot be combined with --point, --neg or --box");
        }
        let models = args.words.models(args.model.as_deref());
        return super::segment_text::run(
            &session,
            &image,
            words,
            &models,
            args.candidate,
            args.json,
        );
    }
    let prompt = args.prompt.spec();
    // Refused before any model loads, and before anything is written.
    prompt.check(image.dimensions())?;
    segment_and_store(&args, &session, &image, &prompt)
}

#[cfg(feature = "sam")]
fn segment_and_store(
    args: &SegmentArgs,
    session: &Session,
    image: &image::RgbImage,
    prompt: &PromptSpec,
) -> anyhow::Result<ExitCode> {
    use super::absolute;
    use crate::printable::printable;
    use crate::segment::SegmentModel;
    let model = SegmentModel::open(args.model.as_deref())?;
    let found = model.segment_image(image, prompt)?;
    let n = found.candidates.len();
    if args.candidate as usize >= n {
        bail!(
            "--candidate {} is out of range: the model gives {n} candidates (0 to {})",
            args.candidate,
            n.saturating_sub(1)
        );
    }
    // Every candidate is stored (write-once, content-addressed), so another is one flag away.
    let mut stored = Vec::with_capacity(n);
    for c in &found.candidates {
        let r = session.put_image(&image::DynamicImage::ImageLuma8(c.mask.clone()))?;
        stored.push(r);
    }
    let path = |i: usize| {
        absolute(&session.dir().join(&stored[i].path))
            .display()
            .to_string()
    };
    if args.json {
        let (w, h) = image.dimensions();
        let candidates: Vec<serde_json::Value> = found
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| {
                serde_json::json!({
                    "rank": i,
                    "token": c.token,
                    "iou": c.iou,
                    "area": c.area,
                    "mask": path(i),
                    "blake3": stored[i].blake3,
                })
            })
            .collect();
        let out = serde_json::json!({
            "model": model.id,
            "digest": model.digest,
            "width": w,
            "height": h,
            "chosen": args.candidate,
            "candidates": candidates,
        });
        println!("{out}");
    }
    println!("{}", printable(&path(args.candidate as usize)));
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "sam"))]
fn segment_and_store(
    _: &SegmentArgs,
    _: &Session,
    _: &image::RgbImage,
    _: &PromptSpec,
) -> anyhow::Result<ExitCode> {
    bail!("this zedit is built without segmentation: rebuild with `--features sam`")
}
