//! Runs the classic delete op on one image: `inpaint IN.png MASK.png OUT.png [SEED]`.
//! Prints the time the op took, for comparisons with other inpainting tools.

use std::time::Instant;
use zedit::core::{EditParams, Op};
use zedit::engine::classic::ClassicEngine;
use zedit::engine::{EditRequest, Engine, Flow};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        return Err("usage: inpaint IN.png MASK.png OUT.png [SEED]".into());
    }
    let image = image::open(&args[0])
        .map_err(|e| format!("{}: {e}", args[0]))?
        .to_rgb8();
    let mask = image::open(&args[1])
        .map_err(|e| format!("{}: {e}", args[1]))?
        .to_luma8();
    let seed = match args.get(3) {
        Some(s) => s.parse().map_err(|e| format!("seed '{s}': {e}"))?,
        None => 0,
    };
    let req = EditRequest {
        op: Op::Delete,
        instruction: "delete".into(),
        image,
        mask: Some(mask),
        overlay: None,
        params: EditParams {
            seed,
            ..Default::default()
        },
        recipe: None,
    };
    let start = Instant::now();
    let out = ClassicEngine::new().run(&req, &mut |_| Flow::Continue)?;
    eprintln!("inpaint took {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
    out.save(&args[2])
        .map_err(|e| format!("{}: {e}", args[2]))?;
    Ok(())
}
