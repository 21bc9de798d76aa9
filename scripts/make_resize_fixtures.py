#!/usr/bin/env python3
"""Writes tests/fixtures/pil_lanczos/: Pillow LANCZOS resizes that zedit must reproduce exactly.

The Z-Image pipelines' VaeImageProcessor resizes the input image and the inpaint mask with
`PIL.Image.resize((w, h), resample=LANCZOS)` to sides floored to a multiple of 16. This writes a
textured 100x60 RGB source and a 100x60 L mask, and their resizes to several sizes (down, up,
one side only, strong downscale, vertical pass first and horizontal pass first), as PNGs named `{rgb,mask}_{W}x{H}.png`. Run with the
reference venv:  /work/venv/bin/python scripts/make_resize_fixtures.py
"""

import os

import numpy as np
import PIL
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "pil_lanczos")
W, H = 100, 60
SIZES = [(96, 48), (64, 48), (100, 48), (96, 60), (16, 16), (131, 77), (99, 30), (112, 40),
         (72, 20)]


def source():
    rng = np.random.RandomState(16)
    y, x = np.mgrid[0:H, 0:W]
    base = np.stack([x * 2.5, y * 4.0, (x + y) * 1.5], axis=-1)
    noise = rng.randint(0, 60, size=(H, W, 3))
    checker = np.where(((x // 5) + (y // 5)) % 2 == 0, 90, 0)[..., None]
    rgb = np.clip(base + noise + checker, 0, 255).astype(np.uint8)
    mask = np.zeros((H, W), dtype=np.uint8)
    mask[13:41, 21:67] = 255
    mask[30:55, 70:90] = 140  # grey: binarized at one half after the resize
    return Image.fromarray(rgb, mode="RGB"), Image.fromarray(mask, mode="L")


def main():
    os.makedirs(OUT, exist_ok=True)
    rgb, mask = source()
    rgb.save(os.path.join(OUT, "src_rgb.png"))
    mask.save(os.path.join(OUT, "src_mask.png"))
    for w, h in SIZES:
        rgb.resize((w, h), resample=Image.LANCZOS).save(os.path.join(OUT, f"rgb_{w}x{h}.png"))
        mask.resize((w, h), resample=Image.LANCZOS).save(os.path.join(OUT, f"mask_{w}x{h}.png"))
    with open(os.path.join(OUT, "VERSION"), "w") as f:
        f.write(f"Pillow {PIL.__version__}\n")
    print(f"wrote {len(SIZES) * 2 + 2} images to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
