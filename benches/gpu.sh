#!/usr/bin/env bash
# Full-size Z-Image Turbo speed on one NVIDIA GPU, with random weights (no download needed):
# DiT dim 3840, 30 layers + 2 refiners, 30 heads of 128, axes [32,48,48], caption 2560,
# FFN 10240, adaLN 256; Qwen3-4B text encoder; Flux VAE. 1024x1024, 8 steps, bf16.
# Prints seconds per stage, seconds per edit, and the DiT's achieved TFLOP/s
# (about 57 TFLOP per step at 1024x1024). Budget: < 1.0 s per edit on one H100.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${SIZE:-1024}"
STEPS="${STEPS:-8}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
cargo build --release --features cuda --example zimage_speed
BIN="${CARGO_TARGET_DIR:-target}/release/examples/zimage_speed"
"$BIN" --device cuda --size "$SIZE" --steps "$STEPS" --dit-only
"$BIN" --device cuda --size "$SIZE" --steps "$STEPS"
