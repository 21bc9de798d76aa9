#!/usr/bin/env bash
# The whole Z-Image GPU check in one command, on a CUDA 13 machine with Python, torch and
# transformers but no Rust toolchain and no network (about 7-9 minutes on an H200):
#   1. writes a full-size Z-Image Turbo folder with random bf16 weights once (safetensors), plus a
#      seeded input image and noise (scripts/gpu_reference.py make);
#   2. zedit (gpu-bundle/zimage_speed.tar.xz, built by scripts/build_gpu.sh): per-stage ms after
#      warm-up, DiT TFLOP/s and ratio to the FLOP floor, seconds per edit (and once more with freed
#      memory kept in the device pool, ZEDIT_CUDA_KEEP_POOL=1), peak memory per stage (the pool's
#      high watermark and the sampled device total: scripts/gpu_peaks.py);
#   3. diffusers' ZImageImg2ImgPipeline on the same folder with the same draws (from the diffusers
#      wheel's files in gpu-bundle/diffusers.tar.xz when diffusers is not installed): the same figures;
#   4. the bf16 deviation between the two decoded images;
#   5. the VAE alone (encode, decode) with candle's im2col convolutions, with cuDNN's (the
#      --features cudnn binary, libcudnn from the machine's torch wheels; cuDNN's heuristic, then
#      ZEDIT_CUDNN_ALGO=implicit-precomp-gemm) and in diffusers, with each one's peak memory and
#      the deviations between the round-trip images;
#   6. zedit's DiT step and one edit again with its fused CUDA kernels (ZEDIT_CUDA_FUSED=1,
#      their first run on a GPU), with the deviation from diffusers and from the unfused run;
#   7. last, where ncu is installed: one DiT call profiled kernel by kernel (time per kind and
#      the top kernels: scripts/gpu_kernels.py).
# Env: SIZE (1024), STEPS (8), PYTHON (python3), ZEDIT_GPU_WORK (/tmp/zedit-gpu),
# MODEL (/dev/shm/zedit-gpu-model with 40 GB free there, else $WORK/model), FUSED (1; 0
# skips the fused run, under a minute), PROFILE (1; 0 skips the profile, about a minute).
# A rehearsal of the script on a CPU, before spending GPU time: DEVICE=cpu SIZE=64 MODEL=DIR
# ZEDIT_GPU_BIN=target/release/examples/zimage_speed, with DIR a model folder with
# inputs.safetensors: the real widths with 2 layers (ZEDIT_REF_DEVICE=cpu ZEDIT_REF_LAYERS=2
# gpu_reference.py make DIR 64, about 3 GB) or a tiny model (gpu_reference.py inputs DIR 64).
set -euo pipefail
cd "$(dirname "$0")/.."
# section TITLE: a heading with the seconds since the check began, to see where its time goes.
section() { echo "== $* [${SECONDS}s]"; }
SIZE="${SIZE:-1024}"
STEPS="${STEPS:-8}"
PY="${PYTHON:-python3}"
WORK="${ZEDIT_GPU_WORK:-/tmp/zedit-gpu}"
DEVICE="${DEVICE:-cuda}"
# The 21 GB of random weights are written once and read by every run: in memory (/dev/shm,
# often noexec, so only the weights) where it has room for them, so that neither the write nor
# the loads wait on the disk.
shm_free="$(df --output=avail -B1G /dev/shm 2>/dev/null | tail -1 | tr -d ' ' || true)"
if [ -z "${MODEL:-}" ] && [ "${shm_free:-0}" -ge 40 ] 2>/dev/null; then
  MODEL=/dev/shm/zedit-gpu-model
fi
MODEL="${MODEL:-$WORK/model}"
echo "work folder $WORK, model folder $MODEL"
mkdir -p "$WORK"
# The bundle travels compressed (the working tree and it share 64 MiB): unpack it here.
# (benches/gpu.sh, where a toolchain is at hand, builds the binary and names it in ZEDIT_GPU_BIN.)
"$PY" - "$WORK" <<'EOF'
import os, sys, tarfile
work = sys.argv[1]
# The "data" filter (no links out, no absolute names) where this Python has it (3.12, 3.11.4).
safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
if os.path.exists("gpu-bundle/zimage_speed.tar.xz"):
    with tarfile.open("gpu-bundle/zimage_speed.tar.xz") as t:
        t.extractall(work, **safe)
    for name in ("zimage_speed", "zimage_speed_cudnn"):
        os.chmod(f"{work}/{name}", 0o755)
if os.path.exists("gpu-bundle/diffusers.tar.xz"):
    with tarfile.open("gpu-bundle/diffusers.tar.xz") as t:
        t.extractall(f"{work}/diffusers-wheel", **safe)
EOF
BIN="${ZEDIT_GPU_BIN:-$WORK/zimage_speed}"
BIN_CUDNN="${ZEDIT_GPU_BIN_CUDNN:-$WORK/zimage_speed_cudnn}"
if [ ! -x "$BIN" ]; then
  echo "gpu_check: no $BIN: build gpu-bundle/ with scripts/build_gpu.sh (or set ZEDIT_GPU_BIN)" >&2
  exit 1
fi
if [ "$DEVICE" = cuda ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
# Figures of a bundle built from other sources than this tree's would be taken for this tree's.
if [ -z "${ZEDIT_GPU_BIN:-}" ]; then
  built="$(cat gpu-bundle/sources.sha256 2>/dev/null || echo unknown)"
  if [ "$built" = "$(scripts/source_digest.sh)" ]; then
    echo "gpu-bundle built from this tree's sources ($built)"
  else
    echo "gpu_check: WARNING: gpu-bundle was built from other sources ($built) than this tree's;"
    echo "  the figures below are that build's (rebuild it with scripts/build_gpu.sh)"
  fi
fi

# The machine's CUDA 13 libraries: a system toolkit, or the NVIDIA wheels next to torch.
for d in /usr/local/cuda/lib64 /usr/local/cuda-13*/lib64 \
  "$("$PY" -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13", "lib"))' 2>/dev/null || true)"; do
  if [ -n "$d" ] && [ -d "$d" ]; then LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
done
export LD_LIBRARY_PATH
if ldd "$BIN" | grep "not found"; then
  echo "gpu_check: $BIN misses the libraries above; point LD_LIBRARY_PATH at CUDA 13's" >&2
  exit 1
fi
if ! "$PY" -c 'import diffusers' 2>/dev/null; then
  export PYTHONPATH="$WORK/diffusers-wheel${PYTHONPATH:+:$PYTHONPATH}"
fi

# VRAM sampler: unix ms and MiB in use on GPU 0, every ~100 ms.
: > "$WORK/vram.txt"
if [ "$DEVICE" = cuda ]; then
  (while :; do
    echo "$(date +%s%3N) $(nvidia-smi --id=0 --query-gpu=memory.used --format=csv,noheader,nounits)"
    sleep 0.05
  done) > "$WORK/vram.txt" &
  SAMPLER=$!
  trap 'kill $SAMPLER 2>/dev/null || true' EXIT
fi
export ZEDIT_REF_DEVICE="$DEVICE"

if [ ! -f "$MODEL/inputs.safetensors" ]; then
  section "writing the random full-size model"
  timeout 240 "$PY" scripts/gpu_reference.py make "$MODEL" "$SIZE"
fi
# Outputs of an earlier run in the same folder would be compared as if they were this run's.
rm -f "$WORK"/zedit*.safetensors "$WORK/diffusers.safetensors" "$WORK"/vae_*.safetensors
# compare A B: the deviation between two decoded images in $WORK, where both runs made one (a
# failed run is reported where it fails, and the check goes on to the next step).
compare() {
  if [ -f "$WORK/$1.safetensors" ] && [ -f "$WORK/$2.safetensors" ]; then
    "$PY" scripts/gpu_reference.py compare "$WORK/$1.safetensors" "$WORK/$2.safetensors" ||
      echo "gpu_check: comparing $1 with $2 failed"
  fi
}
section "zedit"
if ! timeout 240 "$BIN" --device "$DEVICE" --model "$MODEL" --steps "$STEPS" \
  --out "$WORK/zedit.safetensors" | tee "$WORK/zedit.log"; then
  echo "gpu_check: the zedit run failed (its error is above); going on with diffusers"
  rm -f "$WORK/zedit.safetensors"
fi
section "diffusers"
if ! timeout 240 "$PY" scripts/gpu_reference.py run "$MODEL" "$STEPS" "$WORK/diffusers.safetensors" \
  | tee "$WORK/diffusers.log"; then
  echo "gpu_check: the diffusers run failed (its error is above)"
  rm -f "$WORK/diffusers.safetensors"
fi
section "comparison"
compare zedit diffusers
section "zedit peak memory per stage"
"$PY" scripts/gpu_peaks.py "$WORK/zedit.log" "$WORK/vram.txt" || true

section "zedit VAE: candle's im2col + GEMM convolutions, cuDNN's, diffusers'"
# vae_run NAME BINARY [ENV...]: one VAE-only run, its log in $WORK/vae_NAME.log.
vae_run() {
  local name="$1" bin="$2"
  shift 2
  if env "$@" timeout 90 "$bin" --device "$DEVICE" --model "$MODEL" --vae-only \
    --out "$WORK/vae_$name.safetensors" > "$WORK/vae_$name.log" 2>&1; then
    grep -v '^STAGE \|^POOL ' "$WORK/vae_$name.log" || true
    "$PY" scripts/gpu_peaks.py "$WORK/vae_$name.log" "$WORK/vram.txt" || true
  else
    echo "gpu_check: the $name VAE run failed:"
    tail -20 "$WORK/vae_$name.log"
  fi
}
vae_run im2col "$BIN"
# libcudnn.so.9 (and the engine libraries it opens from its own folder): the machine's torch
# wheels, or a system copy that the loader finds by itself.
CUDNN_LIB="$("$PY" -c '
import glob, os, sys
for p in sys.path:
    for pattern in ("nvidia/cudnn/lib", "nvidia/*/lib", "torch/lib"):
        for d in glob.glob(os.path.join(p, pattern)):
            if glob.glob(os.path.join(d, "libcudnn.so.9*")):
                sys.exit(print(d))
' 2>/dev/null || true)"
if [ "$DEVICE" = cuda ] && [ -x "$BIN_CUDNN" ]; then
  echo "  libcudnn from ${CUDNN_LIB:-the default library paths}"
  # cuDNN's heuristic pick per convolution, then one algorithm pinned for all
  # (ZEDIT_CUDNN_ALGO), whose workspace is small and bounded.
  with_cudnn="LD_LIBRARY_PATH=${CUDNN_LIB:+$CUDNN_LIB:}$LD_LIBRARY_PATH"
  vae_run cudnn "$BIN_CUDNN" "$with_cudnn"
  echo "  cuDNN with ZEDIT_CUDNN_ALGO=implicit-precomp-gemm:"
  vae_run cudnn_precomp "$BIN_CUDNN" "$with_cudnn" ZEDIT_CUDNN_ALGO=implicit-precomp-gemm
fi
timeout 90 "$PY" scripts/gpu_reference.py vae "$MODEL" "$WORK/vae_diffusers.safetensors" ||
  echo "gpu_check: diffusers' VAE run failed"
for pair in "im2col diffusers" "cudnn diffusers" "cudnn im2col" "cudnn_precomp cudnn"; do
  set -- $pair
  compare "vae_$1" "vae_$2"
done

# Last, so that everything above is printed even if this run is cut short: the DiT step and
# one edit with the fused kernels (their first run on a GPU), and the deviations.
if [ "${FUSED:-1}" = 1 ]; then
  section "zedit with its fused CUDA kernels (norm + RoPE, flash attention)"
  echo "   ZEDIT_CUDA_FUSED=check also compares the first blocks of the warm-up step with the"
  echo "   unfused attention"
  if ZEDIT_CUDA_FUSED=check timeout 180 "$BIN" --device "$DEVICE" --model "$MODEL" --steps "$STEPS" \
    --quick --out "$WORK/zedit_fused.safetensors" > "$WORK/zedit_fused.log" 2>&1; then
    grep -v '^STAGE \|^POOL ' "$WORK/zedit_fused.log" | sed 's/^/  [fused] /' || true
    compare zedit_fused diffusers
    compare zedit_fused zedit
  else
    echo "gpu_check: the fused run failed:"
    tail -20 "$WORK/zedit_fused.log"
  fi
fi

# Then, where Nsight Compute is at hand: where one DiT call's GPU time goes, kernel by kernel
# (random full-size weights built in memory; one warm-up call, one profiled), default path.
NCU="$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda*/bin/ncu 2> /dev/null |
  head -1 || true)"
if [ "$DEVICE" = cuda ] && [ "${PROFILE:-1}" = 1 ] && [ -n "$NCU" ]; then
  section "one DiT call at ${SIZE}x$SIZE, kernel by kernel ($NCU; clocks and caches left alone)"
  if timeout 170 "$NCU" --profile-from-start off --clock-control none --cache-control none \
    --metrics gpu__time_duration.sum -f -o "$WORK/dit_step" \
    "$BIN" --device cuda --size "$SIZE" --dit-only --profile-step > "$WORK/ncu.log" 2>&1 &&
    "$NCU" --import "$WORK/dit_step.ncu-rep" --csv --page raw > "$WORK/dit_step.csv" 2>> "$WORK/ncu.log"; then
    grep '^profiled' "$WORK/ncu.log" | sed 's/^/  /' || true
    "$PY" scripts/gpu_kernels.py "$WORK/dit_step.csv"
  else
    echo "gpu_check: the profile failed:"
    tail -20 "$WORK/ncu.log"
  fi
fi
section "done"
