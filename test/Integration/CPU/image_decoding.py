# RUN: %python %s
"""Decoded images equal what vLLM's image loader gets from Pillow for the
same file (`Image.open`, RGBA composited on white, every other mode
`convert("RGB")`, no EXIF rotation), checked through fovea-run --save-input
on PNG (8/16-bit, grey 1/2/4/8/16-bit, grey+alpha, palette with and without
transparency, RGBA, interlaced) and JPEG (4:2:0, 4:2:2, 4:4:4, greyscale,
CMYK, progressive, an EXIF orientation) and BMP; the size limit before allocation
and --max-image-pixels."""

import io
import os
import struct
import zlib

import numpy as np
from PIL import Image

from fovea_testing.checks import Cases
from fovea_testing.files import read_npy
from fovea_testing.tools import BIN, WORK, build, expect_error, sh

H, W = 40, 56
RUN = f"{BIN}/fovea-run"
MODULE = build("decode", "--preset", "tiny", "--dtype", "f32", "--source-size", f"{H}x{W}")


def vllm_rgb(path):
    """vLLM's ImageMediaIO: Image.open, then RGBA on white or convert."""
    image = Image.open(path)
    if image.mode == "RGB":
        rgb = image
    elif image.mode == "RGBA":
        rgb = Image.new("RGB", image.size, (255, 255, 255))
        rgb.paste(image, mask=image.split()[3])
    else:
        rgb = image.convert("RGB")
    return np.asarray(rgb).transpose(2, 0, 1)


def fovea_rgb(path):
    saved = path + ".npy"
    sh(RUN, MODULE, "--input", path, "--save-input", saved)
    return read_npy(saved).numpy()[0]


def scene(channels=3, seed=0, dtype=np.uint8, high=256):
    """Smooth gradients plus noise, so that chroma subsampling and DCT
    rounding matter."""
    g = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W]
    base = np.stack([(x * 255 // W + 37 * c) % 256 + (y * 3) for c in range(channels)], -1)
    noise = g.integers(0, 40, (H, W, channels))
    img = (base + noise) % 256
    if high > 256:
        img = img * 257 + g.integers(0, 257, (H, W, channels))
    return img.astype(dtype)


def write_png(path, array, color_type, depth, palette=None, trns=None, interlace=0):
    """A PNG from raw samples (Pillow cannot write every layout)."""
    h, w = array.shape[:2]
    if depth < 8:
        per_byte = 8 // depth
        rows = []
        for r in array.reshape(h, w):
            packed = bytearray((w + per_byte - 1) // per_byte)
            for i, v in enumerate(r):
                packed[i // per_byte] |= int(v) << (8 - depth * (i % per_byte + 1))
            rows.append(bytes(packed))
    else:
        data = array.astype(">u2" if depth == 16 else np.uint8)
        rows = [data[i].tobytes() for i in range(h)]
    assert interlace == 0
    raw = b"".join(b"\x00" + r for r in rows)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xffffffff)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type,
                                                              0, 0, interlace))
    if palette is not None:
        out += chunk(b"PLTE", bytes(palette))
    if trns is not None:
        out += chunk(b"tRNS", bytes(trns))
    out += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(out)


def png_cases():
    cases = {}
    p = lambda name: os.path.join(WORK, name + ".png")  # noqa: E731
    Image.fromarray(scene()).save(p("rgb8"))
    cases["RGB 8-bit"] = p("rgb8")
    rgba = scene(4, seed=1)
    rgba[..., 3] = np.tile(np.linspace(0, 255, W).astype(np.uint8), (H, 1))
    Image.fromarray(rgba, "RGBA").save(p("rgba8"))
    cases["RGBA 8-bit"] = p("rgba8")
    Image.fromarray(scene(1)[..., 0]).save(p("l8"))
    cases["grey 8-bit"] = p("l8")
    Image.fromarray(scene(1)[..., 0] > 128).save(p("l1"))
    cases["grey 1-bit"] = p("l1")
    for depth in (2, 4):
        write_png(p(f"l{depth}"), scene(1)[..., 0] % (1 << depth), 0, depth)
        cases[f"grey {depth}-bit"] = p(f"l{depth}")
    write_png(p("l16"), scene(1, dtype=np.uint16, high=65536)[..., 0] // 200, 0, 16)
    cases["grey 16-bit"] = p("l16")
    write_png(p("rgb16"), scene(3, dtype=np.uint16, high=65536), 2, 16)
    cases["RGB 16-bit"] = p("rgb16")
    rgba16 = scene(4, seed=2, dtype=np.uint16, high=65536)
    write_png(p("rgba16"), rgba16, 6, 16)
    cases["RGBA 16-bit"] = p("rgba16")
    la = np.stack([scene(1)[..., 0], scene(1, seed=3)[..., 0]], -1)
    Image.fromarray(la, "LA").save(p("la8"))
    cases["grey+alpha 8-bit"] = p("la8")
    write_png(p("la16"), scene(2, seed=4, dtype=np.uint16, high=65536), 4, 16)
    cases["grey+alpha 16-bit"] = p("la16")
    palette = Image.fromarray(scene()).quantize(37)
    palette.save(p("p8"))
    cases["palette"] = p("p8")
    palette.save(p("p8t"), transparency=5)
    cases["palette with tRNS"] = p("p8t")
    # Pillow writes no interlaced PNGs.
    cases["interlaced (Adam7)"] = adam7(p("rgb_adam7"), scene(seed=5))
    return cases


def adam7(path, rgb):
    """An interlaced 8-bit RGB PNG."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
              (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = rgb[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        raw += b"".join(b"\x00" + row.tobytes() for row in sub)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xffffffff)
    h, w = rgb.shape[:2]
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1))
    data += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)
    return path


def jpeg_cases():
    cases = {}
    p = lambda name: os.path.join(WORK, name + ".jpg")  # noqa: E731
    rgb = Image.fromarray(scene(seed=6))
    for sub, name in ((2, "4:2:0"), (1, "4:2:2"), (0, "4:4:4")):
        for quality in (85, 95):
            path = p(f"j{sub}_{quality}")
            rgb.save(path, quality=quality, subsampling=sub)
            cases[f"{name} q{quality}"] = path
    rgb.save(p("prog"), quality=90, progressive=True)
    cases["progressive"] = p("prog")
    Image.fromarray(scene(1)[..., 0]).save(p("grey"), quality=90)
    cases["greyscale"] = p("grey")
    rgb.convert("CMYK").save(p("cmyk"), quality=90)
    cases["CMYK"] = p("cmyk")
    exif = Image.Exif()
    exif[0x0112] = 6
    rgb.save(p("exif"), quality=90, exif=exif)
    cases["EXIF orientation 6 (not applied)"] = p("exif")
    return cases


def run_equal(cases):
    for what, path in cases.items():
        expected = vllm_rgb(path)
        got = fovea_rgb(path)
        assert got.shape == expected.shape, (what, got.shape, expected.shape)
        diff = np.abs(got.astype(int) - expected.astype(int))
        assert diff.max() == 0, (f"{what}: {int((diff > 0).sum())} of {diff.size} values "
                                 f"differ, by up to {diff.max()}")


def run_limits():
    big = os.path.join(WORK, "big.png")
    Image.fromarray(np.zeros((64, 4000, 3), np.uint8)).save(big)
    expect_error([RUN, MODULE, "--input", big, "--save-input", big + ".npy",
                  "--max-image-pixels", "100000"],
                 "is 4000x64, over the limit of 100000 pixels (and 16384 pixels per side")
    assert not os.path.exists(big + ".npy")
    # Allowed by the limit: decoded, then refused for its size by the module.
    expect_error([RUN, MODULE, "--input", big, "--save-input", big + ".npy",
                  "--max-image-pixels", "300000"], "64x4000")
    expect_error([RUN, MODULE, "--input", big, "--max-image-pixels", "0"],
                 "--max-image-pixels expects a count from 1 to")
    text = os.path.join(WORK, "text.png")
    with open(text, "w") as f:
        f.write("not an image")
    expect_error([RUN, MODULE, "--input", text, "--geometry"],
                 "not a PNG, JPEG or BMP file (by its content)")
    cut = os.path.join(WORK, "cut.jpg")
    data = open(jpeg_cases()["4:2:0 q85"], "rb").read()
    with open(cut, "wb") as f:
        f.write(data[: len(data) // 2])
    expect_error([RUN, MODULE, "--input", cut, "--save-input", cut + ".npy"],
                 "the JPEG data is truncated")
    cutpng = os.path.join(WORK, "cut.png")
    data = open(png_cases()["RGB 8-bit"], "rb").read()
    with open(cutpng, "wb") as f:
        f.write(data[: len(data) - 30])
    expect_error([RUN, MODULE, "--input", cutpng, "--save-input", cutpng + ".npy"],
                 "cannot decode image")


def bmp_cases():
    path = os.path.join(WORK, "rgb.bmp")
    Image.fromarray(scene(seed=7)).save(path)
    return {"BMP 24-bit": path}


cases = Cases()
cases.run("PNG equals Pillow", run_equal, png_cases())
cases.run("BMP equals Pillow", run_equal, bmp_cases())
cases.run("JPEG equals Pillow", run_equal, jpeg_cases())
cases.run("limits and bad files", run_limits)
cases.finish()
