//! Image to terminal previews.
