#!/usr/bin/env python3
"""Writes tests/fixtures/zimage_schedules.json: the Z-Image img2img schedule as diffusers builds it.

For every step count 1..50 (shift 3.0, the real model's, and shift 1.7, one that float32 cannot
hold exactly, for 1..12 steps): the scheduler's sigmas and timesteps after the pipeline's
default-sigma `set_timesteps`, and the transformer t of each timestep. For every step count and
strength 0.05..1.0 in steps of 0.05: the start index and the number of steps run, from the
img2img pipeline's own `get_timesteps`. Run with the reference venv:

    /work/venv/bin/python scripts/make_schedule_table.py   (torch 2.15, diffusers 0.42.1)
"""

import json
import os
import sys
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import diffusers  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from diffusers import FlowMatchEulerDiscreteScheduler, ZImageImg2ImgPipeline  # noqa: E402
from diffusers.pipelines.z_image import pipeline_z_image_img2img as img2img  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "zimage_schedules.json")
STEPS = range(1, 51)
STRENGTHS = [k / 20 for k in range(1, 21)]  # the decimals 0.05, 0.1, ..., 1.0 as Python floats


def scheduler(shift):
    return FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, use_dynamic_shifting=False,
                                           shift=shift)


def schedule(shift, n):
    s = scheduler(shift)
    sigmas = img2img.get_default_z_image_sigmas(n)
    img2img.retrieve_timesteps(s, n, "cpu", sigmas=sigmas, mu=0.0)
    model_t = [float((1000 - t.expand(1)) / 1000) for t in s.timesteps]
    return dict(shift=shift, steps=n, sigmas=s.sigmas.tolist(), timesteps=s.timesteps.tolist(),
                model_t=model_t)


def starts(n):
    s = scheduler(3.0)
    img2img.retrieve_timesteps(s, n, "cpu", sigmas=img2img.get_default_z_image_sigmas(n), mu=0.0)
    out = []
    for strength in STRENGTHS:
        stand_in = SimpleNamespace(scheduler=s)
        timesteps, run = ZImageImg2ImgPipeline.get_timesteps(stand_in, n, strength, "cpu")
        out.append([len(s.timesteps) - len(timesteps), run])
    return out


def main():
    table = dict(
        generator="scripts/make_schedule_table.py",
        versions=dict(torch=torch.__version__, diffusers=diffusers.__version__,
                      numpy=np.__version__, cpu=torch.backends.cpu.get_cpu_capability()),
        schedules=[schedule(3.0, n) for n in STEPS] + [schedule(1.7, n) for n in range(1, 13)],
        strengths=STRENGTHS,
        t_start={str(n): starts(n) for n in STEPS},
    )
    with open(OUT + ".tmp", "w") as f:
        json.dump(table, f, separators=(",", ":"))
        f.write("\n")
    os.replace(OUT + ".tmp", OUT)
    print(f"wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
