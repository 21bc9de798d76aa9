#!/usr/bin/env python3
"""Reference fixtures for zedit's FlowEdit and classic-prefill + inpaint on Z-Image.

FlowEdit (Kulikov et al. 2024, "FlowEdit: Inversion-Free Text-Based Editing Using Pre-Trained
Flow Models") is written here on diffusers' Z-Image components (transformer, VAE, text encoder,
scheduler of the tiny fixture model); the prefill case runs diffusers' ZImageInpaintPipeline on
an image that zedit's classic engine filled. Every transformer call, every noise draw, the
latents after each step and the final latents are recorded. See tests/fixtures/flowedit/README.md
for the exact math.

Usage (from the repository root, with a venv of ../shared/fixtures/zimage-tiny/requirements-frozen.txt):
    python scripts/flowedit_reference.py inputs            # input.png and mask.png
    python scripts/flowedit_reference.py cases --zedit target/debug/zedit
The second step runs `zedit` (classic engine) to fill the mask of input.png into prefilled.png,
then writes every case and manifest.json.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

import diffusers  # noqa: E402
from diffusers import ZImageInpaintPipeline, ZImagePipeline  # noqa: E402
from diffusers.pipelines.z_image.pipeline_z_image import (  # noqa: E402
    calculate_shift,
    get_default_z_image_sigmas,
    retrieve_timesteps,
)
from diffusers.utils import torch_utils  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_lora_fixtures import recorded_from  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "flowedit")
# In the repository (not ../shared), so that these references never depend on a set outside it.
MODEL = os.path.join(ROOT, "tests", "fixtures", "zimage-tiny-b", "tiny-zimage")
W, H = 80, 48
MAX_SEQ = 512

# FlowEdit cases: non-square, Chinese prompts; one plain, one masked with guidance and a tail
# of plain sampling (n_min > 0), averaging over two draws in the first.
FLOWEDIT_CASES = {
    "flowedit_zh": dict(
        source_prompt="红色T恤",
        target_prompt="磨砂黑色皮夹克",
        negative_prompt=None,
        steps=6,
        n_max=5,
        n_min=0,
        n_avg=2,
        source_guidance=0.0,
        target_guidance=0.0,
        mask=False,
        seed=11,
    ),
    "flowedit_mask_cfg": dict(
        source_prompt="一张照片",
        target_prompt="一张照片,窗外阳光洒入",
        negative_prompt="模糊,低质量",
        steps=6,
        n_max=4,
        n_min=1,
        n_avg=1,
        source_guidance=1.5,
        target_guidance=3.0,
        mask=True,
        seed=12,
    ),
}
PREFILL_CASE = dict(prompt="平整水泥地", steps=6, strength=0.6, seed=13)


def make_inputs():
    """A deterministic 80x48 picture (gradient, a disc, stripes) and a mask rectangle."""
    os.makedirs(OUT, exist_ok=True)
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    img = np.zeros((H, W, 3), np.float32)
    img[..., 0] = 40 + 180 * x / (W - 1)
    img[..., 1] = 60 + 120 * y / (H - 1)
    img[..., 2] = 200 - 100 * x / (W - 1)
    disc = (x - 40) ** 2 + (y - 26) ** 2 < 12**2
    img[disc] = [210, 40, 50]
    img[(y > 38) & ((x // 6) % 2 == 0)] = [30, 30, 30]
    Image.fromarray(np.clip(img, 0, 255).round().astype(np.uint8), "RGB").save(
        os.path.join(OUT, "input.png")
    )
    mask = np.zeros((H, W), np.uint8)
    mask[16:40, 24:56] = 255
    Image.fromarray(mask, "L").save(os.path.join(OUT, "mask.png"))


def prefill(zedit):
    """zedit's classic delete of the mask of input.png, stored as prefilled.png."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, ZEDIT_HOME=home, XDG_RUNTIME_DIR=home)

        def run(*args):
            subprocess.run([zedit, *args], check=True, env=env, stdout=subprocess.DEVNULL)

        run("new", os.path.join(OUT, "input.png"), "--name", "prefill")
        run("edit", "prefill", "删除", "--op", "delete", "--engine", "classic", "--local",
            "--mask", os.path.join(OUT, "mask.png"), "--seed", "0")
        run("export", "prefill", os.path.join(OUT, "prefilled.png"))


class Calls:
    """Records every transformer call: inputs per batch item, t, caption features, raw output."""

    def __init__(self, transformer, store):
        self.n = 0
        self.store = store
        self.handle = transformer.register_forward_hook(self.hook, with_kwargs=True)

    def hook(self, module, args, kwargs, out):
        i = self.n
        self.n += 1
        x, t, caps = args[0], args[1], args[2]
        for b, xb in enumerate(x):
            self.store[f"transformer.{i}.x.{b}"] = xb.detach().clone()
        self.store[f"transformer.{i}.t"] = t.detach().clone().float()
        for b, cb in enumerate(caps):
            self.store[f"transformer.{i}.cap_feats.{b}"] = cb.detach().clone()
        for b, ob in enumerate(out[0]):
            self.store[f"transformer.{i}.out.{b}"] = ob.detach().clone()


def velocity(tr, x, t_model, cap, neg_cap, g):
    """Z-Image's velocity: the negated model output, with the pipeline's CFG form."""
    if g > 0:
        outs = tr([x[0].unsqueeze(1), x[0].unsqueeze(1)], t_model.expand(2), [cap, neg_cap],
                  return_dict=False)[0]
        pos, neg = outs[0].float(), outs[1].float()
        pred = pos + g * (pos - neg)
    else:
        pred = tr([x[0].unsqueeze(1)], t_model, [cap], return_dict=False)[0][0].float()
    return -pred.squeeze(1).unsqueeze(0)


def flowedit(pipe, spec, image, mask_img, store):
    """FlowEdit as the paper's Algorithm 1, in sigma space, for Z-Image's convention."""
    tr, vae, sched = pipe.transformer, pipe.vae, pipe.scheduler
    enc = lambda p: pipe._encode_prompt(prompt=[p], device="cpu", max_sequence_length=MAX_SEQ)[0]
    src_cap, tar_cap = enc(spec["source_prompt"]), enc(spec["target_prompt"])
    guided = spec["source_guidance"] > 0 or spec["target_guidance"] > 0
    neg_cap = enc(spec["negative_prompt"] or "") if guided else None
    x = pipe.image_processor.preprocess(image, height=H, width=W).float()
    x_src = (vae.encode(x).latent_dist.mode() - vae.config.shift_factor) * vae.config.scaling_factor
    store["x_src"] = x_src.clone()
    m = None
    if mask_img is not None:
        mt = torch.from_numpy((np.array(mask_img.convert("L")) / 255.0 >= 0.5).astype(np.float32))
        m = torch.nn.functional.interpolate(mt[None, None], size=(H // 8, W // 8), mode="nearest")
        store["latent_mask"] = m.clone()
    # The schedule exactly as ZImagePipeline sets it: its default sigmas, shifted by mu.
    cfg = sched.config
    mu = calculate_shift((x_src.shape[2] // 2) * (x_src.shape[3] // 2),
                         cfg.get("base_image_seq_len", 256), cfg.get("max_image_seq_len", 4096),
                         cfg.get("base_shift", 0.5), cfg.get("max_shift", 1.15))
    retrieve_timesteps(sched, spec["steps"], "cpu",
                       sigmas=get_default_z_image_sigmas(spec["steps"]), mu=mu)
    timesteps, sigmas = sched.timesteps, sched.sigmas
    store["scheduler.timesteps"], store["scheduler.sigmas"] = timesteps.clone(), sigmas.clone()
    gen = torch.Generator("cpu").manual_seed(spec["seed"])
    draws = 0

    def draw():
        nonlocal draws
        eps = torch.randn(x_src.shape, generator=gen, dtype=torch.float32)
        store[f"noise.{draws}"] = eps.clone()
        draws += 1
        return eps

    n, n_max, n_min, n_avg = spec["steps"], spec["n_max"], spec["n_min"], spec["n_avg"]
    z = x_src.clone()
    x_tar = eps_tail = None
    for i in range(n):
        if n - i > n_max:
            continue
        s, s_next = sigmas[i], sigmas[i + 1]
        t_model = ((1000 - timesteps[i].expand(1)) / 1000).float()
        if n - i > n_min:
            delta = torch.zeros_like(x_src)
            for _ in range(n_avg):
                eps = draw()
                z_src = s * eps + (1 - s) * x_src
                z_tar = z + z_src - x_src
                v_src = velocity(tr, z_src, t_model, src_cap, neg_cap, spec["source_guidance"])
                v_tar = velocity(tr, z_tar, t_model, tar_cap, neg_cap, spec["target_guidance"])
                delta = delta + (v_tar - v_src) * (1.0 / n_avg)
            z = z + (s_next - s) * delta
            if m is not None:
                z = x_src * (1 - m) + m * z
            store[f"step.{i - (n - n_max)}.latents"] = z.clone()
        else:
            if x_tar is None:
                eps_tail = draw()
                x_tar = z + (s * eps_tail + (1 - s) * x_src) - x_src
            v = velocity(tr, x_tar, t_model, tar_cap, neg_cap, spec["target_guidance"])
            x_tar = x_tar + (s_next - s) * v
            if m is not None:
                x_tar = (s_next * eps_tail + (1 - s_next) * x_src) * (1 - m) + m * x_tar
            store[f"step.{i - (n - n_max)}.latents"] = x_tar.clone()
    final = z if n_min == 0 else x_tar
    store["final_latents"] = final.clone()
    dec = vae.decode(final / vae.config.scaling_factor + vae.config.shift_factor).sample
    img = (dec / 2 + 0.5).clamp(0, 1)
    store["image"] = img.clone()
    return img, draws


def prefill_inpaint(pipe, image, mask_img, store):
    """diffusers' ZImageInpaintPipeline on the prefilled image; its randn draws are recorded."""
    draws = []
    orig = torch_utils.randn_tensor
    patched = []

    def rec(shape, *a, **k):
        out = orig(shape, *a, **k)
        store[f"randn.{len(draws)}"] = out.detach().clone()
        draws.append(list(shape))
        return out

    for name, mod in list(sys.modules.items()):
        if name.startswith("diffusers") and getattr(mod, "randn_tensor", None) is orig:
            mod.randn_tensor = rec
            patched.append(mod)

    def cb(p, i, t, kw):
        store[f"step.{i}.latents"] = kw["latents"].detach().clone()
        return {}

    try:
        out = pipe(prompt=PREFILL_CASE["prompt"], image=image, mask_image=mask_img, height=H,
                   width=W, num_inference_steps=PREFILL_CASE["steps"],
                   strength=PREFILL_CASE["strength"], guidance_scale=0.0,
                   generator=torch.Generator("cpu").manual_seed(PREFILL_CASE["seed"]),
                   max_sequence_length=MAX_SEQ, output_type="np",
                   callback_on_step_end=cb, callback_on_step_end_tensor_inputs=["latents"])
    finally:
        for mod in patched:
            mod.randn_tensor = orig
    last = max(int(k.split(".")[1]) for k in store if k.startswith("step."))
    store["final_latents"] = store[f"step.{last}.latents"].clone()
    return torch.from_numpy(out.images).permute(0, 3, 1, 2), draws


def save_case(name, store, meta, img):
    cdir = os.path.join(OUT, name)
    os.makedirs(cdir, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in store.items()}
    save_file(tensors, os.path.join(cdir, "tensors.safetensors"))
    png = (img[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    Image.fromarray(png, "RGB").save(os.path.join(cdir, "output.png"))
    with open(os.path.join(cdir, "meta.json"), "w") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["inputs", "cases"])
    ap.add_argument("--zedit", help="zedit binary, to make prefilled.png (cases)")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    if args.what == "inputs":
        make_inputs()
        return
    if args.zedit:
        prefill(args.zedit)
    image = Image.open(os.path.join(OUT, "input.png")).convert("RGB")
    mask = Image.open(os.path.join(OUT, "mask.png")).convert("L")
    pipe = ZImagePipeline.from_pretrained(MODEL, torch_dtype=torch.float32)
    cases = {}
    with torch.no_grad():
        for name, spec in FLOWEDIT_CASES.items():
            store = {}
            calls = Calls(pipe.transformer, store)
            img, draws = flowedit(pipe, spec, image, mask if spec["mask"] else None, store)
            calls.handle.remove()
            meta = dict(spec, kind="flowedit", width=W, height=H, input_image="input.png",
                        mask_image="mask.png" if spec["mask"] else None,
                        n_transformer_calls=calls.n, n_noise_draws=draws)
            save_case(name, store, meta, img)
            cases[name] = meta
        if not os.path.exists(os.path.join(OUT, "prefilled.png")):
            print("no prefilled.png (pass --zedit): skipping the prefill_inpaint case")
            return write_manifest(cases)
        inpaint = ZImageInpaintPipeline(**pipe.components)
        prefilled = Image.open(os.path.join(OUT, "prefilled.png")).convert("RGB")
        store = {}
        calls = Calls(inpaint.transformer, store)
        img, draws = prefill_inpaint(inpaint, prefilled, mask, store)
        calls.handle.remove()
        meta = dict(PREFILL_CASE, kind="prefill_inpaint", width=W, height=H,
                    input_image="prefilled.png", source_image="input.png",
                    mask_image="mask.png", n_transformer_calls=calls.n, randn_shapes=draws)
        save_case("prefill_inpaint", store, meta, img)
        cases["prefill_inpaint"] = meta
    write_manifest(cases)


def write_manifest(cases):
    files = sorted(
        os.path.relpath(os.path.join(d, f), OUT)
        for d, _, fs in os.walk(OUT) for f in fs if f not in ("manifest.json", "README.md")
    )
    manifest = dict(
        versions=dict(torch=torch.__version__, diffusers=diffusers.__version__,
                      numpy=np.__version__),
        model="tests/fixtures/zimage-tiny-b/tiny-zimage",
        recorded_from=recorded_from(os.path.dirname(MODEL), os.path.basename(MODEL)),
        cases={k: {"kind": v["kind"]} for k, v in cases.items()},
        sha256={f: sha256(os.path.join(OUT, f)) for f in files},
    )
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
    print("wrote", ", ".join(cases), "to", OUT)


if __name__ == "__main__":
    main()
