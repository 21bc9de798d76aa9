#!/usr/bin/env python3
"""Makes inpainting test cases with known ground truth.

For each background (periodic, smooth, noise-like) it writes NAME_truth.png (the clean
background), NAME.png (solid objects pasted on it) and NAME_mask.png (exactly the objects'
pixels). Deterministic: the same files on every run. Needs numpy and pillow.

usage: make_inpaint_tests.py [OUTDIR]   (default: target/inpaint-tests)
"""
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

SIZE = 320


def grid():
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    return x, y


def to_img(a):
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def blur(a, r):
    """Separable box blur, applied three times (about a Gaussian); wraps around."""
    out = a.astype(np.float64)
    for _ in range(3):
        for axis in (0, 1):
            acc = np.zeros_like(out)
            for d in range(-r, r + 1):
                acc += np.roll(out, d, axis=axis)
            out = acc / (2 * r + 1)
    return out


def stripes(rng):
    x, y = grid()
    t = np.sin(2 * np.pi * (x + 0.6 * y) / 18.0)
    k = np.clip(t * 3, -1, 1) * 0.5 + 0.5
    a = np.array([40, 60, 150.0])
    b = np.array([230, 220, 120.0])
    return a + (b - a) * k[..., None]


def bricks(rng):
    bw, bh, m = 40, 20, 3
    x, y = grid()
    row = (y // bh).astype(int)
    xs = x + (row % 2) * (bw // 2)
    col = (xs // bw).astype(int)
    mortar = ((y % bh) < m) | ((xs % bw) < m)
    tint = rng.uniform(-18, 18, size=(row.max() + 2, col.max() + 2))
    base = np.array([165, 70, 50.0])[None, None, :] + tint[row, col][..., None]
    img = np.where(mortar[..., None], np.array([200, 195, 185.0]), base)
    return img + rng.normal(0, 4, img.shape)


def tiles(rng):
    t, g = 32, 2
    x, y = grid()
    grout = ((x % t) < g) | ((y % t) < g)
    checker = ((x // t + y // t) % 2).astype(bool)
    c = np.where(checker[..., None], np.array([235, 235, 225.0]), np.array([60, 110, 140.0]))
    return np.where(grout[..., None], np.array([110, 105, 100.0]), c)


def gradient_linear(rng):
    x, y = grid()
    u = (x + 0.5 * y) / (1.5 * SIZE)
    return np.stack([30 + 200 * u, 200 - 150 * u, 90 + 60 * (y / SIZE)], axis=-1)


def gradient_radial(rng):
    x, y = grid()
    r = np.hypot(x - 0.35 * SIZE, y - 0.4 * SIZE) / SIZE
    return np.stack([240 - 180 * r, 180 - 60 * r, 60 + 150 * r], axis=-1)


def grass(rng):
    n = rng.normal(0, 1, (SIZE, SIZE))
    # Tall thin blades: smooth a lot along y, little along x.
    v = n.copy()
    for _ in range(3):
        acc = np.zeros_like(v)
        for d in range(-5, 6):
            acc += np.roll(v, d, axis=0)
        v = acc / 11
    v = v / v.std()
    return np.stack([60 + 25 * v, 130 + 45 * v, 40 + 15 * v], axis=-1)


def gravel(rng):
    img = np.full((SIZE, SIZE, 3), 120.0)
    pil = Image.fromarray(to_img(img))
    d = ImageDraw.Draw(pil)
    for _ in range(2600):
        cx, cy = rng.uniform(-6, SIZE + 6, 2)
        r = rng.uniform(2, 6)
        g = int(rng.uniform(70, 200))
        tone = (g, int(g * rng.uniform(0.9, 1.0)), int(g * rng.uniform(0.8, 0.95)))
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=tone)
    return np.asarray(pil).astype(np.float64) + rng.normal(0, 6, (SIZE, SIZE, 3))


BACKGROUNDS = [
    ("stripes", stripes),
    ("bricks", bricks),
    ("tiles", tiles),
    ("gradient_linear", gradient_linear),
    ("gradient_radial", gradient_radial),
    ("grass", grass),
    ("gravel", gravel),
]

COLOURS = [(255, 0, 255), (0, 255, 255), (255, 255, 0), (20, 20, 20)]


def objects(rng, n=SIZE):
    """A mask with three solid shapes of different kinds, kept apart from each other."""
    mask = Image.new("L", (n, n), 0)
    d = ImageDraw.Draw(mask)
    centres = [(0.27, 0.3), (0.7, 0.35), (0.45, 0.72)]
    for k, (fx, fy) in enumerate(centres):
        cx, cy = fx * n + rng.uniform(-10, 10), fy * n + rng.uniform(-10, 10)
        rx, ry = rng.uniform(18, 34), rng.uniform(18, 34)
        if k == 0:
            d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=255)
        elif k == 1:
            d.rectangle([cx - rx, cy - ry * 0.6, cx + rx, cy + ry * 0.6], fill=255)
        else:
            pts = [
                (cx + rx * np.cos(a) * rng.uniform(0.6, 1.0), cy + ry * np.sin(a) * rng.uniform(0.6, 1.0))
                for a in np.linspace(0, 2 * np.pi, 7)[:-1]
            ]
            d.polygon(pts, fill=255)
    return np.asarray(mask) > 0


def write_case(out, name, truth, mask, colour):
    img = truth.copy()
    img[mask] = colour
    Image.fromarray(truth).save(os.path.join(out, f"{name}_truth.png"))
    Image.fromarray(img).save(os.path.join(out, f"{name}.png"))
    Image.fromarray((mask * 255).astype(np.uint8)).save(os.path.join(out, f"{name}_mask.png"))


def scratches_case(out):
    """Thin scratches (2-4 px) across bricks: the masks diffusion methods are made for."""
    truth = to_img(bricks(np.random.default_rng(1001)))
    m = Image.new("L", (SIZE, SIZE), 0)
    d = ImageDraw.Draw(m)
    d.line([(10, 40), (300, 260)], fill=255, width=3)
    d.line([(20, 300), (310, 20)], fill=255, width=2)
    d.line([(0, 160), (320, 150)], fill=255, width=4)
    write_case(out, "scratches", truth, np.asarray(m) > 0, (255, 0, 255))


def bench_case(out):
    """1024x1024 bricks with a disc hole covering 5% of the image, for timing."""
    global SIZE
    saved, SIZE = SIZE, 1024
    try:
        truth = to_img(bricks(np.random.default_rng(7)))
    finally:
        SIZE = saved
    x, y = np.mgrid[0:1024, 0:1024]
    radius = np.sqrt(0.05 * 1024 * 1024 / np.pi)
    mask = np.hypot(x - 500, y - 530) < radius
    write_case(out, "bench_1mp", truth, mask, (255, 0, 255))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("target", "inpaint-tests")
    os.makedirs(out, exist_ok=True)
    for k, (name, make) in enumerate(BACKGROUNDS):
        rng = np.random.default_rng(1000 + k)
        truth = to_img(make(rng))
        write_case(out, name, truth, objects(rng), COLOURS[k % len(COLOURS)])
    scratches_case(out)
    bench_case(out)
    print(f"wrote {len(BACKGROUNDS) + 2} cases to {out}")


if __name__ == "__main__":
    main()
