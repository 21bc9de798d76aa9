#!/usr/bin/env python3
"""Builds the Segment Anything parity fixtures under tests/fixtures/sam/.

Tiny random-weight models are made with the reference code: `segment_anything` (SAM's ViT image
encoder, prompt encoder and mask decoder) and MobileSAM's `mobile_sam` package (TinyViT), which
is not on PyPI: pass a checkout of github.com/ChaoningZhang/MobileSAM with --mobile-sam-src.
Each model's weights are saved as safetensors under the reference state-dict names (the names
candle's segment_anything loader reads), rounded to f16 to keep the files small; both sides
compute in f32 from those same values. Each case runs the reference `SamPredictor`, so the
resize, normalisation, padding and mask post-processing are the reference's own.

    /work/venv/bin/python scripts/make_sam_fixtures.py --mobile-sam-src /tmp/mobilesam-src

Needs torch, torchvision, timm (MobileSAM imports it), numpy, pillow, safetensors.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

# A non-square image, smaller than the 1024 input, so the resize enlarges it.
IMAGE_W, IMAGE_H = 120, 78
# A larger one for the resize alone (the resize shrinks it, Pillow's filter then widens).
BIG_W, BIG_H = 1100, 700
# Large tensors are compared on every STRIDE-th element (and on their sums); the masks at the
# image's size are kept whole.
STRIDE = 61

CASES = [
    {"name": "point", "points": [[70.0, 40.0, 1]], "box": None},
    {"name": "negative_point", "points": [[70.0, 40.0, 1], [30.0, 20.0, 0]], "box": None},
    {"name": "box", "points": [], "box": [20.0, 15.0, 95.0, 66.0]},
    {"name": "point_box", "points": [[55.0, 35.0, 1]], "box": [20.0, 15.0, 95.0, 66.0]},
]

MOBILE_TINY = {
    "encoder": {
        "kind": "tiny_vit",
        "embed_dims": [8, 16, 16, 320],
        "depths": [1, 1, 1, 0],
        "num_heads": [1, 2, 2, 8],
        "window_sizes": [7, 7, 14, 7],
    },
    "image_size": 1024,
    "prompt_embed_dim": 256,
    "mask_in_chans": 16,
    "decoder": {
        "depth": 1,
        "num_heads": 8,
        "mlp_dim": 32,
        "num_multimask_outputs": 3,
        "iou_head_depth": 3,
        "iou_head_hidden_dim": 32,
    },
}

VIT_TINY = {
    "encoder": {
        "kind": "vit",
        "embed_dim": 16,
        "depth": 2,
        "num_heads": 2,
        "global_attn_indexes": [1],
        "window_size": 14,
        "patch_size": 16,
    },
    "image_size": 1024,
    "prompt_embed_dim": 32,
    "mask_in_chans": 16,
    "decoder": {
        "depth": 2,
        "num_heads": 4,
        "mlp_dim": 64,
        "num_multimask_outputs": 3,
        "iou_head_depth": 3,
        "iou_head_hidden_dim": 32,
    },
}


def picture(w, h, seed, noise=6.0):
    """A picture with smooth regions, edges and (optionally) a little noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 120 + 80 * np.sin(x / w * 5.0) * np.cos(y / h * 3.0)
    g = 90 + 60 * (x / w) + 50 * ((x - 0.6 * w) ** 2 + (y - 0.5 * h) ** 2 < (0.25 * h) ** 2)
    b = 60 + 150 * ((x > 0.15 * w) & (x < 0.45 * w) & (y > 0.2 * h) & (y < 0.7 * h))
    img = np.stack([r, g, b], axis=-1) + rng.normal(0, noise, (h, w, 3))
    # Fine stripes, so a resize that shrinks has detail to filter even without noise.
    img[..., 1] += 25 * np.sin(x * 1.7 + y * 0.3)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def build(package, cfg):
    """The reference Sam for `cfg`, from `package` (segment_anything or mobile_sam)."""
    m = package.modeling
    enc = cfg["encoder"]
    if enc["kind"] == "tiny_vit":
        image_encoder = m.TinyViT(
            img_size=cfg["image_size"],
            in_chans=3,
            num_classes=0,
            embed_dims=enc["embed_dims"],
            depths=enc["depths"],
            num_heads=enc["num_heads"],
            window_sizes=enc["window_sizes"],
            mlp_ratio=4.0,
            drop_rate=0.0,
            drop_path_rate=0.0,
            mbconv_expand_ratio=4.0,
            local_conv_size=3,
            layer_lr_decay=1.0,
        )
    else:
        from functools import partial

        image_encoder = m.ImageEncoderViT(
            depth=enc["depth"],
            embed_dim=enc["embed_dim"],
            img_size=cfg["image_size"],
            mlp_ratio=4,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            num_heads=enc["num_heads"],
            patch_size=enc["patch_size"],
            qkv_bias=True,
            use_rel_pos=True,
            global_attn_indexes=enc["global_attn_indexes"],
            window_size=enc["window_size"],
            out_chans=cfg["prompt_embed_dim"],
        )
    dim = cfg["prompt_embed_dim"]
    grid = cfg["image_size"] // 16
    dec = cfg["decoder"]
    sam = m.Sam(
        image_encoder=image_encoder,
        prompt_encoder=m.PromptEncoder(
            embed_dim=dim,
            image_embedding_size=(grid, grid),
            input_image_size=(cfg["image_size"], cfg["image_size"]),
            mask_in_chans=cfg["mask_in_chans"],
        ),
        mask_decoder=m.MaskDecoder(
            num_multimask_outputs=dec["num_multimask_outputs"],
            transformer=m.TwoWayTransformer(
                depth=dec["depth"],
                embedding_dim=dim,
                mlp_dim=dec["mlp_dim"],
                num_heads=dec["num_heads"],
            ),
            transformer_dim=dim,
            iou_head_depth=dec["iou_head_depth"],
            iou_head_hidden_dim=dec["iou_head_hidden_dim"],
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )
    return sam.eval()


def randomise(sam, seed):
    """Every weight random (norms, biases, position tables and running statistics included),
    so no parameter is left at an identity value that would hide a wrong load; rounded to f16."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in list(sam.named_parameters()) + list(sam.named_buffers()):
            # `ab` is TinyViT's gathered copy of `attention_biases`, rebuilt by eval() below.
            if not p.is_floating_point() or name.startswith("pixel_") or name.endswith(".ab"):
                continue
            leaf = name.rsplit(".", 1)[-1]
            if leaf == "running_var":
                v = 0.5 + torch.rand(p.shape, generator=g)
            elif leaf == "weight" and p.dim() == 1:
                v = 0.7 + 0.6 * torch.rand(p.shape, generator=g)
            elif p.dim() <= 1 or leaf in ("running_mean", "bias"):
                v = 0.1 * torch.randn(p.shape, generator=g)
            elif "positional_encoding_gaussian_matrix" in name:
                v = torch.randn(p.shape, generator=g)
            elif leaf in ("rel_pos_h", "rel_pos_w", "attention_biases", "pos_embed"):
                v = 0.3 * torch.randn(p.shape, generator=g)
            elif p.dim() >= 2 and "embed" in name and leaf == "weight" and p.dim() == 2 and (
                "point_embeddings" in name or "token" in name or "not_a_point" in name
                or "no_mask" in name
            ):
                v = torch.randn(p.shape, generator=g)
            else:
                fan_in = int(np.prod(p.shape[1:])) if p.dim() > 1 else p.shape[0]
                v = torch.randn(p.shape, generator=g) / np.sqrt(max(fan_in, 1))
            p.copy_(v.half().float())
    sam.eval()


def state_dict(sam):
    """The weights candle reads: no classifier head, no step counters or index tables."""
    out = {}
    for k, v in sam.state_dict().items():
        if k.endswith("num_batches_tracked") or "attention_bias_idxs" in k:
            continue
        if k.startswith("image_encoder.head.") or k.startswith("image_encoder.norm_head."):
            continue
        if k.startswith("pixel_"):
            continue
        out[k] = v.detach().contiguous().half()
    return out


def sampled(t):
    flat = t.detach().double().flatten()
    return flat[::STRIDE].float(), float(flat.sum()), float(flat.abs().sum())


def run_model(package, name, cfg, image, out_dir, seed):
    torch.manual_seed(seed)
    sam = build(package, cfg)
    randomise(sam, seed)
    model_dir = os.path.join(out_dir, name)
    os.makedirs(model_dir, exist_ok=True)
    save_file(state_dict(sam), os.path.join(model_dir, "model.safetensors"))
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")

    predictor = package.SamPredictor(sam)
    resized = predictor.transform.apply_image(image)
    resized_name = f"resized_{cfg['image_size']}.png"
    Image.fromarray(resized).save(os.path.join(out_dir, resized_name))
    with torch.no_grad():
        predictor.set_image(image)
        pre = sam.preprocess(
            torch.as_tensor(resized).permute(2, 0, 1).contiguous()[None].float()
        )
    tensors = {}
    summary = {}

    def keep(key, t):
        s, total, abs_total = sampled(t)
        tensors[key] = s.contiguous()
        summary[key] = {"shape": list(t.shape), "sum": total, "abs_sum": abs_total}

    keep("preprocessed", pre)
    keep("embedding", predictor.features)
    cases = []
    for case in CASES:
        pts = np.array([p[:2] for p in case["points"]], dtype=np.float64) if case["points"] else None
        labels = np.array([p[2] for p in case["points"]], dtype=np.int64) if case["points"] else None
        box = np.array(case["box"], dtype=np.float64) if case["box"] is not None else None
        with torch.no_grad():
            logits, iou, low_res = predictor.predict(
                point_coords=pts,
                point_labels=labels,
                box=box,
                multimask_output=True,
                return_logits=True,
            )
        key = case["name"]
        keep(f"{key}.low_res", torch.as_tensor(low_res))
        tensors[f"{key}.logits"] = torch.as_tensor(logits).float().contiguous()
        tensors[f"{key}.iou"] = torch.as_tensor(iou).float().contiguous()
        binary = (logits > 0.0).astype(np.uint8)
        tensors[f"{key}.masks"] = torch.as_tensor(binary).contiguous()
        fractions = [round(float(b.mean()), 3) for b in binary]
        print(f"{name}/{key}: iou {np.round(iou, 4).tolist()}, mask fractions {fractions}")
        cases.append(dict(case))
    save_file(tensors, os.path.join(model_dir, "expected.safetensors"))
    return {
        "name": name,
        "dir": name,
        "resized": resized_name,
        "input_size": list(resized.shape[:2]),
        "stride": STRIDE,
        "summary": summary,
        "cases": cases,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mobile-sam-src", required=True, help="a MobileSAM checkout (its mobile_sam/ package)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "sam"))
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.mobile_sam_src))
    import mobile_sam
    import segment_anything

    torch.set_num_threads(2)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    image = picture(IMAGE_W, IMAGE_H, 1)
    Image.fromarray(image).save(os.path.join(out, "image.png"))
    big = picture(BIG_W, BIG_H, 2, noise=0.0)
    Image.fromarray(big).save(os.path.join(out, "big.png"))
    big_resized = segment_anything.utils.transforms.ResizeLongestSide(1024).apply_image(big)
    Image.fromarray(big_resized).save(os.path.join(out, "big_resized.png"))

    models = [
        run_model(mobile_sam, "mobile_sam_tiny", MOBILE_TINY, image, out, 15),
        run_model(segment_anything, "vit_tiny", VIT_TINY, image, out, 16),
    ]
    manifest = {
        "image": "image.png",
        "image_size": [IMAGE_H, IMAGE_W],
        "resize_cases": [{"input": "big.png", "resized": "big_resized.png"}],
        "tolerance": {"atol": 1e-4, "rtol": 1e-4, "mask_logit_margin": 1e-3},
        "models": models,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
