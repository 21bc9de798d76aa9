//! The zimage engine against its fixtures: golden, GGUF, LoRA, LyCORIS, FlowEdit, errors.
//!
//! Its modules share this one binary (one link, their tests side by side). A test that changes the
//! environment or measures the process belongs in a file of its own instead (see the README).

#[path = "../common/mod.rs"]
mod common;

mod flowedit_golden;
mod zimage_engine;
mod zimage_errors;
mod zimage_gguf;
mod zimage_gguf_cli;
mod zimage_gguf_exec_record;
mod zimage_gguf_text_encoder;
mod zimage_gguf_text_encoder_cli;
mod zimage_gguf_text_encoder_errors;
mod zimage_golden;
mod zimage_lora;
mod zimage_lycoris;
mod zimage_recipes_cli;
mod zimage_resize;
mod zimage_schedule;
