#!/usr/bin/env python3
"""LoRAs for the tiny Z-Image transformer of tests/fixtures/zimage-tiny-b in each key format people bring, and the
transformer outputs the references compute with them. Writes tests/fixtures/zimage-lora:

    /work/venv/bin/python scripts/make_lora_fixtures.py [--model DIR] [--out DIR]

The base model is tests/fixtures/zimage-tiny-b/tiny-zimage (dim 48, 3 layers, 1 refiner each), in
the repository so that the references never depend on a set outside it.
Every LoRA is random (down and up N(0, 0.1), rank 4) with alpha 2, so its scale is alpha/rank
times the weight asked for. Formats:

  ai_toolkit   `diffusion_model.<module>.lora_A.weight` / `.lora_B.weight` / `.alpha`
  diffusers    `transformer.<module>.lora_A.weight` / `.lora_B.weight` (peft layout, no alpha)
  kohya        `lora_unet_<module with _>.lora_down.weight` / `.lora_up.weight` / `.alpha`
               (the musubi-tuner / sd-scripts layout)
  comfy_qkv    the original Z-Image names as ComfyUI keys them:
               `diffusion_model.layers.N.attention.qkv.lora_up.weight` ([3*dim, rank], q/k/v
               stacked), `.attention.out`, `.feed_forward.w1`..., with `.alpha`
  partial      kohya keys for layers.0 plus keys for a layer the model lacks (layers.9)

Expected outputs: diffusers' own LoRA loading (`ZImagePipeline.lora_state_dict` then
`load_lora_into_transformer` and `set_adapters`, i.e. peft's side path) for ai_toolkit,
diffusers, kohya, partial and a stack of two; diffusers cannot load a fused qkv LoRA, so
comfy_qkv uses ComfyUI's merge (W += weight * alpha/rank * up @ down on the fused weight, then
the q/k/v rows). That merge is checked against diffusers on the kohya file first.

Also written, for refusals: `other_model` (a kohya LoRA for a model 32 wider) and `text_encoder`
(kohya text-encoder keys only).
"""

import argparse
import hashlib
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from diffusers import ZImagePipeline, ZImageTransformer2DModel  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

RANK, ALPHA, SEED = 4, 2.0, 30
CALLS = [(8, 8, 35, 0.25, 100), (6, 10, 7, 0.9, 200)]
HERE = os.path.dirname(os.path.abspath(__file__))


def modules(cfg):
    """(diffusers module name, out, in) of the linears a LoRA here touches."""
    d, ffn = cfg["dim"], int(cfg["dim"] / 3 * 8)
    ada = min(d, 256)
    out = []
    blocks = [(f"noise_refiner.{i}", True) for i in range(cfg["n_refiner_layers"])]
    blocks += [(f"context_refiner.{i}", False) for i in range(cfg["n_refiner_layers"])]
    blocks += [(f"layers.{i}", True) for i in range(cfg["n_layers"])]
    for b, modulated in blocks:
        for p in ["to_q", "to_k", "to_v", "to_out.0"]:
            out.append((f"{b}.attention.{p}", d, d))
        out += [(f"{b}.feed_forward.w1", ffn, d), (f"{b}.feed_forward.w2", d, ffn), (f"{b}.feed_forward.w3", ffn, d)]
        if modulated:
            out.append((f"{b}.adaLN_modulation.0", 4 * d, ada))
    return out


def random_lora(mods, seed):
    g = torch.Generator().manual_seed(seed)
    return {m: (0.1 * torch.randn(RANK, i, generator=g), 0.1 * torch.randn(o, RANK, generator=g)) for m, o, i in mods}


def kohya_name(m):
    return "lora_unet_" + m.replace(".", "_")


def save_kohya(lora, path, extra=None):
    sd = {}
    for m, (down, up) in lora.items():
        sd[f"{kohya_name(m)}.lora_down.weight"] = down
        sd[f"{kohya_name(m)}.lora_up.weight"] = up
        sd[f"{kohya_name(m)}.alpha"] = torch.tensor(ALPHA)
    sd.update(extra or {})
    save_file(sd, path)


def save_ai_toolkit(lora, path):
    sd = {}
    for m, (down, up) in lora.items():
        sd[f"diffusion_model.{m}.lora_A.weight"] = down
        sd[f"diffusion_model.{m}.lora_B.weight"] = up
        sd[f"diffusion_model.{m}.alpha"] = torch.tensor(ALPHA)
    save_file(sd, path)


def save_diffusers(lora, path):
    sd = {}
    for m, (down, up) in lora.items():
        sd[f"transformer.{m}.lora_A.weight"] = down
        sd[f"transformer.{m}.lora_B.weight"] = up
    save_file(sd, path)


def comfy_lora(cfg, seed):
    """Original-name modules: fused qkv [3d, r] up, attention.out, the FFN, adaLN."""
    d, ffn = cfg["dim"], int(cfg["dim"] / 3 * 8)
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: 0.1 * torch.randn(*s, generator=g)  # noqa: E731
    out = {}
    for i in range(cfg["n_layers"]):
        b = f"layers.{i}"
        out[f"{b}.attention.qkv"] = (r(RANK, d), r(3 * d, RANK))
        out[f"{b}.attention.out"] = (r(RANK, d), r(d, RANK))
        out[f"{b}.feed_forward.w2"] = (r(RANK, ffn), r(d, RANK))
        out[f"{b}.adaLN_modulation.0"] = (r(RANK, min(d, 256)), r(4 * d, RANK))
    return out


def save_comfy(lora, path):
    sd = {}
    for m, (down, up) in lora.items():
        sd[f"diffusion_model.{m}.lora_down.weight"] = down
        sd[f"diffusion_model.{m}.lora_up.weight"] = up
        sd[f"diffusion_model.{m}.alpha"] = torch.tensor(ALPHA)
    save_file(sd, path)


def merged(base_sd, lora, weight):
    """ComfyUI's merge: W += weight * alpha/rank * up @ down, on the original (fused) names."""
    sd = {k: v.clone() for k, v in base_sd.items()}
    for m, (down, up) in lora.items():
        delta = weight * (ALPHA / RANK) * (up @ down)
        if m.endswith(".attention.qkv"):
            b = m[: -len(".attention.qkv")]
            for p, part in zip("qkv", delta.chunk(3, 0)):
                sd[f"{b}.attention.to_{p}.weight"] += part
            continue
        name = m.replace(".attention.out", ".attention.to_out.0")
        sd[f"{name}.weight"] += delta
    return sd


def inputs(cap_dim):
    xs, ts, caps = [], [], []
    for h, w, lcap, t, seed in CALLS:
        g = torch.Generator().manual_seed(seed)
        xs.append(torch.randn(16, 1, h, w, generator=g))
        caps.append(torch.randn(lcap, cap_dim, generator=g))
        ts.append(torch.tensor([t], dtype=torch.float32))
    return xs, ts, caps


@torch.no_grad()
def run(model, xs, ts, caps):
    return [model([x], t, [c], return_dict=False)[0][0] for x, t, c in zip(xs, ts, caps)]


def with_diffusers(model_dir, files_weights, xs, ts, caps):
    model = ZImageTransformer2DModel.from_pretrained(model_dir, subfolder="transformer").eval()
    names = []
    for i, (path, _) in enumerate(files_weights):
        sd = ZImagePipeline.lora_state_dict(path)
        ZImagePipeline.load_lora_into_transformer(sd, transformer=model, adapter_name=f"a{i}")
        names.append(f"a{i}")
    model.set_adapters(names, weights=[w for _, w in files_weights])
    return run(model, xs, ts, caps)


def recorded_from(root, *parts):
    """The sha256 of each file under `parts` (folders or files) of the fixture set at `root`, by
    its path in the set as the set's manifest lists it: what a reference is recorded from, for
    its tests to check against the set the repository holds."""
    found = {}
    for part in parts:
        top = os.path.join(root, part)
        paths = [top] if os.path.isfile(top) else [os.path.join(d, f) for d, _, fs in os.walk(top) for f in fs]
        for p in paths:
            with open(p, "rb") as f:
                found[os.path.relpath(p, root).replace(os.sep, "/")] = hashlib.sha256(f.read()).hexdigest()
    assert found, f"nothing under {parts} in {root}"
    return dict(sorted(found.items()))


def transformer_recorded_from(model_dir):
    """`recorded_from` of the transformer of the model folder `model_dir`, by its path in its set."""
    return recorded_from(os.path.dirname(model_dir), os.path.basename(model_dir) + "/transformer")


def setup(fixture):
    """Parses --model and --out (default tests/fixtures/<fixture>); returns the model folder, the
    output folder (created), the transformer config and the call inputs (xs, ts, caps)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(HERE, "..", "tests", "fixtures", "zimage-tiny-b", "tiny-zimage"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "tests", "fixtures", fixture))
    args = ap.parse_args()
    model_dir, out = os.path.abspath(args.model), os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    with open(os.path.join(model_dir, "transformer", "config.json")) as f:
        cfg = json.load(f)
    return model_dir, out, cfg, inputs(cfg["cap_feat_dim"])


def base_record(model_dir, xs, ts, caps):
    """The base transformer, a copy of its weights, and the record of the call inputs and its
    outputs (`x.i`, `t.i`, `cap.i`, `out.base.i`)."""
    base = ZImageTransformer2DModel.from_pretrained(model_dir, subfolder="transformer").eval()
    base_sd = {k: v.clone() for k, v in base.state_dict().items()}
    record = {}
    for i, (x, t, c) in enumerate(zip(xs, ts, caps)):
        record[f"x.{i}"], record[f"t.{i}"], record[f"cap.{i}"] = x, t, c
    for i, o in enumerate(run(base, xs, ts, caps)):
        record[f"out.base.{i}"] = o
    return base, base_sd, record


def write_reference(out, record, meta):
    save_file({k: v.contiguous() for k, v in record.items()}, os.path.join(out, "reference.safetensors"))
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)


def main():
    model_dir, out, cfg, (xs, ts, caps) = setup("zimage-lora")
    mods = modules(cfg)
    p = lambda n: os.path.join(out, f"{n}.safetensors")  # noqa: E731

    save_ai_toolkit(random_lora(mods, SEED), p("ai_toolkit"))
    save_diffusers(random_lora(mods, SEED + 1), p("diffusers"))
    kohya = random_lora(mods, SEED + 2)
    save_kohya(kohya, p("kohya"))
    comfy = comfy_lora(cfg, SEED + 3)
    save_comfy(comfy, p("comfy_qkv"))
    part = {m: v for m, v in random_lora(mods, SEED + 4).items() if m.startswith("layers.0.")}
    g = torch.Generator().manual_seed(SEED + 5)
    stray = {
        "lora_unet_layers_9_attention_to_q.lora_down.weight": 0.1 * torch.randn(RANK, cfg["dim"], generator=g),
        "lora_unet_layers_9_attention_to_q.lora_up.weight": 0.1 * torch.randn(cfg["dim"], RANK, generator=g),
        "lora_unet_layers_9_attention_to_q.alpha": torch.tensor(ALPHA),
    }
    save_kohya(part, p("partial"), stray)
    head_dim = cfg["dim"] // cfg["n_heads"]
    other = dict(cfg, dim=cfg["dim"] + 32, n_heads=(cfg["dim"] + 32) // head_dim)
    save_kohya(random_lora(modules(other)[:4], SEED + 6), p("other_model"))
    g = torch.Generator().manual_seed(SEED + 7)
    te = "lora_te_text_model_encoder_layers_0_self_attn_q_proj"
    save_file(
        {
            f"{te}.lora_down.weight": 0.1 * torch.randn(RANK, 32, generator=g),
            f"{te}.lora_up.weight": 0.1 * torch.randn(32, RANK, generator=g),
            f"{te}.alpha": torch.tensor(ALPHA),
        },
        p("text_encoder"),
    )

    base_model, base_sd, record = base_record(model_dir, xs, ts, caps)

    # The merge used for comfy_qkv, checked against diffusers on the kohya file.
    base_model.load_state_dict(merged(base_sd, kohya, 0.8))
    check = run(base_model, xs, ts, caps)
    ref = with_diffusers(model_dir, [(p("kohya"), 0.8)], xs, ts, caps)
    merge_vs_diffusers = max(float((a - b).abs().max()) for a, b in zip(check, ref))
    assert merge_vs_diffusers < 1e-5, f"reference merge disagrees with diffusers: {merge_vs_diffusers}"

    cases = {
        "ai_toolkit": [("ai_toolkit", 0.8)],
        "diffusers": [("diffusers", 0.8)],
        "kohya": [("kohya", 0.8)],
        "partial": [("partial", 1.0)],
        "stack": [("ai_toolkit", 0.8), ("kohya", -0.5)],
    }
    meta = {"rank": RANK, "alpha": ALPHA, "calls": CALLS, "merge_vs_diffusers_on_kohya": merge_vs_diffusers, "cases": {}}
    for name, fw in cases.items():
        outs = with_diffusers(model_dir, [(p(f), w) for f, w in fw], xs, ts, caps)
        meta["cases"][name] = {"loras": [[f"{f}.safetensors", w] for f, w in fw], "reference": "diffusers"}
        for i, o in enumerate(outs):
            record[f"out.{name}.{i}"] = o
    base_model.load_state_dict(merged(base_sd, comfy, 0.8))
    for i, o in enumerate(run(base_model, xs, ts, caps)):
        record[f"out.comfy_qkv.{i}"] = o
    meta["cases"]["comfy_qkv"] = {"loras": [["comfy_qkv.safetensors", 0.8]], "reference": "ComfyUI merge"}
    meta["used_keys"] = {"partial": [len(part), len(part) + 1]}
    meta["recorded_from"] = transformer_recorded_from(model_dir)
    for name in meta["cases"]:
        d = max(float((record[f"out.{name}.{i}"] - record[f"out.base.{i}"]).abs().max()) for i in range(len(CALLS)))
        meta["cases"][name]["max_abs_change_from_base"] = d
        print(f"{name}: output moves by up to {d:.3f} from the base model's")
    write_reference(out, record, meta)


if __name__ == "__main__":
    main()
