#!/usr/bin/env python3
"""Compares zedit's delete (inpainting) with OpenCV's Telea and Navier-Stokes inpainting.

Run by hand, not in CI:
    python3 scripts/make_inpaint_tests.py
    cargo build --release --no-default-features --example inpaint
    python3 scripts/compare_inpaint.py [CASEDIR]

For each case it prints the PSNR inside the hole against the ground truth and the
gradient-energy ratio (mean |grad| inside the hole / mean |grad| in an 8-pixel ring around it;
a blur falls toward 0, the ground truth is near 1). Then it times both tools on the 1 MP case.
Needs numpy, pillow and opencv-python-headless.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
from PIL import Image

CASES = ["stripes", "bricks", "tiles", "gradient_linear", "gradient_radial", "grass", "gravel", "scratches"]
RADIUS = 5
RING = 8


def example_binary():
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    return os.path.join(target, "release", "examples", "inpaint")


def load(path, mode):
    return np.asarray(Image.open(path).convert(mode))


def ours(case_dir, name, out_path, seed=0):
    res = subprocess.run(
        [example_binary(), os.path.join(case_dir, f"{name}.png"), os.path.join(case_dir, f"{name}_mask.png"), out_path, str(seed)],
        capture_output=True,
        text=True,
        check=True,
    )
    ms = float(re.search(r"took ([0-9.]+) ms", res.stderr).group(1))
    return load(out_path, "RGB"), ms


def opencv(img, mask, flags):
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    out = cv2.inpaint(bgr, (mask > 0).astype(np.uint8) * 255, RADIUS, flags)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


def psnr_in(a, truth, mask):
    d = a[mask].astype(np.float64) - truth[mask].astype(np.float64)
    mse = np.mean(d * d)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def grad_mag(img):
    g = img.astype(np.float64).mean(axis=2)
    gx = np.zeros_like(g)
    gy = np.zeros_like(g)
    gx[:, :-1] = g[:, 1:] - g[:, :-1]
    gy[:-1, :] = g[1:, :] - g[:-1, :]
    return np.hypot(gx, gy)


def energy_ratio(img, mask):
    m8 = mask.astype(np.uint8)
    inner = cv2.erode(m8, np.ones((3, 3), np.uint8)) > 0
    ring = (cv2.dilate(m8, np.ones((2 * RING + 1, 2 * RING + 1), np.uint8)) > 0) & ~(
        cv2.dilate(m8, np.ones((3, 3), np.uint8)) > 0
    )
    g = grad_mag(img)
    return g[inner].mean() / max(g[ring].mean(), 1e-9)


def main():
    case_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("target", "inpaint-tests")
    tmp = tempfile.mkdtemp(prefix="zedit-inpaint-")
    print(f"{'case':<16} {'PSNR ours':>9} {'Telea':>7} {'NS':>7} | {'ratio ours':>10} {'Telea':>6} {'NS':>6} {'truth':>6}")
    for name in CASES:
        img = load(os.path.join(case_dir, f"{name}.png"), "RGB")
        truth = load(os.path.join(case_dir, f"{name}_truth.png"), "RGB")
        mask = load(os.path.join(case_dir, f"{name}_mask.png"), "L") > 0
        o, _ = ours(case_dir, name, os.path.join(tmp, f"{name}_ours.png"))
        t = opencv(img, mask, cv2.INPAINT_TELEA)
        n = opencv(img, mask, cv2.INPAINT_NS)
        Image.fromarray(t).save(os.path.join(tmp, f"{name}_telea.png"))
        Image.fromarray(n).save(os.path.join(tmp, f"{name}_ns.png"))
        p = [psnr_in(x, truth, mask) for x in (o, t, n)]
        r = [energy_ratio(x, mask) for x in (o, t, n, truth)]
        print(f"{name:<16} {p[0]:9.2f} {p[1]:7.2f} {p[2]:7.2f} | {r[0]:10.2f} {r[1]:6.2f} {r[2]:6.2f} {r[3]:6.2f}")
    print(f"outputs in {tmp}")

    name = "bench_1mp"
    img = load(os.path.join(case_dir, f"{name}.png"), "RGB")
    mask = load(os.path.join(case_dir, f"{name}_mask.png"), "L") > 0
    print(f"\n1 MP ({img.shape[1]}x{img.shape[0]}), hole {100 * mask.mean():.1f}%: median of 5 runs")
    times = {"ours": [], "telea": [], "ns": []}
    for _ in range(5):
        times["ours"].append(ours(case_dir, name, os.path.join(tmp, f"{name}_ours.png"))[1])
        for key, flag in (("telea", cv2.INPAINT_TELEA), ("ns", cv2.INPAINT_NS)):
            start = time.perf_counter()
            opencv(img, mask, flag)
            times[key].append((time.perf_counter() - start) * 1e3)
    for key, ts in times.items():
        print(f"  {key:<6} {statistics.median(ts):8.1f} ms")


if __name__ == "__main__":
    main()
