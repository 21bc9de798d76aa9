#!/usr/bin/env python3
"""Builds the words-to-mask (grounding) parity fixtures under tests/fixtures/grounding/.

Two tiny random-weight models, made with the reference code:
- a SAM (ViT image encoder) with `segment_anything`, whose automatic candidates come from the
  package's own `SamAutomaticMaskGenerator` (one crop, `crop_n_layers=0`);
- a Chinese-CLIP with `transformers.ChineseCLIPModel`, its BERT tokenizer from a small
  `vocab.txt`, and crops prepared by `ChineseCLIPImageProcessorPil` (Pillow bicubic).

Recorded: the candidates of each generator case (masks, boxes, predicted IoU, stability), every
grid point's multimask IoU predictions and stability scores, each candidate's crop as the CLIP
image processor's pixel values, the text ids of each phrase, the image and text embeddings, and
the cosine similarities and logits. See the fixture folder's README for the exact processing.

    /work/venv/bin/python scripts/make_grounding_fixtures.py

Needs torch, segment-anything, transformers (5.x), numpy, pillow, safetensors.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_sam_fixtures import VIT_TINY, build, randomise, state_dict  # noqa: E402

IMAGE_W, IMAGE_H = 160, 104
POINTS_PER_SIDE = 8
# Each case is one set of the automatic generator's parameters (crop_n_layers=0,
# min_mask_region_area=0, points_per_batch=64 always).
GENERATOR_CASES = [
    {
        "name": "open",
        "pred_iou_thresh": 0.0,
        "stability_score_thresh": 0.0,
        "stability_score_offset": 1.0,
        "box_nms_thresh": 0.7,
    },
    {
        "name": "filtered",
        "pred_iou_thresh": 0.3,
        "stability_score_thresh": 0.5,
        "stability_score_offset": 0.05,
        "box_nms_thresh": 0.7,
    },
]
PHRASES = [
    "杯子",
    "左边的红色圆盘",
    "the blue box on the right",
    "Green grass",
    "一只猫",
]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
CLIP_SIZE = 32
VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + list("杯子左右边的红色圆盘蓝绿草地上下")
    + ["the", "blue", "box", "on", "right", "left", "green", "grass", "red", "a", "cup"]
    + ["##s", "##es", "gr", "##ass", "b", "##ox"]
)


def blocks(w, h, seed):
    """Flat shapes on a flat ground (a red disc left, a blue box right, a green band below):
    a random-weight SAM without position tables gives masks that follow them."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3)) + [200, 190, 170]
    img[(x - 0.25 * w) ** 2 + (y - 0.45 * h) ** 2 < (0.2 * h) ** 2] = [200, 40, 40]
    img[(x > 0.6 * w) & (x < 0.85 * w) & (y > 0.2 * h) & (y < 0.6 * h)] = [40, 60, 190]
    img[y > 0.8 * h] = [60, 140, 60]
    img += rng.normal(0, 3, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def make_sam(out_dir, seed=21):
    import segment_anything

    torch.manual_seed(seed)
    sam = build(segment_anything, VIT_TINY)
    randomise(sam, seed)
    with torch.no_grad():
        # No position tables: the embedding then follows the image's regions.
        for name, p in sam.named_parameters():
            if name.endswith("pos_embed") or "rel_pos" in name:
                p.zero_()
    sam.eval()
    model_dir = os.path.join(out_dir, "sam_vit_tiny")
    os.makedirs(model_dir, exist_ok=True)
    save_file(state_dict(sam), os.path.join(model_dir, "model.safetensors"))
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        json.dump(VIT_TINY, f, indent=2)
        f.write("\n")
    return sam


def stability(logits, offset):
    from segment_anything.utils.amg import calculate_stability_score

    return calculate_stability_score(logits, 0.0, offset)


def sam_records(sam, image):
    """Every grid point's three IoU predictions and stability scores (offset 1.0 and 0.05),
    and the generator's candidates per case."""
    from segment_anything import SamAutomaticMaskGenerator, SamPredictor
    from segment_anything.utils.amg import build_point_grid

    tensors = {}
    predictor = SamPredictor(sam)
    predictor.set_image(image)
    grid = build_point_grid(POINTS_PER_SIDE) * np.array([[IMAGE_W, IMAGE_H]])
    pts = predictor.transform.apply_coords(grid, image.shape[:2])
    with torch.no_grad():
        logits, iou, _ = predictor.predict_torch(
            torch.as_tensor(pts)[:, None, :],
            torch.ones(len(pts), 1, dtype=torch.int),
            multimask_output=True,
            return_logits=True,
        )
    tensors["grid.points"] = torch.as_tensor(grid).float()
    tensors["grid.iou"] = iou.float().contiguous()
    for off in (1.0, 0.05):
        tensors[f"grid.stability_{off}"] = stability(logits, off).float().contiguous()
    cases = []
    for case in GENERATOR_CASES:
        gen = SamAutomaticMaskGenerator(
            sam,
            points_per_side=POINTS_PER_SIDE,
            points_per_batch=64,
            pred_iou_thresh=case["pred_iou_thresh"],
            stability_score_thresh=case["stability_score_thresh"],
            stability_score_offset=case["stability_score_offset"],
            box_nms_thresh=case["box_nms_thresh"],
            crop_n_layers=0,
            min_mask_region_area=0,
            output_mode="binary_mask",
        )
        with torch.no_grad():
            found = gen.generate(image)
        key = case["name"]
        n = len(found)
        masks = np.stack([f["segmentation"] for f in found]) if n else np.zeros((0, IMAGE_H, IMAGE_W))
        tensors[f"{key}.masks"] = torch.as_tensor(masks.astype(np.uint8)).contiguous()
        tensors[f"{key}.boxes"] = torch.tensor([f["bbox"] for f in found], dtype=torch.int32).reshape(n, 4)
        tensors[f"{key}.iou"] = torch.tensor([f["predicted_iou"] for f in found]).float()
        tensors[f"{key}.stability"] = torch.tensor([f["stability_score"] for f in found]).float()
        tensors[f"{key}.points"] = torch.tensor([f["point_coords"][0] for f in found]).float().reshape(n, 2)
        print(f"{key}: {n} candidates, areas {[int(f['area']) for f in found]}")
        cases.append(dict(case, count=n))
    # Margins: grid logits near 0 may flip a pixel; record them per case's masks' source.
    tensors["grid.logits_abs_min"] = logits.abs().amin(dim=(0, 1)).float().contiguous()
    return tensors, cases, found_masks(tensors)


def found_masks(tensors):
    return tensors[f"{GENERATOR_CASES[0]['name']}.masks"].numpy().astype(bool)


def crop_for(image, mask, fill):
    """The candidate's crop: its mask's box, grey outside the mask, padded to a square with the
    same grey (the box centred, the odd pixel after)."""
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    part = image[y0:y1, x0:x1].copy()
    part[~mask[y0:y1, x0:x1]] = fill
    h, w = part.shape[:2]
    side = max(h, w)
    canvas = np.zeros((side, side, 3), dtype=np.uint8) + np.array(fill, dtype=np.uint8)
    oy, ox = (side - h) // 2, (side - w) // 2
    canvas[oy : oy + h, ox : ox + w] = part
    return canvas


def randomise_clip(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if name == "logit_scale":
                v = torch.tensor(2.6592)
            elif leaf == "weight" and p.dim() == 1:
                v = 0.7 + 0.6 * torch.rand(p.shape, generator=g)
            elif p.dim() <= 1:
                v = 0.1 * torch.randn(p.shape, generator=g)
            elif "embedding" in name or "embeddings" in name:
                v = 0.5 * torch.randn(p.shape, generator=g)
            else:
                fan_in = int(np.prod(p.shape[1:]))
                v = torch.randn(p.shape, generator=g) / np.sqrt(max(fan_in, 1))
            p.copy_(v.half().float())


def make_clip(out_dir, seed=31):
    from transformers import BertTokenizer, ChineseCLIPConfig, ChineseCLIPModel

    cfg = ChineseCLIPConfig(
        text_config=dict(
            vocab_size=len(VOCAB),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            max_position_embeddings=64,
            type_vocab_size=2,
            hidden_act="gelu",
            layer_norm_eps=1e-12,
        ),
        vision_config=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=CLIP_SIZE,
            patch_size=8,
            projection_dim=16,
            hidden_act="quick_gelu",
            layer_norm_eps=1e-5,
        ),
        projection_dim=16,
    )
    torch.manual_seed(seed)
    model = ChineseCLIPModel(cfg).eval()
    randomise_clip(model, seed)
    model_dir = os.path.join(out_dir, "clip_tiny")
    os.makedirs(model_dir, exist_ok=True)
    sd = {
        k: v.detach().contiguous().half()
        for k, v in model.state_dict().items()
        if not k.endswith("position_ids") and not k.endswith("token_type_ids")
    }
    save_file(sd, os.path.join(model_dir, "model.safetensors"))
    cfg.save_pretrained(model_dir)
    with open(os.path.join(model_dir, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    tok = BertTokenizer(os.path.join(model_dir, "vocab.txt"), do_lower_case=True)
    return model, tok


def clip_records(model, tok, image, masks):
    from transformers.models.chinese_clip.image_processing_pil_chinese_clip import (
        ChineseCLIPImageProcessorPil,
    )

    proc = ChineseCLIPImageProcessorPil(
        size={"shortest_edge": CLIP_SIZE},
        crop_size={"height": CLIP_SIZE, "width": CLIP_SIZE},
    )
    fill = [int(round(m * 255)) for m in CLIP_MEAN]
    keep = [i for i, m in enumerate(masks) if m.any()]
    crops = [Image.fromarray(crop_for(image, masks[i], fill)) for i in keep]
    pixels = proc(images=crops, return_tensors="pt")["pixel_values"].float()
    tensors = {"clip.pixel_values": pixels.contiguous()}
    with torch.no_grad():
        pooled = model.vision_model(pixel_values=pixels).pooler_output
        image_emb = model.visual_projection(pooled)
        text_ids, text_emb = [], []
        for phrase in PHRASES:
            ids = tok(phrase)["input_ids"]
            text_ids.append(ids)
            t = torch.tensor([ids])
            hidden = model.text_model(
                input_ids=t,
                attention_mask=torch.ones_like(t),
                token_type_ids=torch.zeros_like(t),
            ).last_hidden_state
            text_emb.append(model.text_projection(hidden[:, 0, :])[0])
        text_emb = torch.stack(text_emb)
        ni = image_emb / image_emb.norm(dim=-1, keepdim=True)
        nt = text_emb / text_emb.norm(dim=-1, keepdim=True)
        cosine = nt @ ni.T
        logits = cosine * model.logit_scale.exp()
    tensors["clip.image_embeds"] = image_emb.float().contiguous()
    tensors["clip.text_embeds"] = text_emb.float().contiguous()
    tensors["clip.cosine"] = cosine.float().contiguous()
    tensors["clip.logits"] = logits.float().contiguous()
    for p, c in zip(PHRASES, cosine):
        print(f"{p}: cosine {np.round(c.numpy(), 3).tolist()}")
    return tensors, keep, text_ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "grounding")
    )
    args = ap.parse_args()
    torch.set_num_threads(2)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    image = blocks(IMAGE_W, IMAGE_H, 3)
    Image.fromarray(image).save(os.path.join(out, "image.png"))
    sam = make_sam(out)
    tensors, cases, masks = sam_records(sam, image)
    model, tok = make_clip(out)
    clip_tensors, kept, text_ids = clip_records(model, tok, image, masks)
    tensors.update(clip_tensors)
    save_file(tensors, os.path.join(out, "expected.safetensors"))
    manifest = {
        "image": "image.png",
        "image_size": [IMAGE_H, IMAGE_W],
        "sam": "sam_vit_tiny",
        "clip": "clip_tiny",
        "points_per_side": POINTS_PER_SIDE,
        "generator_cases": cases,
        "clip_case": GENERATOR_CASES[0]["name"],
        "clip_candidates": kept,
        "clip_fill": [int(round(m * 255)) for m in CLIP_MEAN],
        "phrases": [{"text": p, "ids": ids} for p, ids in zip(PHRASES, text_ids)],
        "tolerance": {"atol": 1e-4, "rtol": 1e-4, "mask_logit_margin": 1e-3, "stability": 2e-3},
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
