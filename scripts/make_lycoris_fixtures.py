#!/usr/bin/env python3
"""LyCORIS LoHa and LoKr adapters for the tiny Z-Image transformer of tests/fixtures/zimage-tiny-b, and the transformer
outputs their reference formulas give. Writes tests/fixtures/zimage-lycoris:

    /work/venv/bin/python scripts/make_lycoris_fixtures.py [--model DIR] [--out DIR]

The adapters are made by peft (`LoHaConfig` / `LoKrConfig`, on every linear a LoRA here
touches), their parameters drawn at random, and saved under LyCORIS's key names (LoHa rank 4, alpha 2; LoKr rank 2, alpha 3):

  loha  `lora_unet_<module with _>.hada_w1_a` [out, r], `.hada_w1_b` [r, in], `.hada_w2_a`,
        `.hada_w2_b`, `.alpha`: ΔW = (w1_a·w1_b) ⊙ (w2_a·w2_b) · alpha / r
  lokr  `lycoris_<module with _>.lokr_w1` [a, b] and `.lokr_w2_a` [c, r], `.lokr_w2_b` [r, d]
        (peft's split: w1 full, w2 decomposed), `.alpha`: ΔW = kron(w1, w2_a·w2_b) · alpha / r;
        plus the feed-forward w2 of layers.1 with both factors full (`.lokr_w1`, `.lokr_w2`),
        where LyCORIS (and ComfyUI) scale by 1 whatever the alpha

Expected outputs: the base weights plus weight·ΔW (LyCORIS's merge, as ComfyUI computes it),
run by diffusers, at weight 0.8 for each file and for both stacked (0.8 and -0.5). The merge is
checked against peft's own forward (its side path) on the peft-made modules first.
"""

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from diffusers import ZImageTransformer2DModel  # noqa: E402
from peft import LoHaConfig, LoKrConfig, inject_adapter_in_model  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_lora_fixtures as lf  # noqa: E402  (setup, module list, call inputs, runner, output)

RANK, ALPHA, SEED = 4, 2.0, 50
# peft keeps a LoKr factor full when the rank is at least half its side (8 here): rank 2 has
# every w2 decomposed, as LyCORIS writes them by default.
LOKR_RANK, LOKR_ALPHA = 2, 3.0
FULL_LOKR = "layers.1.feed_forward.w2"


def peft_adapter(model_dir, config, seed, spread):
    """A fresh base model with peft's adapter on every module, parameters N(0, spread²)."""
    model = ZImageTransformer2DModel.from_pretrained(model_dir, subfolder="transformer").eval()
    model = inject_adapter_in_model(config, model)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if ".hada_" in name or ".lokr_" in name:
                p.copy_(spread * torch.randn(p.shape, generator=g))
    return model


def adapter_params(model, kind):
    """{module: {part: tensor}} of the peft adapter ('hada' or 'lokr')."""
    out = {}
    for name, p in model.named_parameters():
        if f".{kind}_" not in name:
            continue
        module, rest = name.split(f".{kind}_", 1)
        part = f"{kind}_" + rest.replace(".default", "")
        out.setdefault(module, {})[part] = p.detach().clone()
    return out


def loha_delta(parts, alpha):
    r = parts["hada_w1_b"].shape[0]
    w1 = parts["hada_w1_a"] @ parts["hada_w1_b"]
    w2 = parts["hada_w2_a"] @ parts["hada_w2_b"]
    return w1 * w2 * (alpha / r)


def lokr_delta(parts, alpha):
    """LyCORIS: alpha / r when a factor is decomposed (r its inner size), else 1."""
    dim = None
    w1 = parts.get("lokr_w1")
    if w1 is None:
        dim = parts["lokr_w1_b"].shape[0]
        w1 = parts["lokr_w1_a"] @ parts["lokr_w1_b"]
    w2 = parts.get("lokr_w2")
    if w2 is None:
        dim = parts["lokr_w2_b"].shape[0]
        w2 = parts["lokr_w2_a"] @ parts["lokr_w2_b"]
    scale = alpha / dim if dim is not None else 1.0
    return torch.kron(w1, w2) * scale


def merged(base_sd, deltas_weights):
    sd = {k: v.clone() for k, v in base_sd.items()}
    for deltas, weight in deltas_weights:
        for m, d in deltas.items():
            sd[f"{m}.weight"] += weight * d
    return sd


def save(params, prefix, alpha, path):
    sd = {}
    for m, parts in params.items():
        key = prefix + m.replace(".", "_")
        for part, t in parts.items():
            sd[f"{key}.{part}"] = t.contiguous()
        sd[f"{key}.alpha"] = torch.tensor(alpha)
    save_file(sd, path)


def main():
    model_dir, out, cfg, (xs, ts, caps) = lf.setup("zimage-lycoris")
    targets = [m for m, _, _ in lf.modules(cfg)]
    base, base_sd, record = lf.base_record(model_dir, xs, ts, caps)

    checks = {}
    files = {}
    for kind, config, delta, prefix, seed in [
        ("hada", LoHaConfig(r=RANK, alpha=ALPHA, target_modules=targets), loha_delta, "lora_unet_", SEED),
        ("lokr", LoKrConfig(r=LOKR_RANK, alpha=LOKR_ALPHA, target_modules=targets), lokr_delta, "lycoris_", SEED + 1),
    ]:
        # LoHa multiplies two products: wider draws keep its effect comparable to LoKr's.
        model = peft_adapter(model_dir, config, seed, 0.3 if kind == "hada" else 0.1)
        params = adapter_params(model, kind)
        assert set(params) == set(targets), f"{kind}: peft adapted {sorted(set(params) ^ set(targets))}"
        by_peft = lf.run(model, xs, ts, caps)
        alpha = ALPHA if kind == "hada" else LOKR_ALPHA
        deltas = {m: delta(p, alpha) for m, p in params.items()}
        base.load_state_dict(merged(base_sd, [(deltas, 1.0)]))
        ours = lf.run(base, xs, ts, caps)
        checks[kind] = max(float((a - b).abs().max()) for a, b in zip(ours, by_peft))
        assert checks[kind] < 1e-5, f"{kind}: the formula disagrees with peft by {checks[kind]}"
        if kind == "lokr":
            g = torch.Generator().manual_seed(SEED + 2)
            p = params[FULL_LOKR]
            a, b = p["lokr_w1"].shape
            c = p["lokr_w2_a"].shape[0]
            d = p["lokr_w2_b"].shape[1]
            params[FULL_LOKR] = {"lokr_w1": 0.1 * torch.randn(a, b, generator=g), "lokr_w2": 0.1 * torch.randn(c, d, generator=g)}
            deltas[FULL_LOKR] = delta(params[FULL_LOKR], alpha)
        name = "loha" if kind == "hada" else "lokr"
        save(params, prefix, alpha, os.path.join(out, f"{name}.safetensors"))
        files[name] = deltas
        print(f"{name}: formula vs peft {checks[kind]:.2e}")

    cases = {"loha": [("loha", 0.8)], "lokr": [("lokr", 0.8)], "stack": [("loha", 0.8), ("lokr", -0.5)]}
    meta = {"loha": {"rank": RANK, "alpha": ALPHA}, "lokr": {"rank": LOKR_RANK, "alpha": LOKR_ALPHA}, "calls": lf.CALLS, "formula_vs_peft": checks, "cases": {}}
    meta["recorded_from"] = lf.transformer_recorded_from(model_dir)
    for name, fw in cases.items():
        base.load_state_dict(merged(base_sd, [(files[f], w) for f, w in fw]))
        outs = lf.run(base, xs, ts, caps)
        moved = 0.0
        for i, o in enumerate(outs):
            record[f"out.{name}.{i}"] = o
            moved = max(moved, float((o - record[f"out.base.{i}"]).abs().max()))
        meta["cases"][name] = {"loras": [[f"{f}.safetensors", w] for f, w in fw], "max_abs_change_from_base": moved}
        print(f"{name}: output moves by up to {moved:.3f} from the base model's")
    lf.write_reference(out, record, meta)


if __name__ == "__main__":
    main()
