#!/usr/bin/env python3
"""Quantize Qwen3 text encoders to GGUF in llama.cpp's layout, split GGUF files into llama.cpp
shards, and record what transformers computes. Writes tests/fixtures/zimage-gguf-te by default:

    /work/venv/bin/python scripts/make_gguf_text_encoder_fixtures.py [--out DIR]

The layout is llama.cpp's `qwen3` architecture as `convert_hf_to_gguf.py` writes it (names from
gguf-py's tensor mapping, checked here with `gguf.get_tensor_name_map`): `token_embd.weight`,
`blk.N.attn_norm`, `attn_q`, `attn_k`, `attn_v`, `attn_output`, `attn_q_norm`, `attn_k_norm`,
`ffn_norm`, `ffn_gate`, `ffn_up`, `ffn_down`, `output_norm.weight`, and the `qwen3.*` metadata
(`embedding_length`, `block_count`, `feed_forward_length`, `attention.head_count`,
`attention.head_count_kv`, `attention.key_length`, `attention.value_length`, `rope.freq_base`,
`attention.layer_norm_rms_epsilon`, `context_length`). llama.cpp permutes q/k only for its
`llama` family (interleaved RoPE); qwen3 runs NEOX RoPE, so its q/k rows are stored as in
transformers, and so they are here.

Two encoders:
  tiny  the text encoder of tests/fixtures/zimage-tiny-b (hidden 32; in the repository, so that
        these references never depend on a set outside it). Its rows (32, 64 and 96 values) fit
        Q8_0 and the other 32-value blocks but no K-quant (256 values), so its files are Q8_0
        and a mixed one.
  wide  a random Qwen3 (hidden 256, 4 heads of 64, 2 kv heads, intermediate 512, 3 layers,
        vocab 512): rows of 256 and 512, so Q4_K applies to every matrix.

Files (each with norms F32 and one float matrix, `blk.0.ffn_down`, F16, as mixed files have):
  qwen3_tiny-Q8_0.gguf    every other matrix Q8_0 (token_embd included)
  qwen3_tiny-mixed.gguf   the matrices in turn Q8_0, Q5_0, Q4_0, BF16, Q5_1, Q4_1, F16
  qwen3_wide-Q8_0.gguf, qwen3_wide-Q4_K.gguf
  qwen3_wide-mixed.gguf   the wide matrices in turn Q5_K, Q4_K, Q8_0, Q4_0, BF16, Q5_0
  qwen3_tiny-Q8_0-0000N-of-00003.gguf   the tiny Q8_0 file in three llama.cpp shards
                                         (`split.no`, `split.count`, `split.tensors.count`)
  z_image_tiny-Q4_K-0000N-of-00003.gguf the Z-Image transformer fixture's Q4_K file
                                         (tests/fixtures/zimage-gguf) in three shards
  wide_config.json        the wide encoder's transformers config
  reference.safetensors   per encoder and case: ids (`<enc>.ids.i`, int64), hidden_states[-2]
                          of the f32 model (`<enc>.f32.i`), and of transformers run on each
                          file's dequantized weights (`<enc>.dequant.<label>.i`)
  meta.json               per file: sha256, size, types; per case: max|dequant - f32|
"""

import argparse
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gguf  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import Qwen3Config, Qwen3Model  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_gguf_fixtures as dit  # noqa: E402  (its K-quant packer, transformer rules and GGUF writing)
from make_lora_fixtures import recorded_from  # noqa: E402

Q = gguf.GGMLQuantizationType
HERE = os.path.dirname(os.path.abspath(__file__))
TINY = os.path.join(HERE, "..", "tests", "fixtures", "zimage-tiny-b")
WIDE = dict(
    vocab_size=512,
    hidden_size=256,
    intermediate_size=512,
    num_hidden_layers=3,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=64,
    rms_norm_eps=1e-6,
    rope_theta=1e6,
    max_position_embeddings=1024,
    tie_word_embeddings=True,
    attention_bias=False,
)
WIDE_SEED = 30
MIXED_CYCLE = [Q.Q8_0, Q.Q5_0, Q.Q4_0, Q.BF16, Q.Q5_1, Q.Q4_1, Q.F16]
WIDE_MIXED_CYCLE = [Q.Q5_K, Q.Q4_K, Q.Q8_0, Q.Q4_0, Q.BF16, Q.Q5_0]
FLOAT_MATRIX = "blk.0.ffn_down.weight"
SHARDS = 3


def gguf_names(n_layers):
    """transformers Qwen3Model names -> llama.cpp names, from gguf-py's own mapping."""
    m = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN3, n_layers)
    out = {}
    for hf in ["embed_tokens", "norm"]:
        out[f"{hf}.weight"] = m.get_name(f"model.{hf}") + ".weight"
    for i in range(n_layers):
        for part in [
            "input_layernorm", "post_attention_layernorm",
            "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
            "self_attn.q_norm", "self_attn.k_norm",
            "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj",
        ]:
            out[f"layers.{i}.{part}.weight"] = m.get_name(f"model.layers.{i}.{part}") + ".weight"
    return out


def types_for(tensors, target):
    """Norms F32, `FLOAT_MATRIX` F16, the other matrices `target` (a list: in turn)."""
    types, i = {}, 0
    for name, v in tensors.items():
        if v.ndim == 1:
            types[name] = Q.F32
        elif name == FLOAT_MATRIX:
            types[name] = Q.F16
        else:
            t = target[i % len(target)]
            assert v.shape[-1] % dit.block_size(t) == 0, f"{name} {tuple(v.shape)} cannot be {t.name}"
            types[name] = t
            i += 1
    return types


def write(path, tensors, types, cfg, split=0):
    w = gguf.GGUFWriter(path, arch="qwen3", split_max_tensors=split)
    w.add_name("zedit fixture")
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_key_length(cfg.head_dim)
    w.add_value_length(cfg.head_dim)
    w.add_rope_freq_base(cfg.rope_theta if hasattr(cfg, "rope_theta") else cfg.rope_parameters["rope_theta"])
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    dit.finish(w, tensors, types)


def dequantized(paths, back):
    """The files' tensors as float32, under transformers names."""
    out = {}
    for p in paths:
        for t in gguf.GGUFReader(p).tensors:
            shape = [int(s) for s in reversed(t.shape.tolist())]
            arr = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
            out[back[t.name]] = torch.from_numpy(arr.reshape(shape).copy())
    return out


@torch.no_grad()
def hidden_m2(model, ids):
    out = model(input_ids=ids[None], output_hidden_states=True)
    return out.hidden_states[-2][0]


def tiny_cases():
    """The prompt ids of the tiny set's t2i and img2img cases (unpadded), and a sequence
    of random ids."""
    from safetensors.torch import load_file

    cases = []
    for case in ["t2i", "img2img"]:
        t = load_file(os.path.join(TINY, "fixtures", case, "tensors.safetensors"))
        mask = t["text_encoder.0.attention_mask"][0].bool()
        cases.append(t["text_encoder.0.input_ids"][0][mask].clone())
    cases.append(torch.randint(0, 512, (19,), generator=torch.Generator().manual_seed(5)))
    return cases


def wide_model():
    torch.manual_seed(WIDE_SEED)
    cfg = Qwen3Config(**WIDE)
    model = Qwen3Model(cfg).eval()
    g = torch.Generator().manual_seed(WIDE_SEED + 1)
    with torch.no_grad():
        for _, p in model.named_parameters():
            if p.ndim == 1:  # norm gains start at 1: perturb them so a port cannot ignore them
                p.add_(0.1 * torch.randn(p.shape, generator=g))
    return model, cfg


def shard_transformer(out):
    """The transformer fixture's Q4_K file, tensor for tensor, in three shards."""
    model = dit.build_model()
    community = dit.to_community({k: v.detach().clone() for k, v in model.state_dict().items()})
    types = {k: dit.comfy_type(k, v, Q.Q4_K) for k, v in community.items()}
    per = -(-len(community) // SHARDS)
    base = os.path.join(out, "z_image_tiny-Q4_K.gguf")
    w = gguf.GGUFWriter(base, arch="lumina2", split_max_tensors=per)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    dit.finish(w, community, types)
    return [os.path.join(out, f"z_image_tiny-Q4_K-{i:05d}-of-{SHARDS:05d}.gguf") for i in range(1, SHARDS + 1)]


def describe(paths, types):
    counts = {}
    for t in types.values():
        counts[t.name] = counts.get(t.name, 0) + 1
    return {
        "files": [os.path.basename(p) for p in paths],
        "sha256": [dit.sha256(p) for p in paths],
        "bytes": sum(os.path.getsize(p) for p in paths),
        "type_counts": counts,
        "types": {k: t.name for k, t in types.items()},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "..", "tests", "fixtures", "zimage-gguf-te"))
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)

    tiny = Qwen3Model.from_pretrained(os.path.join(TINY, "tiny-zimage", "text_encoder")).eval()
    wide, wide_cfg = wide_model()
    g = torch.Generator().manual_seed(6)
    encoders = {
        "tiny": (tiny, tiny.config, tiny_cases()),
        "wide": (wide, wide_cfg, [torch.randint(0, 512, (n,), generator=g) for n in (40, 9)]),
    }
    record, meta = {}, {"files": {}, "cases": {}}
    for enc, (model, cfg, cases) in encoders.items():
        names = gguf_names(cfg.num_hidden_layers)
        back = {v: k for k, v in names.items()}
        tensors = {names[k]: v.detach().clone() for k, v in model.state_dict().items()}
        assert set(tensors) == set(back), "every weight has a llama.cpp name"
        for i, ids in enumerate(cases):
            record[f"{enc}.ids.{i}"] = ids.to(torch.int64)
            record[f"{enc}.f32.{i}"] = hidden_m2(model, ids)
        meta["cases"][enc] = [int(c.numel()) for c in cases]
        targets = {"Q8_0": [Q.Q8_0]}
        if enc == "tiny":
            targets["mixed"] = MIXED_CYCLE
        else:
            targets["Q4_K"] = [Q.Q4_K]
            targets["mixed"] = WIDE_MIXED_CYCLE
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        for label, target in targets.items():
            types = types_for(tensors, target)
            path = os.path.join(out, f"qwen3_{enc}-{label}.gguf")
            write(path, tensors, types, cfg)
            model.load_state_dict(dequantized([path], back), strict=True)
            diffs = []
            for i, ids in enumerate(cases):
                o = hidden_m2(model, ids)
                record[f"{enc}.dequant.{label}.{i}"] = o
                diffs.append(float((o - record[f"{enc}.f32.{i}"]).abs().max()))
            info = describe([path], types)
            info["dequantized_vs_f32_max_abs"] = diffs
            meta["files"][f"{enc}-{label}"] = info
            print(f"{enc} {label}: {info['bytes']} bytes, {info['type_counts']}, |dequant - f32| {diffs}")
            if enc == "tiny" and label == "Q8_0":
                per = -(-len(tensors) // SHARDS)
                write(path, tensors, types, cfg, split=per)
                shards = [os.path.join(out, f"qwen3_tiny-Q8_0-{i:05d}-of-{SHARDS:05d}.gguf") for i in range(1, SHARDS + 1)]
                assert dequantized(shards, back).keys() == dequantized([path], back).keys()
                meta["files"]["tiny-Q8_0-shards"] = describe(shards, types)
        model.load_state_dict(state)
        meta[f"{enc}_config"] = {k: getattr(cfg, k) for k in WIDE if hasattr(cfg, k)}
    shards = shard_transformer(out)
    meta["files"]["transformer-Q4_K-shards"] = {
        "files": [os.path.basename(p) for p in shards],
        "sha256": [dit.sha256(p) for p in shards],
        "bytes": sum(os.path.getsize(p) for p in shards),
    }
    wide_json = wide_cfg.to_dict()
    wide_json["architectures"] = ["Qwen3Model"]
    with open(os.path.join(out, "wide_config.json"), "w") as f:
        json.dump(wide_json, f, indent=2, default=str)
    save_file({k: v.contiguous() for k, v in record.items()}, os.path.join(out, "reference.safetensors"))
    meta["versions"] = {"torch": torch.__version__, "gguf": "0.19"}
    meta["recorded_from"] = recorded_from(
        TINY, "tiny-zimage/text_encoder", "fixtures/t2i/tensors.safetensors", "fixtures/img2img/tensors.safetensors"
    )
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2, default=str)


if __name__ == "__main__":
    main()
