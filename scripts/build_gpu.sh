#!/usr/bin/env bash
# Builds the CUDA (sm_90, CUDA 13.0) zimage_speed benchmark on a machine without a CUDA toolkit
# or GPU, for a GPU machine without a Rust toolchain or network. Everything it needs to compile
# comes from PyPI: NVIDIA's nvcc / nvvm / crt / runtime / cccl / nvrtc / cublas / curand wheels,
# pinned to CUDA 13.0 so that the PTX it embeds loads on any CUDA 13 driver. The driver library
# is replaced at link time by a generated stub; at run time the binary uses the GPU machine's own
# libcuda, libcublas(Lt), libcurand and libnvrtc.
#
# Output: gpu-bundle/ (git-ignored, about 9 MiB): the stripped zimage_speed binaries (default and
# --features cudnn, one tar.xz), the digest of the sources they were built from
# (scripts/source_digest.sh) and the diffusers wheel's files (tar.xz) for the side-by-side
# run. Carry it with the working tree (the two share 64 MiB) and run `scripts/gpu_check.sh` there.
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

# link_stub SONAME SOURCE REGEX: $TK/lib64/stubs/<name>.so, a link-time stand-in for SONAME
# exporting every name that REGEX's group finds in SOURCE. It is never loaded: the binary
# records SONAME and the GPU machine's own library is used at run time.
link_stub() {
  local c="$TK/${1%%.so*}_stub.c"
  "$PYTHON" - "$2" "$c" "$3" "$1" <<'EOF'
import re, sys
names = sorted(set(re.findall(sys.argv[3], open(sys.argv[1]).read())))
with open(sys.argv[2], "w") as f:
    f.write(f"/* link-time stand-in for {sys.argv[4]}; never loaded */\n")
    for n in names:
        f.write(f"int {n}(void) {{ return 999; }}\n")
print(f"{sys.argv[4]} stand-in: {len(names)} entry points")
EOF
  gcc -shared -fPIC -Wl,-soname,"$1" -o "$TK/lib64/stubs/${1%%.so*}.so" "$c"
}

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
fi
# The driver's entry points, regenerated each run as it takes a second: cuda.h's, and the
# profiler's (cuProfilerStart/Stop; their cudaProfiler.h is not in the wheels, but their
# typedefs are).
gcc -E -P -I"$TK/include" -x c "$TK/include/cuda.h" -o "$TK/cuda.i"
sed -n 's/.*PFN_\(cu[A-Za-z]*\)_v[0-9]*.*/\1(/p' "$TK/include/cudaProfilerTypedefs.h" >> "$TK/cuda.i"
link_stub libcuda.so.1 "$TK/cuda.i" '\b(cu[A-Z]\w*)\s*\('

if [ "${1:-}" = "--toolkit-only" ]; then
  echo "toolkit ready in $TK"
  exit 0
fi

export PATH="$TK/bin:$PATH"
export CUDA_HOME="$TK" CUDA_PATH="$TK" CUDARC_CUDA_VERSION=13000 CUDA_COMPUTE_CAP=90
export LIBRARY_PATH="$TK/lib64:$TK/lib64/stubs${LIBRARY_PATH:+:$LIBRARY_PATH}"
nvcc --version | tail -2
# Two builds: the default CUDA one, and one with cuDNN convolutions in the VAE (--features cudnn;
# libcudnn is loaded at run time, from the GPU machine's torch wheels).
mkdir -p "$BUNDLE/bin"
# What the binaries are built from, for gpu_check.sh to compare with the tree it runs in; taken
# before the build, and moved beside the tarball only once that is written, so that a failed
# build leaves the previous tarball with its own digest.
scripts/source_digest.sh > "$BUNDLE/bin/sources.sha256"
for features in cuda cudnn; do
  if [ "$features" = cudnn ] && [ ! -e "$TK/lib64/stubs/libcudnn.so" ]; then
    # candle links cuDNN like the driver: a stand-in with every entry point of cudarc's cuDNN
    # bindings satisfies the linker; at run time the GPU machine's libcudnn.so.9 is loaded.
    sys_rs="$(cargo metadata --format-version 1 --features cudnn 2>/dev/null |
      "$PYTHON" -c 'import json, os, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == "cudarc":
        print(os.path.join(os.path.dirname(p["manifest_path"]), "src", "cudnn", "sys", "mod.rs"))')"
    link_stub libcudnn.so.9 "$sys_rs" '\bfn (cudnn\w+)\s*\('
  fi
  echo "== cargo build --release --features $features --example zimage_speed (sm_$CUDA_COMPUTE_CAP)"
  cargo build --release --features "$features" --example zimage_speed
  name=zimage_speed; [ "$features" = cudnn ] && name=zimage_speed_cudnn
  strip -o "$BUNDLE/bin/$name" "$CARGO_TARGET_DIR/release/examples/zimage_speed"
done
# The working tree and what travels with it share 64 MiB on the GPU machine, so the bundle is
# compressed: the two binaries as one xz tar (one thread and a dictionary larger than both, so
# that the second costs little more than its differences), diffusers' wheel as the xz tar of its
# files.
(cd "$BUNDLE/bin" && tar cf - zimage_speed zimage_speed_cudnn |
  xz --lzma2=preset=9e,dict=192MiB -T1 > "$BUNDLE/zimage_speed.tar.xz")
mv "$BUNDLE/bin/sources.sha256" "$BUNDLE/sources.sha256"
rm -rf "$BUNDLE/bin" "$BUNDLE/zimage_speed.xz"
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
