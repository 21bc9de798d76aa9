#!/usr/bin/env python3
"""Where one DiT call's GPU time goes, from an Nsight Compute report, for scripts/gpu_check.sh.

  gpu_kernels.py CSV

CSV is `ncu --import REPORT --csv --page raw` of a `zimage_speed --profile-step` run profiled
with the metric gpu__time_duration.sum: one row per kernel launch. Prints the total, the time per
kind (matrix products, attention, normalisation, element-wise and copies) and the kernels that
took the most time, each with its launches and its share.
"""

import csv
import re
import sys
from collections import defaultdict

METRIC = "gpu__time_duration.sum"
UNITS = {"ns": 1e-6, "nsecond": 1e-6, "us": 1e-3, "usecond": 1e-3, "ms": 1.0, "msecond": 1.0,
         "s": 1e3, "second": 1e3}
KINDS = [
    ("matrix products (cuBLAS)", r"gemm|nvjet|xmma|cutlass|gemv|splitk"),
    ("attention (softmax, flash)", r"softmax|flash|attn"),
    ("norms and RoPE", r"rms|norm|rope"),
    ("copies and casts", r"copy|cast|transpose|cat|fill|zero"),
    ("element-wise and reductions", r"."),
]


def number(cell):
    try:
        return float(cell.replace(",", ""))
    except ValueError:
        return None


def rows(path):
    table = [r for r in csv.reader(l for l in open(path) if not l.startswith("=="))]
    if not table:
        sys.exit(f"{path}: no rows")
    head = table[0]
    if METRIC not in head or "Kernel Name" not in head:
        sys.exit(f"{path}: no '{METRIC}' or 'Kernel Name' column in {head[:8]}...")
    name_i, time_i = head.index("Kernel Name"), head.index(METRIC)
    scale, body = 1e-6, table[1:]
    if body and number(body[0][time_i]) is None:
        scale = UNITS.get(body[0][time_i].strip(), 1e-6)
        body = body[1:]
    for r in body:
        t = number(r[time_i]) if len(r) > time_i else None
        if t is not None:
            yield r[name_i], t * scale


def main(path):
    per_name = defaultdict(lambda: [0, 0.0])
    for name, ms in rows(path):
        short = re.sub(r"\(.*", "", name).strip()[:70] or name[:70]
        per_name[short][0] += 1
        per_name[short][1] += ms
    total = sum(ms for _, ms in per_name.values())
    launches = sum(n for n, _ in per_name.values())
    if not total:
        sys.exit(f"{path}: no kernel times")
    print(f"  one DiT call: {launches} kernel launches, {total:.2f} ms of kernel time")
    per_kind = defaultdict(lambda: [0, 0.0])
    for short, (n, ms) in per_name.items():
        kind = next(k for k, pattern in KINDS if re.search(pattern, short, re.I))
        per_kind[kind][0] += n
        per_kind[kind][1] += ms
    for kind, (n, ms) in sorted(per_kind.items(), key=lambda kv: -kv[1][1]):
        print(f"  {kind:30} {ms:8.2f} ms {100 * ms / total:5.1f}%  ({n} launches)")
    print("  kernels by time:")
    for short, (n, ms) in sorted(per_name.items(), key=lambda kv: -kv[1][1])[:20]:
        print(f"    {ms:8.2f} ms {100 * ms / total:5.1f}% {n:5}x  {short}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
