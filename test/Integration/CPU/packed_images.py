# RUN: %python %s
"""Several images of different sizes in one packed sequence (the
dynamic-resolution path of Nano 3 VL / Omni, spec §3.5, §5.4, §7, §10.1):
a module compiled with a list of --source-size takes one uint8 image per
size, resizes each to its §10.1 size for its share of the context, and
returns the images' tokens in order.

Checked: the sizes the compiler chooses against the spec's pseudo-code
(written out below, independently of the C++ geometry library), with and
without a context limit; the numbers against the packed PyTorch reference
(block-diagonal attention), in f32 and bf16; the packed reference against
the per-image reference; fovea-run on PNG files (geometry prediction, rows
returned, values); and one-line errors. The Python API's packed modules are
checked in test/python/test_package.py."""

import json
import math
import os
import re

import numpy as np
import torch
from PIL import Image

import pipeline_reference as pipe
from fovea_testing import compile_model
from fovea_testing.checks import Cases, check_close, from_array, rounded, to_array
from fovea_testing.files import read_npy, write_safetensors
from fovea_testing.tools import BIN, WORK, build, expect_error, sh, weights_for

TINY = dict(patch_size=16, depth=2, heads=2, num_prefix=2)
MIN_PATCHES, MAX_PATCHES = 16, 64  # the tiny-dynamic preset
RUN = f"{BIN}/fovea-run"
COMPILE = f"{BIN}/fovea-compile"


def grid(height, width, budget, min_p=MIN_PATCHES, patch=16):
    """§10.1 per image, as the pseudo-code reads (Python's round)."""
    ch, cw = round(height / patch + 0.5), round(width / patch + 0.5)
    f = min(math.sqrt(budget / (ch * cw)), 1.0)
    th, tw = math.floor(f * ch), math.floor(f * cw)
    if budget > min_p and th * tw < min_p:
        u = math.sqrt(min_p / (th * tw))
        th, tw = math.ceil(u * th), math.ceil(u * tw)
    if th % 2:
        th = th + 1 if (th + 1) * tw <= budget else max(2, th - 1)
    if tw % 2:
        tw = tw + 1 if th * (tw + 1) <= budget else max(2, tw - 1)
    return th, tw


def budgets(sizes, max_model_len, prompt_tokens, min_p=MIN_PATCHES, max_p=MAX_PATCHES):
    """§10.1 compute_params: per-image budgets sharing the context."""
    if max_model_len <= 0:
        return [max_p] * len(sizes)
    n = max((max_model_len - prompt_tokens - 4) * 4, min_p * len(sizes))
    per = [min(max(n, min_p), max_p)] * len(sizes)
    for _ in range(10):
        counts = [th * tw for th, tw in (grid(h, w, b) for (h, w), b in zip(sizes, per))]
        if sum(counts) <= n:
            return per
        s = n / sum(counts)
        new = [max(min_p, int(c * s)) for c in counts]
        per = new if any(a < b for a, b in zip(new, per)) else [min_p] * len(sizes)
    raise ValueError("budgets do not converge")


def expected_sizes(sizes, max_model_len=0, prompt_tokens=0):
    per = budgets(sizes, max_model_len, prompt_tokens)
    return [tuple(16 * d for d in grid(h, w, b)) for (h, w), b in zip(sizes, per)]


def flags(sizes, dtype="f32", max_model_len=0, prompt_tokens=0):
    args = ["--preset", "tiny-dynamic", "--dtype", dtype,
            "--source-size", ",".join(f"{h}x{w}" for h, w in sizes)]
    if max_model_len:
        args += ["--max-model-len", str(max_model_len)]
    if prompt_tokens:
        args += ["--prompt-tokens", str(prompt_tokens)]
    return args


def compiled_sizes(vision_ir):
    """The encoder size of each packed image, from the position embeddings
    the compiled graph interpolates (one per image, in order)."""
    grids = re.findall(r"interp_pos_embed .*grid = array<i64: (\d+), (\d+)>", vision_ir)
    return [(16 * int(r), 16 * int(c)) for r, c in grids]


def images(sizes, seed):
    g = torch.Generator().manual_seed(seed)
    out = []
    for h, w in sizes:
        base = torch.rand(1, 3, 5, 7, generator=g) * 255
        smooth = torch.nn.functional.interpolate(base, size=(h, w), mode="bilinear",
                                                 align_corners=False)
        noise = torch.randint(-20, 21, (1, 3, h, w), generator=g)
        out.append((smooth + noise).clamp(0, 255).to(torch.uint8))
    return out


def reference(pixels, sizes, weights):
    seen = [pipe.preprocess(p, s) for p, s in zip(pixels, sizes)]
    packed = pipe.packed_vision_pipeline(seen, weights, **TINY)
    # Block-diagonal attention makes the packed sequence the images one by one.
    alone = torch.cat([pipe.vision_pipeline(s, weights, **TINY)[0] for s in seen])
    check_close(packed, alone, "f32", "packed reference vs per image", rtol=1e-4, atol=1e-5)
    return packed


def sizes_case(sizes, max_model_len=0, prompt_tokens=0):
    want = expected_sizes(sizes, max_model_len, prompt_tokens)
    vision = sh(COMPILE, *flags(sizes, max_model_len=max_model_len,
                                 prompt_tokens=prompt_tokens),
                "--compile-to", "vision").stdout
    got = compiled_sizes(vision)
    assert got == want, f"{sizes} (context {max_model_len}): compiled {got}, spec {want}"
    tokens = sum(h * w // 1024 for h, w in want)
    assert f"-> tensor<{tokens}x96x" in vision, f"result is not [{tokens}, 96]"


def numbers_case(sizes, dtype):
    module, names = compile_model(*flags(sizes, dtype))
    shapes = module.argument_shapes("run")[len(sizes):]
    weights = {k: rounded(v, dtype) for k, v in
               pipe.random_weights(names, shapes, seed=len(sizes)).items()}
    pixels = images(sizes, seed=len(sizes))
    (result,) = module.call("run", *[p.numpy() for p in pixels],
                            *[to_array(weights[n], dtype) for n in names])
    expected = reference(pixels, expected_sizes(sizes), weights)
    check_close(from_array(result, dtype), expected, dtype, f"packed {sizes} {dtype}",
                rtol=1e-3, atol=1e-4)


SIZES = [(100, 60), (64, 64), (200, 300)]


def run_case():
    """fovea-run on PNG files: the prediction before the run, the rows it
    returns, the values."""
    module = build("packed", *flags(SIZES))
    weights = weights_for(module, "f32")
    ckpt = os.path.join(WORK, "packed.safetensors")
    write_safetensors(ckpt, weights)
    pixels = images(SIZES, seed=7)
    paths = []
    for k, p in enumerate(pixels):
        path = os.path.join(WORK, f"packed{k}.png")
        Image.fromarray(p[0].permute(1, 2, 0).numpy(), "RGB").save(path)
        paths.append(path)
    out_path = os.path.join(WORK, "packed_out.npy")
    out = sh(RUN, module, "--weights", ckpt, *sum([["--input", p] for p in paths], []),
             "--geometry", "--output", out_path).stdout
    line = next(l for l in out.splitlines() if l.startswith("geometry: "))
    geometry = json.loads(line[len("geometry: "):])
    sizes = expected_sizes(SIZES)
    tokens = [h * w // 1024 for h, w in sizes]
    assert geometry["packed"] and geometry["tokens_per_image"] == tokens, geometry
    assert [(i["size"]["height"], i["size"]["width"]) for i in geometry["per_image"]] == sizes
    assert geometry["prompt_per_image"][1] == "<img>" + "<image>" * tokens[1] + "</img>"
    result = read_npy(out_path)
    assert list(result.shape) == [sum(tokens), 96], result.shape
    check_close(result, reference(pixels, sizes, weights), "f32", "fovea-run packed",
                rtol=1e-3, atol=1e-4)

    # Errors: too few inputs, sizes out of order, --save-input.
    expect_error([RUN, module, "--weights", ckpt, "--input", paths[0]],
                 "the module packs 3 images; give one --input per image, got 1")
    expect_error([RUN, module, "--weights", ckpt, "--input", paths[1], "--input", paths[0],
                  "--input", paths[2]], "is 64x64 (HxW) but the module's image 0 is 100x60")
    expect_error([RUN, module, "--geometry", *sum([["--input", p] for p in paths], []),
                  "--save-input", os.path.join(WORK, "x.npy")],
                 "--save-input writes one .npy")


def errors_case():
    expect_error([COMPILE, "--preset", "tiny", "--source-size", "64x64,96x96"],
                 "needs a dynamic-resolution image model")
    expect_error([COMPILE, "--preset", "tiny-dynamic", "--source-size", "64x64,96x96",
                  "--image-size", "64x64"], "exclude a single source size and --image-size")
    expect_error([COMPILE, "--preset", "tiny-dynamic", "--source-size", "64x64",
                  "--max-model-len", "100"], "set the budgets of packed images")
    expect_error([COMPILE, "--preset", "tiny-dynamic", "--source-size", "64x64,x96"],
                 "--source-size expects HxW or a list")
    expect_error([COMPILE, "--preset", "tiny-dynamic", "--source-size", "64x64,96x96",
                  "--max-model-len", "-3"], "must not be negative")
    # A context too short for these three images: the pseudo-code raises too.
    sizes = [(18, 472), (288, 250), (120, 341)]
    try:
        budgets(sizes, 6, 0)
        raise AssertionError("the pseudo-code converged")
    except ValueError:
        pass
    expect_error([COMPILE, *flags(sizes, max_model_len=6)],
                 "the images' patch budgets do not converge for a context of 6 tokens")


cases = Cases()
cases.run("sizes: no context limit", sizes_case, SIZES)
# 4 * (40 - 4) = 144 patches for three images: the budgets shrink.
cases.run("sizes: context 40", sizes_case, [(300, 400), (200, 300), (1000, 250)], 40)
cases.run("sizes: context 60 with 20 prompt tokens", sizes_case,
          [(640, 480), (480, 640)], 60, 20)
cases.run("numbers f32", numbers_case, SIZES, "f32")
cases.run("numbers bf16, two images", numbers_case, [(90, 250), (130, 70)], "bf16")
cases.run("fovea-run and Python on PNG files", run_case)
cases.run("errors", errors_case)
cases.finish()
