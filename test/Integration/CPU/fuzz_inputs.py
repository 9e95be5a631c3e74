# RUN: %python %s
"""Mutation fuzzing of every file Fovea reads: PNG, JPEG and BMP images, an
H.264 clip, .npy pixels, a safetensors checkpoint and a config.json, each
truncated, bit-flipped and spliced with random bytes (fixed seeds). Every
run must end with exit status 0 or 1 — never a signal or an abort — and a
failure must print exactly one line."""

import json
import os
import random
import zlib

import torch
from PIL import Image

from fovea_testing.checks import Cases
from fovea_testing.compiled import _SRC_ROOT
from fovea_testing.files import write_npy, write_safetensors
from fovea_testing.tools import BIN, WORK, build, sh, weights_for

RUN = f"{BIN}/fovea-run"
ROUNDS = 40


def mutations(data, seed):
    """`ROUNDS` damaged copies of `data`."""
    rng = random.Random(seed)
    for i in range(ROUNDS):
        d = bytearray(data)
        kind = i % 4
        if kind == 0:
            d = d[: rng.randrange(0, len(d))]
        elif kind == 1:
            for _ in range(rng.randint(1, 16)):
                d[rng.randrange(len(d))] ^= 1 << rng.randrange(8)
        elif kind == 2:
            at = rng.randrange(len(d))
            d[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        else:
            # Damage the header region, where the parsers read sizes.
            for _ in range(rng.randint(1, 8)):
                d[rng.randrange(min(len(d), 256))] = rng.randrange(256)
        yield bytes(d)


def check_run(args, what):
    result = sh(*args, expect_ok=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode in (0, 1), \
        f"{what}: exit status {result.returncode} ({' '.join(map(str, args))})\n{result.stderr[-500:]}"
    if result.returncode:
        assert len(lines) == 1, f"{what}: expected one error line, got {lines}"
    return result.returncode


def fuzz(name, seed_bytes, suffix, command):
    failures = 0
    for k, data in enumerate(mutations(seed_bytes, zlib.crc32(name.encode()))):
        path = os.path.join(WORK, f"fuzz_{name}_{k}{suffix}")
        with open(path, "wb") as f:
            f.write(data)
        failures += check_run(command(path), f"{name} #{k}")
        os.remove(path)
    print(f"{name}: {ROUNDS} mutants, {failures} rejected with one line, none crashed")


image_module = build("fuzz_image", "--preset", "tiny", "--dtype", "f32", "--source-size", "64x64")
video_module = build("fuzz_video", "--preset", "tiny-video", "--input-kind", "video",
                     "--dtype", "f32", "--source-size", "64x64")
weights = weights_for(image_module, "f32")
ckpt = os.path.join(WORK, "fuzz.safetensors")
write_safetensors(ckpt, weights)
good_npy = os.path.join(WORK, "fuzz_good.npy")
write_npy(good_npy, torch.randint(0, 256, (1, 3, 64, 64), dtype=torch.uint8))

g = torch.Generator().manual_seed(5)
picture = Image.fromarray((torch.rand(64, 64, 3, generator=g) * 255).to(torch.uint8).numpy(), "RGB")
seeds = {}
for fmt, ext in (("PNG", ".png"), ("JPEG", ".jpg"), ("BMP", ".bmp")):
    path = os.path.join(WORK, "seed" + ext)
    picture.save(path, fmt)
    seeds[ext] = open(path, "rb").read()
clip = os.path.join(WORK, "seed.mp4")
sh("ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=4",
   "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", clip)
config = json.load(open(os.path.join(_SRC_ROOT, "test", "Driver", "Inputs",
                                     "tiny_omni_config.json")))

def huge_shapes():
    """Sizes that overflow or exceed memory are rejected before allocating."""
    header = "{'descr': '|u1', 'fortran_order': False, 'shape': (1000000000000, 1000000000000, 3), }"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    path = os.path.join(WORK, "huge.npy")
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    assert check_run([RUN, image_module, "--weights", ckpt, "--input", path], "huge npy") == 1
    meta = {"vision_model.radio_model.model.patch_generator.embedder.weight":
            {"dtype": "F32", "shape": [2 ** 40, 2 ** 40], "data_offsets": [0, 16]}}
    text = json.dumps(meta).encode()
    path = os.path.join(WORK, "huge.safetensors")
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + bytes(16))
    assert check_run([RUN, image_module, "--weights", path, "--input", good_npy],
                     "huge safetensors") == 1


cases = Cases()
cases.run("huge shapes", huge_shapes)
for ext in (".png", ".jpg", ".bmp"):
    cases.run(f"image {ext}", fuzz, "image" + ext, seeds[ext], ext,
              lambda p: [RUN, image_module, "--geometry", "--input", p])
cases.run("video .mp4", fuzz, "video", open(clip, "rb").read(), ".mp4",
          lambda p: [RUN, video_module, "--save-input", p + ".npy", "--input", p])
cases.run("pixels .npy", fuzz, "npy", open(good_npy, "rb").read(), ".npy",
          lambda p: [RUN, image_module, "--weights", ckpt, "--input", p])
cases.run("checkpoint .safetensors", fuzz, "safetensors", open(ckpt, "rb").read(),
          ".safetensors", lambda p: [RUN, image_module, "--weights", p, "--input", good_npy])
cases.run("config.json", fuzz, "config", json.dumps(config).encode(), ".json",
          lambda p: [f"{BIN}/fovea-compile", "--config", p, "--compile-to", "vision",
                     "-o", os.devnull])
cases.finish()
