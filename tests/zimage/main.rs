//! The zimage engine against its fixtures: golden, GGUF, LoRA, LyCORIS, FlowEdit and errors, one test binary.
//!
//! Each module was its own test binary; one binary links once and runs its tests side by side.

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
