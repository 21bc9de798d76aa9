#!/usr/bin/env python3
"""Quantize a tiny random-weight Z-Image transformer to GGUF in the community layout, and record
what diffusers computes with it. Writes tests/fixtures/zimage-gguf by default:

    /work/venv/bin/python scripts/make_gguf_fixtures.py [--out DIR]

The layout is the one ComfyUI-GGUF's `tools/convert.py` (architecture `lumina2`) and
stable-diffusion.cpp read for Z-Image: the original Z-Image module names (`x_embedder.`,
`final_layer.`, `layers.N.attention.qkv` fused, `.attention.out`, `.attention.q_norm`,
`.attention.k_norm`), optionally under `model.diffusion_model.`. The script checks that
diffusers' own single-file converter (`convert_z_image_transformer_checkpoint_to_diffusers`)
maps these names back onto the diffusers model exactly.

Which tensor gets which type follows ComfyUI-GGUF's convert.py plus its llama.cpp quantize patch:
1-D tensors and tensors of at most 1024 values stay F32; `t_embedder.`, `x_embedder.`,
`final_layer.`, `cap_embedder.`, `context_refiner.` and `noise_refiner.` stay F16; the rest gets
the target type, or llama.cpp's fallback when a row is not a multiple of the type's block
(Q4_K -> Q5_0, Q5_K -> Q5_1, then F16). The `mixed` file gives the quantizable tensors the types
Q5_K, Q4_0, BF16, Q8_0, F16, Q4_K, F32 in turn (refiners included) and carries the
`model.diffusion_model.` prefix.

The `gguf` package (llama.cpp's) quantizes Q8_0, Q4_0, Q5_0, Q5_1, BF16 and F16; it can only
dequantize Q4_K and Q5_K, so those two are packed here (a plain min/scale fit per 32-value
sub-block, in ggml's bit layout) and checked by unpacking them with `gguf.quants.dequantize`.

Files written:
  <out>/config.json                 the diffusers config of the transformer (dim 256, so K-quant
                                    rows of 256 fit; head_dim 128 and axes 32/48/48 as the real model)
  <out>/z_image_tiny-{Q8_0,Q4_K,mixed}.gguf
  <out>/reference.safetensors       inputs of two transformer calls (x.i, t.i, cap.i), the f32
                                    model's output (out_f32.i) and diffusers' output with each
                                    file's dequantized weights (out_dequant.<type>.i)
  <out>/meta.json                   per file: sha256, size, tensor types; per call: max|diff| of
                                    each file's dequantized output to the f32 output
"""

import argparse
import hashlib
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gguf  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from diffusers import ZImageTransformer2DModel  # noqa: E402
from diffusers.loaders.single_file_utils import (  # noqa: E402
    convert_z_image_transformer_checkpoint_to_diffusers,
)
from safetensors.torch import save_file  # noqa: E402

Q = gguf.GGMLQuantizationType

CONFIG = dict(
    all_patch_size=(2,),
    all_f_patch_size=(1,),
    in_channels=16,
    dim=256,
    n_layers=2,
    n_refiner_layers=1,
    n_heads=2,
    n_kv_heads=2,
    norm_eps=1e-5,
    qk_norm=True,
    cap_feat_dim=32,  # the hidden size of tests/fixtures/zimage-tiny-b's text encoder
    rope_theta=256.0,
    t_scale=1000.0,
    axes_dims=[32, 48, 48],
    axes_lens=[1536, 512, 512],
)
SEED, PERTURB_SEED = 20, 21
EXCLUDED = (
    "t_embedder.",
    "x_embedder.",
    "final_layer.",
    "cap_embedder.",
    "context_refiner.",
    "noise_refiner.",
)
FALLBACK = {Q.Q4_K: Q.Q5_0, Q.Q5_K: Q.Q5_1}
MIXED_CYCLE = [Q.Q5_K, Q.Q4_0, Q.BF16, Q.Q8_0, Q.F16, Q.Q4_K, Q.F32]
PREFIX = "model.diffusion_model."
# (latent h, latent w, caption rows, t, seed) of each recorded call
CALLS = [(8, 8, 35, 0.25, 100), (6, 10, 7, 0.9, 200)]


def build_model():
    torch.manual_seed(SEED)
    model = ZImageTransformer2DModel(**CONFIG).eval()
    g = torch.Generator().manual_seed(PERTURB_SEED)
    with torch.no_grad():
        for _, p in model.named_parameters():
            flat = p.detach().reshape(-1)
            if flat.numel() > 0 and bool(torch.all(flat == flat[0])):
                p.add_(0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return model


def to_community(sd):
    """diffusers names -> the original Z-Image names the GGUF files use (q/k/v fused)."""
    out = {}
    for k, v in sd.items():
        if ".attention.to_k." in k or ".attention.to_v." in k:
            continue
        if k.endswith(".attention.to_q.weight"):
            base = k[: -len(".attention.to_q.weight")]
            parts = [sd[f"{base}.attention.to_{p}.weight"] for p in "qkv"]
            out[f"{base}.attention.qkv.weight"] = torch.cat(parts, 0)
            continue
        for a, b in [
            ("all_final_layer.2-1.", "final_layer."),
            ("all_x_embedder.2-1.", "x_embedder."),
            (".attention.to_out.0.", ".attention.out."),
            (".attention.norm_q.", ".attention.q_norm."),
            (".attention.norm_k.", ".attention.k_norm."),
        ]:
            k = k.replace(a, b)
        out[k] = v
    return out


def block_size(t):
    return gguf.GGML_QUANT_SIZES[t][0]


def fit(t, row):
    """llama.cpp's choice for a row length the type's block does not divide."""
    if row % block_size(t) == 0:
        return t
    alt = FALLBACK.get(t)
    if alt is not None and row % block_size(alt) == 0:
        return alt
    return Q.F16


def comfy_type(name, arr, target):
    if arr.ndim == 1 or arr.numel() <= 1024:
        return Q.F32
    if name.startswith(EXCLUDED):
        return Q.F16
    return fit(target, arr.shape[-1])


def k_quant(x, bits):
    """Q4_K (bits 4) or Q5_K (bits 5) blocks of rows `x` [n, k], k % 256 == 0, as uint8
    [n, k / 256 * block bytes] in ggml's layout: d, dmin (f16), 12 bytes of 6-bit scales and
    mins, [qh (Q5_K)], qs. Each 32-value sub-block is x ~ d*sc*q - dmin*m."""
    n, k = x.shape
    sub = x.reshape(-1, 8, 32).astype(np.float32)
    top = (1 << bits) - 1
    lo = np.minimum(sub.min(-1), 0.0)
    scale = (sub.max(-1) - lo) / top
    mins = -lo
    d = (scale.max(-1) / 63).astype(np.float16)
    dmin = (mins.max(-1) / 63).astype(np.float16)
    df, dminf = d.astype(np.float32)[:, None], dmin.astype(np.float32)[:, None]
    ls = np.clip(np.round(np.divide(scale, df, out=np.zeros_like(scale), where=df > 0)), 0, 63)
    lm = np.clip(np.round(np.divide(mins, dminf, out=np.zeros_like(mins), where=dminf > 0)), 0, 63)
    es, em = (df * ls)[..., None], (dminf * lm)[..., None]
    q = np.divide(sub + em, es, out=np.zeros_like(sub), where=es > 0)
    q = np.clip(np.round(q), 0, top).astype(np.uint8).reshape(-1, 256)
    ls, lm = ls.astype(np.uint8), lm.astype(np.uint8)
    sc = np.zeros((ls.shape[0], 12), np.uint8)
    sc[:, 0:4] = ls[:, 0:4] | ((ls[:, 4:8] >> 4) << 6)
    sc[:, 4:8] = lm[:, 0:4] | ((lm[:, 4:8] >> 4) << 6)
    sc[:, 8:12] = (ls[:, 4:8] & 0xF) | ((lm[:, 4:8] & 0xF) << 4)
    chunks = q.reshape(-1, 4, 2, 32)  # 64-value chunks: low nibbles, then high nibbles
    qs = ((chunks[:, :, 0] & 0xF) | ((chunks[:, :, 1] & 0xF) << 4)).reshape(-1, 128)
    parts = [d.view(np.uint8).reshape(-1, 2), dmin.view(np.uint8).reshape(-1, 2), sc]
    if bits == 5:
        qh = np.zeros((q.shape[0], 32), np.uint8)
        for c in range(4):
            qh |= ((chunks[:, c, 0] >> 4) & 1) << (2 * c)
            qh |= ((chunks[:, c, 1] >> 4) & 1) << (2 * c + 1)
        parts.append(qh)
    parts.append(qs.astype(np.uint8))
    return np.concatenate(parts, axis=1).reshape(n, -1)


def quantize(arr, t):
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if t in (Q.Q4_K, Q.Q5_K):
        data = k_quant(arr.reshape(-1, arr.shape[-1]), 4 if t == Q.Q4_K else 5)
        back = gguf.quants.dequantize(data, t).reshape(arr.shape)
        err = np.abs(back - arr).max()
        bound = 0.5 * np.abs(arr).max()
        assert err < bound, f"{t.name} packing is wrong: max error {err} (values up to {bound * 2})"
        return data
    return gguf.quants.quantize(arr, t)


def write_gguf(path, tensors, types, prefix="", file_type=None):
    w = gguf.GGUFWriter(path, arch="lumina2")
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    if file_type is not None:
        w.add_file_type(file_type)
    finish(w, tensors, types, prefix)


def finish(w, tensors, types, prefix=""):
    """Adds `tensors` to the GGUF writer `w`, each quantized to its type, and writes the file."""
    for name, v in tensors.items():
        w.add_tensor(prefix + name, quantize(v.numpy(), types[name]), raw_dtype=types[name])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def read_dequantized(path):
    """The file's tensors as float32 torch tensors, names as stored."""
    r = gguf.GGUFReader(path)
    out = {}
    for t in r.tensors:
        shape = [int(s) for s in reversed(t.shape.tolist())]
        arr = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        out[t.name] = torch.from_numpy(arr.reshape(shape).copy())
    return out


def call_inputs():
    xs, ts, caps = [], [], []
    for h, w, lcap, t, seed in CALLS:
        g = torch.Generator().manual_seed(seed)
        xs.append(torch.randn(16, 1, h, w, generator=g))
        caps.append(torch.randn(lcap, CONFIG["cap_feat_dim"], generator=g))
        ts.append(torch.tensor([t], dtype=torch.float32))
    return xs, ts, caps


@torch.no_grad()
def run(model, xs, ts, caps):
    return [model([x], t, [c], return_dict=False)[0][0] for x, t, c in zip(xs, ts, caps)]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "zimage-gguf"))
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)

    model = build_model()
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    community = to_community(sd)
    back = convert_z_image_transformer_checkpoint_to_diffusers(dict(community))
    assert set(back) == set(sd), f"name mismatch: {set(back) ^ set(sd)}"
    assert all(torch.equal(back[k], sd[k]) for k in sd), "diffusers' converter disagrees"

    files = {}
    for label, target, ftype in [
        ("Q8_0", Q.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
        ("Q4_K", Q.Q4_K, gguf.LlamaFileType.MOSTLY_Q4_K_M),
    ]:
        files[label] = ({k: comfy_type(k, v, target) for k, v in community.items()}, "", ftype)
    mixed, i = {}, 0
    for k, v in community.items():
        if v.ndim == 1 or v.numel() <= 1024:
            mixed[k] = Q.F32
            continue
        mixed[k] = fit(MIXED_CYCLE[i % len(MIXED_CYCLE)], v.shape[-1])
        i += 1
    files["mixed"] = (mixed, PREFIX, None)

    xs, ts, caps = call_inputs()
    record = {}
    for i, (x, t, c) in enumerate(zip(xs, ts, caps)):
        record[f"x.{i}"], record[f"t.{i}"], record[f"cap.{i}"] = x, t, c
    for i, o in enumerate(run(model, xs, ts, caps)):
        record[f"out_f32.{i}"] = o

    meta = {"config": CONFIG, "calls": CALLS, "prefix_of_mixed": PREFIX, "files": {}}
    for label, (types, prefix, ftype) in files.items():
        path = os.path.join(out, f"z_image_tiny-{label}.gguf")
        write_gguf(path, community, types, prefix, ftype)
        deq = read_dequantized(path)
        deq = {k.removeprefix(PREFIX): v for k, v in deq.items()}
        model.load_state_dict(convert_z_image_transformer_checkpoint_to_diffusers(deq), strict=True)
        outs = run(model, xs, ts, caps)
        diffs = []
        for i, o in enumerate(outs):
            record[f"out_dequant.{label}.{i}"] = o
            diffs.append(float((o - record[f"out_f32.{i}"]).abs().max()))
        counts = {}
        for t in types.values():
            counts[t.name] = counts.get(t.name, 0) + 1
        meta["files"][label] = {
            "file": os.path.basename(path),
            "sha256": sha256(path),
            "bytes": os.path.getsize(path),
            "type_counts": counts,
            "types": {prefix + k: t.name for k, t in types.items()},
            "dequantized_vs_f32_max_abs": diffs,
        }
        print(f"{label}: {os.path.getsize(path)} bytes, {counts}, |dequant - f32| {diffs}")
    model.load_state_dict(sd)
    save_file({k: v.contiguous() for k, v in record.items()}, os.path.join(out, "reference.safetensors"))
    cfg = {"_class_name": "ZImageTransformer2DModel", **CONFIG}
    cfg["all_patch_size"], cfg["all_f_patch_size"] = list(CONFIG["all_patch_size"]), list(CONFIG["all_f_patch_size"])
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    meta["f32_output_max_abs"] = [float(record[f"out_f32.{i}"].abs().max()) for i in range(len(CALLS))]
    meta["versions"] = {"torch": torch.__version__, "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "0.19"}
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)


if __name__ == "__main__":
    main()
