#!/usr/bin/env bash
# Full-size Z-Image Turbo speed on one NVIDIA GPU, side by side with diffusers, with random
# weights (no download): DiT dim 3840, 30 layers + 2 refiners, 30 heads of 128, Qwen3-4B, Flux
# VAE; 1024x1024, 8 steps, bf16. Budget: < 1.0 s per edit on one H100/H200.
#
# Where a Rust toolchain and CUDA are at hand this builds the binary first; for the GPU test
# machine (no toolchain, no network) build it beforehand with scripts/build_gpu.sh and send
# gpu-bundle/ along. Either way the check itself is scripts/gpu_check.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f gpu-bundle/zimage_speed.tar.xz ] && [ -z "${ZEDIT_GPU_BIN:-}" ]; then
  cargo build --release --features cuda --example zimage_speed
  export ZEDIT_GPU_BIN="${CARGO_TARGET_DIR:-target}/release/examples/zimage_speed"
fi
exec scripts/gpu_check.sh
