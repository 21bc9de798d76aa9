#!/usr/bin/env bash
# Builds the CUDA (sm_90, CUDA 13.0) zimage_speed benchmark on a machine without a CUDA toolkit
# or GPU, for a GPU machine without a Rust toolchain or network. Everything it needs to compile
# comes from PyPI: NVIDIA's nvcc / nvvm / crt / runtime / cccl / nvrtc / cublas / curand wheels,
# pinned to CUDA 13.0 so that the PTX it embeds loads on any CUDA 13 driver. The driver library
# is replaced at link time by a generated stub; at run time the binary uses the GPU machine's own
# libcuda, libcublas(Lt), libcurand and libnvrtc.
#
# Output: gpu-bundle/ (git-ignored, about 9 MiB): the stripped zimage_speed binary (xz) and the
# diffusers wheel's files (tar.xz) for the side-by-side run. Carry it with the working tree (the
# two share 64 MiB) and run `scripts/gpu_check.sh` there.
#
#   scripts/build_gpu.sh [--toolkit-only]   # env: PYTHON (a python with pip), CARGO_TARGET_DIR,
#                                           #      ZEDIT_CUDA_TOOLKIT (where the toolkit is assembled)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PYTHON="${PYTHON:-python3}"
TK="${ZEDIT_CUDA_TOOLKIT:-$ROOT/target/cuda-13.0}"
BUNDLE="$ROOT/gpu-bundle"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

WHEELS=(
  nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88
  nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85 nvidia-cuda-nvrtc==13.0.88
  nvidia-cublas==13.0.2.14 nvidia-curand==10.4.0.35
)

if [ ! -x "$TK/bin/nvcc" ]; then
  echo "== installing the CUDA 13.0 compiler and headers from PyPI into $TK"
  rm -rf "$TK.wheels" "$TK"
  "$PYTHON" -m pip install --quiet --no-deps --target "$TK.wheels" "${WHEELS[@]}"
  mkdir -p "$TK/lib64/stubs"
  # The wheels share one nvidia/cu13 tree: bin, nvvm, include, lib.
  cp -a "$TK.wheels/nvidia/cu13/." "$TK/"
  rm -rf "$TK.wheels"
  for so in "$TK"/lib/*.so.*; do
    base="$(basename "$so")"
    ln -sf "../lib/$base" "$TK/lib64/$base"
    ln -sf "../lib/$base" "$TK/lib64/${base%%.so.*}.so"
  done
  echo "== generating the libcuda link stub from cuda.h"
  gcc -E -P -I"$TK/include" -x c "$TK/include/cuda.h" -o "$TK/cuda.i"
  "$PYTHON" - "$TK/cuda.i" "$TK/cuda_stub.c" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
names = sorted(set(re.findall(r"\b(cu[A-Z]\w*)\s*\(", text)))
with open(sys.argv[2], "w") as f:
    f.write("/* link-time stand-in for libcuda.so.1; never loaded */\n")
    for n in names:
        f.write(f"int {n}(void) {{ return 999; }}\n")
print(f"{len(names)} driver entry points")
EOF
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$TK/lib64/stubs/libcuda.so" "$TK/cuda_stub.c"
fi

if [ "${1:-}" = "--toolkit-only" ]; then
  echo "toolkit ready in $TK"
  exit 0
fi

export PATH="$TK/bin:$PATH"
export CUDA_HOME="$TK" CUDA_PATH="$TK" CUDARC_CUDA_VERSION=13000 CUDA_COMPUTE_CAP=90
export LIBRARY_PATH="$TK/lib64:$TK/lib64/stubs${LIBRARY_PATH:+:$LIBRARY_PATH}"
nvcc --version | tail -2
echo "== cargo build --release --features cuda --example zimage_speed (sm_$CUDA_COMPUTE_CAP)"
cargo build --release --features cuda --example zimage_speed
# The working tree and what travels with it share 64 MiB on the GPU machine, so the bundle is
# compressed: the stripped binary as xz, diffusers' wheel as the xz tar of its files.
mkdir -p "$BUNDLE"
strip -o "$BUNDLE/zimage_speed" "$CARGO_TARGET_DIR/release/examples/zimage_speed"
xz -9e -T2 -f "$BUNDLE/zimage_speed"
if [ ! -e "$BUNDLE/diffusers.tar.xz" ]; then
  rm -rf "$BUNDLE/wheel"
  "$PYTHON" -m pip download --quiet --no-deps --dest "$BUNDLE/wheel" diffusers==0.42.1
  (cd "$BUNDLE/wheel" && unzip -q diffusers-0.42.1-*.whl && rm diffusers-0.42.1-*.whl &&
    tar cf - . | xz -9e -T2 > "$BUNDLE/diffusers.tar.xz")
  rm -rf "$BUNDLE/wheel"
fi
ls -la "$BUNDLE"
du -sh "$BUNDLE"
echo "== done: carry gpu-bundle and run scripts/gpu_check.sh on the GPU machine"
