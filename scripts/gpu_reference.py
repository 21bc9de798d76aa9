#!/usr/bin/env python3
"""The diffusers side of the GPU check (scripts/gpu_check.sh), on the GPU machine.

  make DIR SIZE        writes a full-size Z-Image Turbo folder with random bf16 weights (DiT 6B,
                       Qwen3-4B, Flux VAE; the tiny fixtures' tokenizer, whose ids are valid for
                       the real vocabulary) and DIR/inputs.safetensors: a SIZExSIZE RGB input
                       image (uint8), the VAE posterior eps and the latent noise, all seeded.
  run DIR STEPS OUT    runs diffusers' ZImageImg2ImgPipeline on that folder (bf16, CUDA,
                       strength 1.0, guidance 0) with exactly those draws, once to warm up and once
                       timed; prints seconds per stage, seconds per edit and peak VRAM per stage,
                       and writes the decoded image [1, 3, H, W] to OUT.
  vae DIR OUT          the VAE alone (AutoencoderKL of DIR/vae): encodes the input image, decodes
                       the posterior mean, each timed after a warm-up; writes the image to OUT
                       (zimage_speed --vae-only does the same).
  inputs DIR SIZE      writes only DIR/inputs.safetensors (for a model folder that exists).
  compare A B          prints the deviation between two decoded images (zedit's and diffusers').

ZEDIT_REF_DEVICE=cpu runs the diffusers side on the CPU in float32 (to check this script and the
zedit side against each other on the tiny fixture model without a GPU). ZEDIT_REF_LAYERS=N makes
`make` write only N layers of the DiT and of the text encoder (every width full size), so that
the whole check can be rehearsed on a CPU with the real shapes, file layout and configs.
"""

import json
import os
import shutil
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TINY = os.environ.get("ZEDIT_FIXTURES", os.path.join(HERE, "..", "tests", "fixtures", "zimage-tiny-b"))

TRANSFORMER = dict(all_patch_size=[2], all_f_patch_size=[1], in_channels=16, dim=3840, n_layers=30,
                   n_refiner_layers=2, n_heads=30, n_kv_heads=30, norm_eps=1e-5, qk_norm=True,
                   cap_feat_dim=2560, rope_theta=256.0, t_scale=1000.0, axes_dims=[32, 48, 48],
                   axes_lens=[1536, 512, 512])
VAE = dict(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 4,
           up_block_types=["UpDecoderBlock2D"] * 4, block_out_channels=[128, 256, 512, 512],
           layers_per_block=2, act_fn="silu", latent_channels=16, norm_num_groups=32,
           sample_size=1024, scaling_factor=0.3611, shift_factor=0.1159, latents_mean=None,
           latents_std=None, force_upcast=True, use_quant_conv=False, use_post_quant_conv=False,
           mid_block_add_attention=True)
TEXT = dict(vocab_size=151936, hidden_size=2560, intermediate_size=9728, num_hidden_layers=36,
            num_attention_heads=32, num_key_value_heads=8, head_dim=128, hidden_act="silu",
            max_position_embeddings=40960, rms_norm_eps=1e-6,
            rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
            tie_word_embeddings=True, attention_bias=False)
SCHEDULER = dict(num_train_timesteps=1000, use_dynamic_shifting=False, shift=3.0)
PROMPT = "A small wooden boat on a calm lake at sunrise"
DEVICE = os.environ.get("ZEDIT_REF_DEVICE", "cuda")
DTYPE = torch.bfloat16 if DEVICE == "cuda" else torch.float32


def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def peak():
    return torch.cuda.max_memory_allocated() if DEVICE == "cuda" else 0


def reset_peak():
    if DEVICE == "cuda":
        torch.cuda.reset_peak_memory_stats()


def make(folder, size):
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, ZImageTransformer2DModel
    from transformers import Qwen3Config, Qwen3Model

    t0 = time.perf_counter()
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(0)
    transformer, text = dict(TRANSFORMER), dict(TEXT)
    if os.environ.get("ZEDIT_REF_LAYERS"):
        transformer["n_layers"] = text["num_hidden_layers"] = int(os.environ["ZEDIT_REF_LAYERS"])
    with torch.device(DEVICE):
        for name, build in (
            ("transformer", lambda: ZImageTransformer2DModel(**transformer)),
            ("vae", lambda: AutoencoderKL(**VAE)),
            ("text_encoder", lambda: Qwen3Model(Qwen3Config(**text))),
        ):
            m = build().to(torch.bfloat16).eval()
            m.save_pretrained(os.path.join(folder, name), safe_serialization=True)
            del m
            if DEVICE == "cuda":
                torch.cuda.empty_cache()
    FlowMatchEulerDiscreteScheduler(**SCHEDULER).save_pretrained(os.path.join(folder, "scheduler"))
    write_inputs(folder, size)
    print(f"random full-size model written to {folder} in {time.perf_counter() - t0:.1f}s")


def write_inputs(folder, size):
    shutil.copytree(os.path.join(TINY, "tiny-zimage", "tokenizer"), os.path.join(folder, "tokenizer"),
                    dirs_exist_ok=True)
    shutil.copy(os.path.join(TINY, "tiny-zimage", "model_index.json"), folder)
    g = torch.Generator().manual_seed(1)
    lat = size // 8
    y, x = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    smooth = torch.stack([x * 255 // size, y * 255 // size, (x + y) * 127 // size])[None]
    grain = torch.randint(0, 32, (1, 3, size, size), generator=g)
    pixels = (smooth + grain).clamp(0, 255).to(torch.uint8)
    eps = torch.randn((1, 16, lat, lat), generator=g)
    noise = torch.randn((1, 16, lat, lat), generator=g)
    save_file(dict(pixels=pixels.contiguous(), posterior_eps=eps, noise=noise),
              os.path.join(folder, "inputs.safetensors"))


class Stages:
    """Seconds and peak VRAM per stage, from hooks around the pipeline's components."""

    def __init__(self):
        self.rows = []

    def wrap(self, module, name):
        def pre(*_a, **_k):
            sync()
            reset_peak()
            self.t0 = time.perf_counter()

        def post(*_a, **_k):
            sync()
            self.rows.append((name, time.perf_counter() - self.t0, peak()))

        module.register_forward_pre_hook(pre)
        module.register_forward_hook(post)

    def wrap_fn(self, obj, attr, name):
        orig = getattr(obj, attr)

        def call(*a, **k):
            sync()
            reset_peak()
            t0 = time.perf_counter()
            out = orig(*a, **k)
            sync()
            self.rows.append((name, time.perf_counter() - t0, peak()))
            return out

        setattr(obj, attr, call)

    def report(self):
        merged = {}
        for name, s, peak in self.rows:
            n, total, p = merged.get(name, (0, 0.0, 0))
            merged[name] = (n + 1, total + s, max(p, peak))
        for name, (n, total, peak) in merged.items():
            print(f"  diffusers {name:14} {n:2} call(s) {total:8.3f}s  ({total / n * 1000:7.1f} ms each)"
                  f"  peak VRAM {peak / 2**30:6.2f} GiB")


def inject_noise(draws):
    """Every diffusers randn_tensor call returns the next given tensor."""
    from diffusers.utils import torch_utils

    orig = torch_utils.randn_tensor
    queue = list(draws)

    def given(shape, generator=None, device=None, dtype=None, layout=None):
        t = queue.pop(0)
        assert tuple(t.shape) == tuple(shape), (t.shape, shape)
        return t.to(device=device, dtype=dtype)

    for mod in list(sys.modules.values()):
        if getattr(mod, "randn_tensor", None) is orig:
            mod.randn_tensor = given
    return queue


def run(folder, steps, out):
    from diffusers import ZImageImg2ImgPipeline

    inputs = load_file(os.path.join(folder, "inputs.safetensors"))
    t0 = time.perf_counter()
    pipe = ZImageImg2ImgPipeline.from_pretrained(folder, torch_dtype=DTYPE).to(DEVICE)
    pipe.set_progress_bar_config(disable=True)
    sync()
    print(f"diffusers load: {time.perf_counter() - t0:.1f}s")
    image = inputs["pixels"].float() / 255.0  # the pipeline takes [0, 1] tensors
    kwargs = dict(prompt=PROMPT, image=image, strength=1.0, num_inference_steps=steps,
                  guidance_scale=0.0, output_type="pt")
    for label in ("warm-up", "timed"):
        stages = Stages() if label == "timed" else None
        if stages:
            stages.wrap(pipe.text_encoder, "text_encoder")
            stages.wrap(pipe.transformer, "transformer")
            stages.wrap_fn(pipe.vae, "encode", "vae_encode")
            stages.wrap_fn(pipe.vae, "decode", "vae_decode")
        inject_noise([inputs["posterior_eps"].to(DEVICE), inputs["noise"].to(DEVICE)])
        sync()
        reset_peak()
        t0 = time.perf_counter()
        result = pipe(**kwargs).images
        sync()
        total = time.perf_counter() - t0
        print(f"diffusers {label} edit: {total:.3f}s")
    stages.report()
    print(f"diffusers seconds per edit: {total:.3f}")
    save_file(dict(image=result.float().cpu().contiguous()), out)


def vae_round_trip(folder, out):
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(os.path.join(folder, "vae"), torch_dtype=DTYPE).to(DEVICE)
    inputs = load_file(os.path.join(folder, "inputs.safetensors"))
    image = (inputs["pixels"].float() / 255.0 * 2.0 - 1.0).to(DEVICE, DTYPE)
    with torch.no_grad():
        for label in ("warm-up", "timed"):
            sync()
            reset_peak()
            t0 = time.perf_counter()
            mean = vae.encode(image).latent_dist.mean
            sync()
            enc = time.perf_counter() - t0
            t0 = time.perf_counter()
            decoded = vae.decode(mean).sample
            sync()
            dec = time.perf_counter() - t0
    print(f"diffusers VAE: encode {enc * 1e3:.1f} ms + decode {dec * 1e3:.1f} ms = "
          f"{(enc + dec) * 1e3:.1f} ms, peak VRAM {peak() / 2**30:.2f} GiB")
    unit = (decoded.float() / 2 + 0.5).clamp(0, 1)
    save_file(dict(image=unit.cpu().contiguous()), out)


def compare(a, b):
    x = load_file(a)["image"].double()
    y = load_file(b)["image"].double()
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if y.dim() == 3:
        y = y.unsqueeze(0)
    d = (x - y).abs()
    name = lambda p: os.path.splitext(os.path.basename(p))[0]
    print(f"deviation {name(a)} vs {name(b)} (image in [0, 1], {tuple(x.shape)}): "
          f"max {d.max():.4f}, mean {d.mean():.5f}, 99th pct {d.flatten().quantile(0.99):.4f}, "
          f"PSNR {10 * torch.log10(1 / (d ** 2).mean()):.1f} dB")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "make":
        make(sys.argv[2], int(sys.argv[3]))
    elif cmd == "inputs":
        write_inputs(sys.argv[2], int(sys.argv[3]))
    elif cmd == "run":
        run(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif cmd == "vae":
        vae_round_trip(sys.argv[2], sys.argv[3])
    elif cmd == "compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
