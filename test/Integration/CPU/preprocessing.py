# RUN: %python %s
"""In-graph preprocessing: modules compiled with --source-size take decoded
uint8 images or frames at that size and resize them inside the graph
(InternVL tiles with a thumbnail, a single tile, an explicit --image-size in
the f32_clamp domain, aspect-preserving video frames with EVS). Each is
compared with the reference preprocessing (whose u8 resize is Pillow's,
checked here too) followed by the reference pipeline."""

import numpy as np
import torch
from PIL import Image

import pipeline_reference as pipe
from fovea_testing import compile_model
from fovea_testing.checks import (Cases, check_close, check_equal, from_array,
                                  rounded, to_array)

TINY = dict(patch_size=16, depth=2, heads=2, num_prefix=2)
try:
    BICUBIC = Image.Resampling.BICUBIC
except AttributeError:  # Pillow < 9.1
    BICUBIC = Image.BICUBIC


def pillow_tiles(image, cols, rows, s, thumbnail):
    """§10.2 with Pillow's resize: the tiles of one CHW uint8 image."""
    img = Image.fromarray(image.permute(1, 2, 0).numpy(), "RGB")
    full = np.asarray(img.resize((cols * s, rows * s), BICUBIC))
    out = [full[r * s:(r + 1) * s, c * s:(c + 1) * s]
           for r in range(rows) for c in range(cols)]
    if thumbnail:
        out.append(np.asarray(img.resize((s, s), BICUBIC)))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2)


def images(count, height, width, seed):
    g = torch.Generator().manual_seed(seed)
    # Smooth content (a low-resolution pattern, upsampled) plus noise.
    base = torch.rand(count, 3, 6, 9, generator=g) * 255
    smooth = torch.nn.functional.interpolate(base, size=(height, width),
                                             mode="bilinear", align_corners=False)
    noise = torch.randint(-20, 21, (count, 3, height, width), generator=g)
    return (smooth + noise).clamp(0, 255).to(torch.uint8)


def run(preset, kind, dtype, source, prep, frames=2, evs_rate=0.0, extra=()):
    args = ["--preset", preset, "--input-kind", kind, "--dtype", dtype,
            "--source-size", f"{source[0]}x{source[1]}", *extra]
    if evs_rate:
        args += ["--evs-rate", repr(evs_rate)]
    module, names = compile_model(*args)
    shapes = module.argument_shapes("run")[1:]
    weights = {k: rounded(v, dtype) for k, v in
               pipe.random_weights(names, shapes, seed=len(names)).items()}
    pixels = images(frames, *source, seed=frames)
    outputs = module.call("run", pixels.numpy(),
                          *[to_array(weights[n], dtype) for n in names])
    domain = "f32_clamp" if "f32_clamp" in extra else "u8"
    seen = pipe.preprocess(pixels, prep["size"], tiles=prep.get("tiles"),
                           thumbnail=prep.get("thumbnail", False), domain=domain)
    if "tiles" in prep:
        cols, rows = prep["tiles"]
        for n in range(frames):
            units = cols * rows + (1 if prep.get("thumbnail") else 0)
            pil = pillow_tiles(pixels[n], cols, rows, prep["size"][0],
                               prep.get("thumbnail", False))
            diff = (pil.int() - seen[n * units:(n + 1) * units].int()).abs().max()
            if diff > 1:
                raise AssertionError(f"reference tiles differ from Pillow by {diff}")
    # f32_clamp hands f32 pixels in [0, 255] to normalize, as u8 does bytes.
    temporal = 2 if kind == "video" and preset == "tiny-video" else 1
    expected = pipe.vision_pipeline(seen, weights, temporal=temporal,
                                    evs_rate=evs_rate, **TINY)
    what = f"{preset} {kind} {dtype} source={source}"
    if evs_rate:
        kept, counts = outputs
        check_equal(counts, expected[1].numpy(), what + ": counts")
        check_close(from_array(kept, dtype), expected[0], dtype, what + ": kept",
                    rtol=1e-3, atol=1e-4)
    else:
        check_close(from_array(outputs[0], dtype), expected, dtype, what,
                    rtol=1e-3, atol=1e-4)


cases = Cases()
# 300x100: aspect 3 -> 3 x 1 tiles and a thumbnail (tiny allows 4 tiles).
cases.run("tiny image 3x1 tiles + thumbnail f32", run, "tiny", "image", "f32",
          (100, 300), dict(size=(64, 64), tiles=(3, 1), thumbnail=True))
cases.run("tiny image 3x1 tiles + thumbnail bf16", run, "tiny", "image", "bf16",
          (100, 300), dict(size=(64, 64), tiles=(3, 1), thumbnail=True), frames=1)
# 60x70: one tile, no thumbnail.
cases.run("tiny image one tile", run, "tiny", "image", "f32", (70, 60),
          dict(size=(64, 64), tiles=(1, 1)))
# An explicit size, f32_clamp domain.
cases.run("tiny image f32_clamp to 64x128", run, "tiny", "image", "f32",
          (96, 200), dict(size=(64, 128)),
          extra=("--image-size", "64x128", "--resize-domain", "f32_clamp"))
# 240x135 (16:9) video within 32 patches -> 128x64 frames; 5 frames, EVS.
cases.run("tiny-video frames 135x240 -> 64x128, EVS 0.5", run, "tiny-video",
          "video", "f32", (135, 240), dict(size=(64, 128)), frames=5, evs_rate=0.5)
cases.finish()
