#!/usr/bin/env python3
"""Peak memory per stage of one zimage_speed run, for scripts/gpu_check.sh.

  gpu_peaks.py LOG VRAM

LOG is the run's output: `STAGE name start end` (unix ms) and, on CUDA, `POOL name bytes` (the
device pool's high watermark over the stage: every tensor, exact however short the stage).
VRAM is the sampler's `unix_ms MiB` lines (nvidia-smi, device total in use, every ~100 ms:
adds the CUDA context and cuBLAS's workspaces, but may miss a short peak).
"""

import sys


def main(log, vram):
    lines = [l.split() for l in open(log)]
    stages = [l[1:4] for l in lines if len(l) == 4 and l[0] == "STAGE"]
    pools = {l[1]: int(l[2]) for l in lines if len(l) == 3 and l[0] == "POOL"}
    # A sample nvidia-smi could not take ("[N/A]", an error line) is left out.
    samples = [tuple(map(int, f)) for f in map(str.split, open(vram))
               if len(f) == 2 and all(x.isdigit() for x in f)]
    for name, start, end in stages:
        inside = [mib for t, mib in samples if int(start) <= t <= int(end) + 150]
        parts = []
        if name in pools:
            parts.append(f"tensors at most {pools[name] / 2**30:6.2f} GiB (pool high watermark)")
        if inside:
            parts.append(f"device in use at most {max(inside) / 1024:6.2f} GiB (sampled)")
        if parts:
            print(f"  {name:16} " + "; ".join(parts))
    if samples:
        print(f"  device memory in use when sampling began: {samples[0][1] / 1024:.2f} GiB")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
