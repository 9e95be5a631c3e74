"""Writes the seed corpora of the fuzz harnesses (checked in under
corpus/<fuzzer>/): small valid files of every layout each parser takes.
Rerun after changing a format: /usr/bin/python3 test/Fuzz/make_corpus.py"""

import io
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def put(fuzzer, name, data):
    d = os.path.join(HERE, "corpus", fuzzer)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def npy(array, descr=None, version=1):
    header = {"descr": descr or array.dtype.str, "fortran_order": False,
              "shape": array.shape}
    text = repr(header).encode()
    size = 4 if version > 1 else 2
    pad = (64 - (8 + size + len(text) + 1) % 64) % 64
    text += b" " * pad + b"\n"
    length = struct.pack("<I" if version > 1 else "<H", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + array.tobytes()


def safetensors(tensors):
    header, blobs, offset = {}, b"", 0
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs += data
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + blobs


def image(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def main():
    shutil.rmtree(os.path.join(HERE, "corpus"), ignore_errors=True)
    # JSON: module metadata and safetensors headers.
    put("json", "metadata", json.dumps({
        "fovea_module": 5, "inputs": [{"name": "pixels", "dtype": "u8", "shape": [-1, 3, 64, 64]}],
        "weights": [{"name": "a", "dtype": "f32", "shape": [2], "init_only": True}],
        "cpu": {"name": "x86-64", "features": []}, "evs_rate": 0.5}).encode())
    put("json", "escapes", b'{"k\\u00e9y": ["a\\n", -1.5e-3, true, false, null, {}, []]}')
    # .npy
    put("npy", "u8", npy(np.arange(12, dtype=np.uint8).reshape(1, 3, 2, 2)))
    put("npy", "f32-v2", npy(np.ones((2, 2), np.float32), version=2))
    put("npy", "bf16", npy(np.zeros(4, np.uint16), descr="bfloat16"))
    put("npy", "i64", npy(np.arange(3, dtype=np.int64)))
    # safetensors: first byte even = one file, odd = a shard index.
    f32 = lambda n: np.arange(n, dtype=np.float32).tobytes()  # noqa: E731
    put("safetensors", "remote", b"\x00" + safetensors({
        "vision_model.radio_model.model.a": ("F32", [2], f32(2)),
        "vision_model.radio_model.model.blocks.0.attn.qkv.weight": ("F32", [3, 1], f32(3)),
        "mlp1.0.weight": ("BF16", [2], b"\x80\x3f\x00\x40")}))
    put("safetensors", "transformers", b"\x00" + safetensors({
        "vision_model.embeddings.patch_projection.weight": ("F32", [1, 3, 1, 1], f32(3)),
        "vision_model.encoder.layer.0.attention.attention.query.weight": ("F32", [1, 1], f32(1)),
        "vision_model.encoder.layer.0.attention.attention.key.weight": ("F32", [1, 1], f32(1)),
        "vision_model.encoder.layer.0.attention.attention.value.weight": ("F32", [1, 1], f32(1)),
        "vision_projector.mlp1.norm.weight": ("F16", [1], b"\x00\x3c")}))
    put("safetensors", "index", b"\x01" + json.dumps({
        "metadata": {}, "weight_map": {"vision_model.radio_model.model.a": "shard.safetensors"}}).encode())
    # config.json
    inputs = os.path.join(ROOT, "test", "Driver", "Inputs")
    for name in ("tiny_omni_config.json", "nano_12b_v2_vl_config.json", "omni_config.json"):
        put("config", name, open(os.path.join(inputs, name), "rb").read())
    # Images
    g = np.random.default_rng(0)
    rgb = Image.fromarray(g.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    put("image", "rgb.png", image(rgb, "PNG"))
    put("image", "rgba.png", image(rgb.convert("RGBA"), "PNG"))
    put("image", "palette.png", image(rgb.quantize(4), "PNG", transparency=1))
    put("image", "grey16.png", image(Image.fromarray(np.arange(64, dtype=np.uint16).reshape(8, 8) * 900), "PNG"))
    put("image", "420.jpg", image(rgb, "JPEG", quality=80))
    put("image", "444-progressive.jpg", image(rgb, "JPEG", quality=90, subsampling=0, progressive=True))
    put("image", "grey.jpg", image(rgb.convert("L"), "JPEG"))
    put("image", "cmyk.jpg", image(rgb.convert("CMYK"), "JPEG"))
    put("image", "rgb.bmp", image(rgb, "BMP"))
    # Found by fuzz-image: a top-down BMP of 11682306 rows.
    put("image", "tall.bmp", bytes.fromhex(
        "424df60000000000000036000000280000003200"
        "0000febd4dff0100180000000000c0000000c40e"
        "0000c40e00b3000000005e0a7d3d"))
    # Found by fuzz-image: a BMP of height -2^31.
    put("image", "int-min.bmp", bytes.fromhex("424dcb00000000000000ffff000028000000f900000000000080010000e8000000c4000000fe0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0cffffff0100180000000000c0000000c40e0000c40000"))
    # Video: a few frames of H.264 and of raw y4m.
    tmp = os.path.join(HERE, "clip.mp4")
    for codec, ext in ((["-c:v", "libx264", "-pix_fmt", "yuv420p"], "mp4"), (["-pix_fmt", "yuv420p"], "y4m")):
        out = tmp[:-3] + ext
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc=size=16x16:rate=4", "-t", "0.75", *codec, out], check=True)
        put("video", "clip." + ext, open(out, "rb").read())
        os.remove(out)


if __name__ == "__main__":
    sys.exit(main())
