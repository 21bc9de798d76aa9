#!/usr/bin/env python3
"""Build a second tiny random-weight Z-Image pipeline and its golden reference fixtures.

Adapted from ../shared/fixtures/zimage-tiny/make_fixtures.py (same layout, same recording) for a
set that the first one cannot catch: another model config (3 heads of 16, 3 joint layers and 1
refiner, a 2-layer text encoder with 2 heads of 32 and one kv head, a VAE with 1 resnet per block and 2 norm groups), a
100x60 input that is neither square nor a multiple of 16 (the pipelines run it at 96x48), 6 and 9
steps, CFG with truncation and normalization, Chinese prompts, and metadata naming the input
files relative to the root (`"input_image": "fixtures/input.png"`). Inpaint cases also record the
mask processor's output as `mask.processed`. Writes tests/fixtures/zimage-tiny-b by default:

    /work/venv/bin/python scripts/make_zimage_fixtures.py [--root DIR] [--threads 1]

Everything is created offline and deterministically (CPU, float32, fixed seeds):

  <root>/tiny-zimage/          diffusers folder (model_index.json, transformer/, vae/,
                               text_encoder/, tokenizer/, scheduler/)
  <root>/fixtures/input.png    deterministic 64x64 RGB input image (img2img / inpaint)
  <root>/fixtures/mask.png     64x64 L-mode rectangle mask (white = repaint)
  <root>/fixtures/<case>/      output.png, tensors.safetensors (every intermediate), meta.json
  <root>/fixtures/manifest.json  versions, timings, sha256 of every file written

Cases: t2i (guidance 0, turbo-style), t2i_cfg (CFG 4.0 with negative prompt),
img2img (strength 0.6), inpaint (rectangular mask, strength 1.0).

Every case is run twice through a pipeline *re-loaded from disk* and the two runs must be
bit-identical.

The FlowEdit, LoRA, LyCORIS and GGUF text-encoder references under tests/fixtures are recorded
from this set's model, so that their tests never depend on a set outside the repository. The
model's weights come from fixed seeds and do not change when this script is rerun; a change to a
config above changes them (each reference lists the files it was recorded from, as `recorded_from`,
and a test checks them against this set's manifest), and then those references are recorded again,
in this order:

    scripts/make_lora_fixtures.py; scripts/make_lycoris_fixtures.py
    scripts/make_gguf_text_encoder_fixtures.py
    scripts/flowedit_reference.py inputs; scripts/flowedit_reference.py cases --zedit target/debug/zedit
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

import diffusers  # noqa: E402
import transformers  # noqa: E402
import tokenizers  # noqa: E402
from diffusers import (  # noqa: E402
    AutoencoderKL,
    FlowMatchEulerDiscreteScheduler,
    ZImageImg2ImgPipeline,
    ZImageInpaintPipeline,
    ZImagePipeline,
    ZImageTransformer2DModel,
)
from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers  # noqa: E402
from tokenizers.models import BPE  # noqa: E402
from tokenizers.trainers import BpeTrainer  # noqa: E402
from transformers import Qwen2Tokenizer, Qwen3Config, Qwen3Model  # noqa: E402
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX  # noqa: E402

# --------------------------------------------------------------------------------------
# Configs
# --------------------------------------------------------------------------------------

# Real Z-Image-Turbo scheduler/scheduler_config.json (only these three keys are set there).
SCHEDULER_CONFIG = dict(num_train_timesteps=1000, use_dynamic_shifting=False, shift=3.0)

# Tiny transformer. Real: dim=3840, n_layers=30, n_refiner_layers=2, n_heads=30,
# cap_feat_dim=2560, axes_dims=[32,48,48], axes_lens=[1536,512,512].
# Constraints in the code: dim % n_heads == 0, head_dim == sum(axes_dims), axes dims even.
# NB: adaLN/t-embedding width is min(dim, 256): 256 for the real model, == dim here.
TRANSFORMER_CONFIG = dict(
    all_patch_size=(2,),
    all_f_patch_size=(1,),
    in_channels=16,
    dim=48,
    n_layers=3,
    n_refiner_layers=1,
    n_heads=3,
    n_kv_heads=3,  # unused by the code (no GQA in the DiT), kept equal to n_heads like the real config
    norm_eps=1e-5,
    qk_norm=True,
    cap_feat_dim=32,  # == text encoder hidden_size
    rope_theta=256.0,
    t_scale=1000.0,
    axes_dims=[4, 6, 6],  # sum == head_dim == 16 (same 2:3:3 split as the real 32/48/48)
    axes_lens=[1536, 512, 512],  # real values; RoPE tables are computed, not stored
)

# Tiny Flux-style VAE. Real: block_out_channels [128,256,512,512], layers_per_block 2,
# norm_num_groups 32, latent_channels 16, scaling 0.3611, shift 0.1159, no quant convs.
# Four blocks are kept so the spatial factor stays 8 (pipeline needs H,W % 16 == 0).
VAE_CONFIG = dict(
    in_channels=3,
    out_channels=3,
    down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4,
    block_out_channels=[8, 8, 16, 16],
    layers_per_block=1,
    act_fn="silu",
    latent_channels=16,
    norm_num_groups=2,
    sample_size=64,
    scaling_factor=0.3611,
    shift_factor=0.1159,
    latents_mean=None,
    latents_std=None,
    force_upcast=True,
    use_quant_conv=False,
    use_post_quant_conv=False,
    mid_block_add_attention=True,
)

# Tiny Qwen3 text encoder. Real (Qwen3-4B): hidden 2560, 36 layers, 32 heads, 8 kv heads,
# head_dim 128 (q_dim 4096 != hidden), intermediate 9728, vocab 151936, rope_theta 1e6,
# rms_norm_eps 1e-6, tie_word_embeddings true. The pipeline uses hidden_states[-2], i.e. the
# output of the second-to-last decoder layer (before the final norm), so the last layer is
# computed but unused -- same here with 3 layers.
TEXT_ENCODER_CONFIG = dict(
    vocab_size=512,  # > tokenizer size (like the real 151936 > 151669)
    # Every matrix row (32, 64, 96 values) is a whole number of the 32-value GGUF blocks, so the
    # GGUF text-encoder fixtures (scripts/make_gguf_text_encoder_fixtures.py) quantize this one.
    hidden_size=32,
    intermediate_size=96,
    num_hidden_layers=2,
    num_attention_heads=2,
    num_key_value_heads=1,  # GQA like the real model
    head_dim=32,  # q_dim = 64 != hidden_size 32, like the real model
    hidden_act="silu",
    max_position_embeddings=1024,
    rms_norm_eps=1e-6,
    rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
    tie_word_embeddings=True,
    attention_bias=False,
    initializer_range=0.02,
)

BPE_VOCAB_SIZE = 400  # 256 byte symbols + 144 merges; specials appended after
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]  # real ids 151643..151645

# The part of Qwen3's chat template that Z-Image exercises (one user turn,
# add_generation_prompt=True, enable_thinking=True -> no <think> block).
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{%- endif %}"
)

TOKENIZER_CORPUS = [
    "A tiny red fox sitting in fresh snow, watercolor painting.",
    "A small wooden boat on a calm lake at sunrise, soft light.",
    "A bright yellow sun above green hills and a blue sky.",
    "Portrait of an old man with a grey beard, studio lighting.",
    "A bowl of ripe oranges and lemons on a kitchen table.",
    "City street at night with neon signs reflected in rain puddles.",
    "A cat sleeping on a red blanket next to a window.",
    "Mountains covered with snow under a clear winter sky.",
    "blurry, low quality, distorted, watermark, text",
    "A steam train crossing a stone bridge in the forest.",
    "Close-up photo of a honey bee on a purple flower.",
    "An astronaut riding a horse on the moon, digital art.",
    "user assistant system the a of and in on with at",
    "一只小红狐狸坐在新雪里，水彩画。",
    "湖面上的一条小木船，日出时分，柔和的光线。",
    "模糊，低质量，变形，水印，文字",
    "蓝天下绿色山丘上明亮的黄色太阳。",
]

SEEDS = dict(transformer=10, vae=11, text_encoder=12, perturb=13)

# The input image's size: not square, not a multiple of 16 (the pipelines floor it to 96x48).
H, W = 60, 100
MAX_SEQ = 512

CASES = {
    "t2i": dict(
        pipeline="ZImagePipeline",
        prompt="一只小红狐狸坐在新雪里，水彩画",
        guidance_scale=0.0,
        latents_seed=1234,
        steps=6,
        height=48,
        width=96,
    ),
    "t2i_cfg": dict(
        pipeline="ZImagePipeline",
        prompt="一只小红狐狸坐在新雪里，水彩画",
        negative_prompt="模糊，低质量",
        guidance_scale=3.5,
        cfg_normalization=1.05,
        cfg_truncation=0.6,
        latents_seed=1234,
        steps=9,
        height=48,
        width=96,
    ),
    "img2img": dict(
        pipeline="ZImageImg2ImgPipeline",
        prompt="湖面上的一条小木船，日出时分",
        guidance_scale=0.0,
        strength=0.6,
        generator_seed=42,
        steps=9,
        input_image="fixtures/input.png",
    ),
    "inpaint": dict(
        pipeline="ZImageInpaintPipeline",
        prompt="明亮的黄色太阳",
        guidance_scale=0.0,
        strength=0.8,
        generator_seed=7,
        steps=6,
        input_image="fixtures/input.png",
        mask_image="fixtures/mask.png",
    ),
}

MASK_RECT = (21, 13, 67, 41)  # x0, y0, x1, y1 (exclusive) in pixels; white (255) = repaint


# --------------------------------------------------------------------------------------
# Component construction
# --------------------------------------------------------------------------------------


def perturb_constant_params(module: torch.nn.Module, seed: int) -> list:
    """Add N(0, 0.1) noise to parameters that init to a constant (norm gains = 1, norm
    biases = 0, pad tokens = 0) so a port that ignores one of them is caught."""
    g = torch.Generator().manual_seed(seed)
    touched = []
    with torch.no_grad():
        for name, p in module.named_parameters():
            flat = p.detach().reshape(-1)
            if flat.numel() > 0 and bool(torch.all(flat == flat[0])):
                p.add_(0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype))
                touched.append(name)
    return touched


def build_tokenizer() -> Qwen2Tokenizer:
    # Same normalizer / pre-tokenizer as transformers' Qwen2Tokenizer, so the learned merges
    # are applied exactly as the real Qwen2 tokenizer applies its own.
    tok = Tokenizer(BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = BpeTrainer(
        vocab_size=BPE_VOCAB_SIZE,
        min_frequency=1,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
    )
    tok.train_from_iterator(TOKENIZER_CORPUS * 4, trainer=trainer)
    model = json.loads(tok.to_str())["model"]
    vocab = model["vocab"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    assert len(vocab) == BPE_VOCAB_SIZE, len(vocab)
    qt = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        bos_token=None,
        eos_token="<|endoftext|>",  # switched to <|im_end|> below, once ids are fixed
        pad_token="<|endoftext|>",
        model_max_length=131072,
        padding_side="right",
        chat_template=CHAT_TEMPLATE,
    )
    # make sure specials get ids V, V+1, V+2 in the real order
    from tokenizers import AddedToken

    qt.add_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS], special_tokens=True)
    ids = qt.convert_tokens_to_ids(SPECIAL_TOKENS)
    assert ids == [BPE_VOCAB_SIZE, BPE_VOCAB_SIZE + 1, BPE_VOCAB_SIZE + 2], ids
    qt.eos_token = "<|im_end|>"  # real Qwen3 tokenizer_config: eos <|im_end|>, pad <|endoftext|>
    assert len(qt) <= TEXT_ENCODER_CONFIG["vocab_size"]
    return qt


def build_components():
    torch.manual_seed(SEEDS["transformer"])
    transformer = ZImageTransformer2DModel(**TRANSFORMER_CONFIG)
    t_touched = perturb_constant_params(transformer, SEEDS["perturb"])

    torch.manual_seed(SEEDS["vae"])
    vae = AutoencoderKL(**VAE_CONFIG)
    v_touched = perturb_constant_params(vae, SEEDS["perturb"] + 1)

    torch.manual_seed(SEEDS["text_encoder"])
    text_encoder = Qwen3Model(Qwen3Config(**TEXT_ENCODER_CONFIG))
    te_touched = perturb_constant_params(text_encoder, SEEDS["perturb"] + 2)

    tokenizer = build_tokenizer()
    scheduler = FlowMatchEulerDiscreteScheduler(**SCHEDULER_CONFIG)
    for m in (transformer, vae, text_encoder):
        m.eval()
    info = dict(
        perturbed_params=dict(transformer=t_touched, vae=v_touched, text_encoder=te_touched),
        n_params=dict(
            transformer=sum(p.numel() for p in transformer.parameters()),
            vae=sum(p.numel() for p in vae.parameters()),
            text_encoder=sum(p.numel() for p in text_encoder.parameters()),
        ),
    )
    return dict(
        scheduler=scheduler, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer
    ), info


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


def make_input_image() -> Image.Image:
    y, x = np.mgrid[0:H, 0:W]
    r = (x * 4).clip(0, 255)
    g = (y * 4).clip(0, 255)
    b = np.where(((x // 8) + (y // 8)) % 2 == 0, 224, 32)
    # a dark disc so the image is not separable
    disc = (x - 70) ** 2 + (y - 24) ** 2 < 12**2
    r = np.where(disc, 20, r)
    g = np.where(disc, 20, g)
    arr = np.stack([r, g, b], axis=-1).astype(np.uint8)
    return Image.fromarray(arr, mode="RGB")


def make_mask() -> Image.Image:
    arr = np.zeros((H, W), dtype=np.uint8)
    x0, y0, x1, y1 = MASK_RECT
    arr[y0:y1, x0:x1] = 255
    return Image.fromarray(arr, mode="L")


def initial_noise(seed: int, height: int, width: int) -> torch.Tensor:
    g = torch.Generator(device="cpu").manual_seed(seed)
    return torch.randn((1, 16, height // 8, width // 8), generator=g, dtype=torch.float32)


# --------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------


class Recorder:
    """Hooks that capture every intermediate tensor of one pipeline call."""

    def __init__(self, pipe):
        self.pipe = pipe
        self.t = {}
        self.meta = {}
        self.te_calls = 0
        self.tr_calls = 0
        self.rand_calls = 0
        self.enc_calls = 0
        self.handles = []
        self.patched = []

    def put(self, name, tensor):
        assert name not in self.t, name
        self.t[name] = tensor.detach().to("cpu").contiguous().clone()

    def __enter__(self):
        pipe = self.pipe

        def te_pre(module, args, kwargs):
            i = self.te_calls
            self.te_calls += 1
            self.put(f"text_encoder.{i}.input_ids", kwargs["input_ids"].to(torch.int64))
            self.put(f"text_encoder.{i}.attention_mask", kwargs["attention_mask"].to(torch.int64))

        def te_post(module, args, kwargs, out):
            i = self.te_calls - 1
            self.put(f"text_encoder.{i}.hidden_states_m2", out.hidden_states[-2])

        def tr_hook(module, args, kwargs, out):
            i = self.tr_calls
            self.tr_calls += 1
            x, t, caps = args[0], args[1], args[2]
            for b, xb in enumerate(x):
                self.put(f"transformer.{i}.x.{b}", xb)
            self.put(f"transformer.{i}.t", t)
            for b, cb in enumerate(caps):
                self.put(f"transformer.{i}.cap_feats.{b}", cb)
            for b, ob in enumerate(out[0]):
                self.put(f"transformer.{i}.out.{b}", ob)

        self.handles.append(pipe.text_encoder.register_forward_pre_hook(te_pre, with_kwargs=True))
        self.handles.append(pipe.text_encoder.register_forward_hook(te_post, with_kwargs=True))
        self.handles.append(pipe.transformer.register_forward_hook(tr_hook, with_kwargs=True))

        # VAE encode / decode wrappers (instance attributes shadow the bound methods)
        vae = pipe.vae
        orig_encode, orig_decode = vae.encode, vae.decode

        def encode(x, *a, **k):
            i = self.enc_calls
            self.enc_calls += 1
            out = orig_encode(x, *a, **k)
            dist = out.latent_dist if hasattr(out, "latent_dist") else out[0]
            self.put(f"vae_encode.{i}.input", x)
            self.put(f"vae_encode.{i}.mean", dist.mean)
            self.put(f"vae_encode.{i}.logvar", dist.logvar)
            self.put(f"vae_encode.{i}.std", dist.std)
            return out

        def decode(z, *a, **k):
            out = orig_decode(z, *a, **k)
            sample = out.sample if hasattr(out, "sample") else out[0]
            self.put("vae_decode.input", z)
            self.put("vae_decode.output", sample)
            return out

        vae.encode, vae.decode = encode, decode
        self.patched.append((vae, "encode"))
        self.patched.append((vae, "decode"))

        mask_processor = getattr(pipe, "mask_processor", None)
        if mask_processor is not None:
            orig_pre = mask_processor.preprocess

            def preprocess(*a, **k):
                out = orig_pre(*a, **k)
                self.put("mask.processed", out)
                return out

            mask_processor.preprocess = preprocess
            self.patched.append((mask_processor, "preprocess"))

        # Every randn_tensor call made by diffusers (VAE posterior sampling, pipeline noise)
        from diffusers.utils import torch_utils

        orig_randn = torch_utils.randn_tensor

        def make_wrapper(modname):
            def randn_rec(shape, *a, **k):
                out = orig_randn(shape, *a, **k)
                i = self.rand_calls
                self.rand_calls += 1
                self.put(f"randn.{i}", out)
                self.meta.setdefault("randn_calls", []).append(
                    dict(index=i, caller=modname, shape=list(out.shape))
                )
                return out

            return randn_rec

        self.orig_randn = orig_randn
        for modname, mod in list(sys.modules.items()):
            if modname.startswith("diffusers") and getattr(mod, "randn_tensor", None) is orig_randn:
                mod.randn_tensor = make_wrapper(modname)
                self.patched.append((mod, "randn_tensor"))
        return self

    def callback(self, pipe, i, t, kw):
        self.put(f"step.{i}.latents", kw["latents"])
        return {}

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()
        for obj, attr in self.patched:
            if attr == "randn_tensor":
                setattr(obj, attr, self.orig_randn)
            else:
                delattr(obj, attr)  # drop instance override -> class method again
        return False


# --------------------------------------------------------------------------------------
# Running the cases
# --------------------------------------------------------------------------------------


def run_case(pipes, name, spec, input_image, mask_image):
    pipe = pipes[spec["pipeline"]]
    kwargs = dict(
        prompt=spec["prompt"],
        num_inference_steps=spec["steps"],
        guidance_scale=spec["guidance_scale"],
        max_sequence_length=MAX_SEQ,
        output_type="np",
        return_dict=True,
    )
    for k in ("negative_prompt", "cfg_normalization", "cfg_truncation", "strength"):
        if k in spec:
            kwargs[k] = spec[k]
    if spec["pipeline"] == "ZImagePipeline":
        kwargs["height"], kwargs["width"] = spec["height"], spec["width"]
    if "latents_seed" in spec:
        kwargs["latents"] = initial_noise(spec["latents_seed"], spec["height"], spec["width"])
    if "generator_seed" in spec:
        kwargs["generator"] = torch.Generator(device="cpu").manual_seed(spec["generator_seed"])
    if spec["pipeline"] != "ZImagePipeline":
        kwargs["image"] = input_image
    if spec["pipeline"] == "ZImageInpaintPipeline":
        kwargs["mask_image"] = mask_image

    with Recorder(pipe) as rec:
        kwargs["callback_on_step_end"] = rec.callback
        kwargs["callback_on_step_end_tensor_inputs"] = ["latents"]
        t0 = time.perf_counter()
        out = pipe(**kwargs)
        dt = time.perf_counter() - t0
    image = out.images  # (1, H, W, 3) float32 in [0, 1]
    tensors = dict(rec.t)
    tensors["image"] = torch.from_numpy(np.ascontiguousarray(image))
    if "latents" in kwargs:
        tensors["initial_latents"] = kwargs["latents"].clone()
    tensors["final_latents"] = tensors[f"step.{rec.tr_calls - 1}.latents"].clone()
    tensors["scheduler.timesteps"] = pipe.scheduler.timesteps.detach().clone().float()
    tensors["scheduler.sigmas"] = pipe.scheduler.sigmas.detach().clone().float()
    meta = dict(rec.meta)
    meta["n_transformer_calls"] = rec.tr_calls
    meta["n_text_encoder_calls"] = rec.te_calls
    meta["seconds"] = dt
    return image, tensors, meta, kwargs


def tensors_equal(a: dict, b: dict) -> tuple:
    if a.keys() != b.keys():
        return False, "key sets differ"
    worst = 0.0
    for k in a:
        if a[k].shape != b[k].shape or a[k].dtype != b[k].dtype:
            return False, f"{k} shape/dtype differs"
        if not torch.equal(a[k], b[k]):
            worst = max(worst, float((a[k].double() - b[k].double()).abs().max()))
    return worst == 0.0, f"max abs diff {worst}"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dir_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def sanity_checks(pipe, tokenizer):
    """Independent re-computations that document the conventions the Rust port must follow."""
    checks = {}
    # 1. chat template == Qwen3 format with enable_thinking=True (no <think> block)
    s = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True, enable_thinking=True
    )
    assert s == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", repr(s)
    checks["chat_template_example"] = s
    # 2. tokenizer adds no BOS/EOS
    ids = tokenizer("hi there")["input_ids"]
    assert tokenizer.decode(ids) == "hi there"
    checks["tokenize('hi there')"] = ids
    # 3. hidden_states[-2] == output of decoder layer num_layers-2 (pre final norm)
    te = pipe.text_encoder
    ids = torch.tensor([tokenizer(s)["input_ids"]])
    with torch.no_grad():
        hs = te(input_ids=ids, output_hidden_states=True).hidden_states
        assert len(hs) == te.config.num_hidden_layers + 1
        trunc = [None]

        def grab(m, a, k, o):
            trunc[0] = o[0] if isinstance(o, tuple) else o

        h = te.layers[te.config.num_hidden_layers - 2].register_forward_hook(grab, with_kwargs=True)
        te(input_ids=ids)
        h.remove()
    assert torch.equal(hs[-2], trunc[0])
    checks["hidden_states[-2]"] = f"output of text_encoder.layers[{te.config.num_hidden_layers - 2}]"
    return checks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                   "tests", "fixtures", "zimage-tiny-b"))
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 = most reproducible)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    root = args.root
    model_dir = os.path.join(root, "tiny-zimage")
    fix_dir = os.path.join(root, "fixtures")
    for d in (model_dir, fix_dir):
        if os.path.exists(d):
            shutil.rmtree(d)
    os.makedirs(fix_dir)

    t0 = time.perf_counter()
    components, build_info = build_components()
    ZImagePipeline(**components).save_pretrained(model_dir, safe_serialization=True)
    build_s = time.perf_counter() - t0
    print(f"built + saved tiny pipeline in {build_s:.2f}s -> {model_dir} ({dir_size(model_dir)/1e6:.2f} MB)")

    # Reload from disk: the fixtures are produced from exactly the files a port will read.
    base = ZImagePipeline.from_pretrained(model_dir, torch_dtype=torch.float32)
    base.set_progress_bar_config(disable=True)
    pipes = {
        "ZImagePipeline": base,
        "ZImageImg2ImgPipeline": ZImageImg2ImgPipeline(**base.components),
        "ZImageInpaintPipeline": ZImageInpaintPipeline(**base.components),
    }
    for p in pipes.values():
        p.set_progress_bar_config(disable=True)
    checks = sanity_checks(base, base.tokenizer)

    input_image, mask_image = make_input_image(), make_mask()
    input_image.save(os.path.join(fix_dir, "input.png"))
    mask_image.save(os.path.join(fix_dir, "mask.png"))

    manifest = dict(
        versions=dict(
            python=sys.version.split()[0],
            torch=torch.__version__,
            diffusers=diffusers.__version__,
            transformers=transformers.__version__,
            tokenizers=tokenizers.__version__,
            numpy=np.__version__,
        ),
        torch_threads=torch.get_num_threads(),
        configs=dict(
            transformer=TRANSFORMER_CONFIG,
            vae=VAE_CONFIG,
            text_encoder=TEXT_ENCODER_CONFIG,
            scheduler=SCHEDULER_CONFIG,
            tokenizer=dict(bpe_vocab=BPE_VOCAB_SIZE, specials=SPECIAL_TOKENS, chat_template=CHAT_TEMPLATE),
        ),
        seeds=SEEDS,
        build_info=build_info,
        build_seconds=build_s,
        sanity_checks=checks,
        cases={},
        files={},
    )

    all_ok = True
    for name, spec in CASES.items():
        runs = []
        for rep in range(2):
            runs.append(run_case(pipes, name, spec, input_image, mask_image))
        (img_a, ten_a, meta_a, kw), (img_b, ten_b, meta_b, _) = runs
        same, detail = tensors_equal(ten_a, ten_b)
        all_ok &= same
        print(
            f"[{name}] run1 {meta_a['seconds']:.3f}s  run2 {meta_b['seconds']:.3f}s  "
            f"deterministic={same} ({detail})  transformer calls={meta_a['n_transformer_calls']}"
        )
        cdir = os.path.join(fix_dir, name)
        os.makedirs(cdir)
        ZImagePipeline.numpy_to_pil(img_a)[0].save(os.path.join(cdir, "output.png"))
        save_file(ten_a, os.path.join(cdir, "tensors.safetensors"))
        fl = ten_a["final_latents"]
        np.save(os.path.join(cdir, "final_latents.npy"), fl.numpy())
        decoded = ten_a["vae_decode.output"]
        case_meta = dict(
            {k: v for k, v in spec.items() if k != "steps"},
            height=int(decoded.shape[-2]),
            width=int(decoded.shape[-1]),
            num_inference_steps=spec["steps"],
            max_sequence_length=MAX_SEQ,
            call_kwargs={k: (v if isinstance(v, (int, float, str, bool)) or v is None else type(v).__name__)
                         for k, v in kw.items() if k not in ("callback_on_step_end",)},
            timesteps=ten_a["scheduler.timesteps"].tolist(),
            sigmas=ten_a["scheduler.sigmas"].tolist(),
            transformer_t=[ten_a[f"transformer.{i}.t"].tolist() for i in range(meta_a["n_transformer_calls"])],
            prompt_token_ids=ten_a["text_encoder.0.input_ids"][0][
                ten_a["text_encoder.0.attention_mask"][0].bool()
            ].tolist(),
            templated_prompt=pipes[spec["pipeline"]].tokenizer.apply_chat_template(
                [{"role": "user", "content": spec["prompt"]}], tokenize=False,
                add_generation_prompt=True, enable_thinking=True),
            randn_calls=meta_a.get("randn_calls", []),
            tensor_shapes={k: list(v.shape) for k, v in ten_a.items()},
            final_latents_stats=dict(mean=float(fl.mean()), std=float(fl.std()),
                                     min=float(fl.min()), max=float(fl.max())),
            seconds=[meta_a["seconds"], meta_b["seconds"]],
            deterministic=same,
        )
        with open(os.path.join(cdir, "meta.json"), "w") as f:
            json.dump(case_meta, f, indent=1)
        manifest["cases"][name] = dict(seconds=case_meta["seconds"], deterministic=same)

    for d, _, fs in sorted(os.walk(root)):
        if not (d.startswith(model_dir) or d.startswith(fix_dir)):
            continue
        for fname in sorted(fs):
            p = os.path.join(d, fname)
            manifest["files"][os.path.relpath(p, root)] = dict(bytes=os.path.getsize(p), sha256=sha256(p))
    manifest["sizes"] = dict(model_bytes=dir_size(model_dir), fixtures_bytes=dir_size(fix_dir))
    with open(os.path.join(fix_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"model {dir_size(model_dir)/1e6:.2f} MB, fixtures {dir_size(fix_dir)/1e6:.2f} MB")
    if not all_ok:
        print("NON-DETERMINISTIC RESULTS", file=sys.stderr)
        sys.exit(1)
    print("all cases deterministic")


if __name__ == "__main__":
    main()
