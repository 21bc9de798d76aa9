//! The inputs of `zedit edit` beyond the instruction: its value parsers (rectangles, points,
//! modes), the mask and overlay files, checked and stored in the session, and the words a
//! step's mask is found from.

use super::edit::EditArgs;
use crate::core::{ImageRef, MaskShape, MaskSpec, Mode, Rect, Region};
use crate::session::{read_image, Session};
use anyhow::{bail, Context};
use std::path::Path;

pub(super) fn parse_rect(s: &str) -> Result<Rect, String> {
    match s.parse::<Region>() {
        Ok(Region::Rect(r)) => Ok(r),
        _ => Err(format!(
            "'{s}' is not a rectangle: use x,y,w,h in pixels (w and h above 0)"
        )),
    }
}

pub(super) fn parse_point(s: &str) -> Result<(i32, i32), String> {
    let bad = || format!("'{s}' is not a position: use x,y in pixels");
    let (x, y) = s.split_once(',').ok_or_else(bad)?;
    Ok((
        x.trim().parse().map_err(|_| bad())?,
        y.trim().parse().map_err(|_| bad())?,
    ))
}

pub(super) fn parse_mode(s: &str) -> Result<Mode, String> {
    serde_json::from_value(serde_json::Value::String(s.trim().to_string())).map_err(|_| {
        format!(
            "unknown mode '{s}': expected img2img, inpaint, flowedit or classic_prefill_inpaint"
        )
    })
}

/// The mask the flags ask for: a file (stored in the session), a rectangle, an ellipse, or
/// points and a box for Segment Anything, or words, with `--grow` and `--feather`.
pub(super) fn mask_spec(args: &EditArgs, session: &Session) -> anyhow::Result<Option<MaskSpec>> {
    if let Some(words) = &args.mask_text {
        if !args.sam_prompt.is_empty() {
            bail!("--mask-text finds the mask from words; it cannot be combined with --point, --neg or --box");
        }
        let region = super::segment_text::region_of(words);
        return super::segment_text::text_mask_spec(
            words,
            region,
            &text_models(args),
            args.grow,
            args.feather,
        )
        .map(Some);
    }
    if args.mask_from.is_some() {
        if !args.sam_prompt.is_empty() {
            bail!("--mask-from target finds each step's mask from its words; it cannot be combined with --point, --neg or --box");
        }
        // Made per step, from each planned step's own target.
        return Ok(None);
    }
    if !args.sam_prompt.is_empty() {
        if args.mask.is_some() || args.mask_rect.is_some() || args.mask_ellipse.is_some() {
            bail!("--point/--neg/--box find a mask; they cannot be combined with --mask, --mask-rect or --mask-ellipse");
        }
        let head = session.load_image(session.doc.head_image())?;
        let size = (head.width(), head.height());
        return super::segment::prompt_mask_spec(
            &args.sam_prompt,
            args.sam_model.as_deref(),
            size,
            args.grow,
            args.feather,
        )
        .map(Some);
    }
    let shape = if let Some(path) = &args.mask {
        MaskShape::File {
            image: import_mask(session, path)?,
        }
    } else if let Some(r) = args.mask_rect {
        MaskShape::rect(r)
    } else if let Some(r) = args.mask_ellipse {
        MaskShape::ellipse(r)
    } else {
        return Ok(None);
    };
    Ok(Some(MaskSpec {
        shape,
        grow: args.grow,
        feather: args.feather,
    }))
}

/// Stores the mask file in the session, after checking it matches the head image's size.
fn import_mask(session: &Session, path: &Path) -> anyhow::Result<ImageRef> {
    let mask = read_image(path)?;
    let head = session.load_image(session.doc.head_image())?;
    if (mask.width(), mask.height()) != (head.width(), head.height()) {
        bail!(
            "{}: the mask is {}x{} but the image is {}x{}; masks must match the image size",
            path.display(),
            mask.width(),
            mask.height(),
            head.width(),
            head.height()
        );
    }
    if !crate::session::is_grey(&mask) {
        // Strength is read from brightness: pure red becomes about 21 %. Say so.
        eprintln!(
            "warning: {}: the mask is in colour; its brightness (luma) is used as the strength \
             (white = full change); save it as greyscale to silence this",
            crate::printable::printable(&path.display().to_string())
        );
    }
    let gray = image::DynamicImage::ImageLuma8(mask.to_luma8());
    Ok(session.put_image(&gray)?)
}

pub(super) fn import_overlay(session: &Session, path: &Path) -> anyhow::Result<ImageRef> {
    let overlay = read_image(path).with_context(|| "cannot read the overlay".to_string())?;
    Ok(session.put_image(&image::DynamicImage::ImageRgba8(overlay.to_rgba8()))?)
}

fn text_models(args: &EditArgs) -> super::segment_text::TextModels<'_> {
    args.words.models(args.sam_model.as_deref())
}

/// `--mask-from target`: the planned step's mask from the words naming what it acts on (its
/// subject as the user described it, else its target) and its position words.
pub(super) fn target_mask_spec(
    args: &EditArgs,
    step: &crate::plan::PlannedStep,
) -> anyhow::Result<MaskSpec> {
    let Some(words) = step.subject.as_ref().or(step.target.as_ref()) else {
        bail!(
            "--mask-from target: the step {} \"{}\" names no target to find in the image; give \
             the words with --mask-text WORDS, or a mask (--mask, --point, --box)",
            step.op,
            crate::printable::printable(&step.instruction)
        );
    };
    let region = step
        .region
        .or_else(|| super::segment_text::region_of(&step.instruction));
    super::segment_text::text_mask_spec(words, region, &text_models(args), args.grow, args.feather)
}
