#!/usr/bin/env bash
# Prints one sha256 over the sources that go into the GPU bundle's binaries (src, examples,
# build.rs, Cargo.toml, Cargo.lock; names and contents), so that scripts/gpu_check.sh can tell
# whether gpu-bundle/ was built from the working tree it runs in (build_gpu.sh records it).
set -euo pipefail
cd "$(dirname "$0")/.."
find src examples build.rs Cargo.toml Cargo.lock -type f -print0 | LC_ALL=C sort -z |
  xargs -0 sha256sum | sha256sum | cut -d' ' -f1
