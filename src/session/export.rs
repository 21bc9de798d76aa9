//! Export: a PNG whose text chunks carry the instruction and parameters of every step that led
//! to it, so the image documents its own history.

use super::{write_atomic, Session, SessionError};
use crate::core::StepId;
use std::path::Path;

/// Writes the image of step `id` (head when `None`) to `out`, with the chain in iTXt chunks:
/// `zedit:chain` (JSON of every step) and one `zedit:step:N` line per step.
pub fn export_png(session: &Session, id: Option<StepId>, out: &Path) -> Result<(), SessionError> {
    let id = id.or(session.doc.head);
    let (image_ref, chain) = match id {
        None => (&session.doc.source, Vec::new()),
        Some(id) => {
            let step = session.doc.step(id).ok_or_else(|| {
                SessionError::Invalid(format!("step {id} does not exist in '{}'", session.name()))
            })?;
            let output = step.output.as_ref().ok_or_else(|| {
                SessionError::Invalid(format!("step {id} is {} and has no image", step.status))
            })?;
            (output, session.doc.chain_to(Some(id)))
        }
    };
    let image = session.load_image(image_ref)?.to_rgba8();
    let encode_err =
        |e: png::EncodingError| SessionError::Invalid(format!("cannot encode PNG: {e}"));
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, image.width(), image.height());
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.add_itxt_chunk(
            "Software".into(),
            format!("zedit {}", crate::core::ZEDIT_VERSION),
        )
        .map_err(encode_err)?;
        enc.add_itxt_chunk("zedit:session".into(), session.name().to_string())
            .map_err(encode_err)?;
        let json = serde_json::to_string(&chain)
            .map_err(|e| SessionError::Invalid(format!("cannot describe the chain: {e}")))?;
        enc.add_itxt_chunk("zedit:chain".into(), json)
            .map_err(encode_err)?;
        for s in &chain {
            let line = format!(
                "{} \"{}\" engine={} strength={} steps={} cfg={} seed={}",
                s.op,
                s.instruction,
                s.engine,
                s.params.strength,
                s.params.steps,
                s.params.cfg,
                s.params.seed
            );
            enc.add_itxt_chunk(format!("zedit:step:{}", s.id), line)
                .map_err(encode_err)?;
        }
        let mut writer = enc.write_header().map_err(encode_err)?;
        writer
            .write_image_data(image.as_raw())
            .map_err(encode_err)?;
    }
    write_atomic(out, &bytes)
}
