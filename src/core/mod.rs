//! Domain types shared by every layer: ops, regions, masks, edit parameters, recipes, steps and
//! their errors. No I/O, no async.

mod error;
mod mask;
mod op;
mod params;
mod recipe;
mod region;
mod step;

pub use error::{ErrorKind, StepError};
pub use mask::{
    Grounder, MaskPoint, MaskShape, MaskSpec, Score, Segmenter, DEFAULT_MIN_IOU,
    DEFAULT_MIN_STABILITY,
};
pub use op::{Op, ParseOpError};
pub use params::EditParams;
pub use recipe::{FlowEditParams, LoraRef, MaskSource, Mode, Recipe, RecipeError};
pub use region::{ParseRegionError, Rect, Region};
pub use step::{EngineId, ImageRef, Status, Step, StepId};

/// The zedit version recorded in every step and session.
pub const ZEDIT_VERSION: &str = env!("CARGO_PKG_VERSION");
