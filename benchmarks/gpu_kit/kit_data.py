"""Weights and inputs of the GPU check kit, generated from a seed the same
way on every machine: a splitmix64 hash of (seed, tensor name, element
index) in numpy's wrapping uint64 arithmetic, turned into uniform values of
unit variance with exact float32 steps, scaled like a trained ViT (norm
weights near 1, small biases, projections 1/sqrt(fan-in)) and rounded to
bf16 to nearest-even with integer arithmetic. Nothing depends on a library's
random number generator, so the kit's machine reproduces the weights the
expected outputs were computed with, and nothing large travels."""

import json
import math
import struct
import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(x):
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def uniform(key, count, seed):
    """`count` float32 values, uniform with mean 0 and variance 1."""
    base = np.uint64((seed * 1000003 + zlib.crc32(key.encode())) & (2**64 - 1))
    with np.errstate(over="ignore"):
        h = _splitmix64(np.arange(count, dtype=np.uint64) ^ _splitmix64(
            np.array([base], dtype=np.uint64))[0])
    u = (h >> np.uint64(40)).astype(np.float32) * np.float32(2.0**-24)  # [0, 1)
    return (u - np.float32(0.5)) * np.float32(2.0 * math.sqrt(3.0))


def weight(name, shape, seed):
    """A weight of checkpoint name `name` as float32."""
    t = uniform(name, int(np.prod(shape)), seed).reshape(shape)
    if name.endswith(("norm1.weight", "norm2.weight", "norm.weight", "mlp1.0.weight")):
        return np.float32(1.0) + np.float32(0.1) * t
    if name.endswith("bias"):
        return np.float32(0.02) * t
    if name.endswith(("pos_embed", "cls_token.token")):
        return np.float32(0.5) * t
    return t * np.float32(1.0 / math.sqrt(shape[-1]))


def bf16_bits(x):
    """float32 -> bf16 bit patterns (uint16), rounded to nearest even."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounding = ((bits >> np.uint32(16)) & np.uint32(1)) + np.uint32(0x7FFF)
    return ((bits + rounding) >> np.uint32(16)).astype(np.uint16)


def bf16_to_f32(bits):
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


def write_safetensors(path, metadata, seed):
    """The weights a module's metadata declares, in its dtype."""
    header, blobs, offset = {}, [], 0
    for w in metadata["weights"]:
        value = weight(w["name"], w["shape"], seed)
        if w["dtype"] == "bf16":
            data, dtype = bf16_bits(value).tobytes(), "BF16"
        else:
            data, dtype = value.astype(np.float32).tobytes(), "F32"
        header[w["name"]] = {"dtype": dtype, "shape": w["shape"],
                             "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def pixels(shape, seed):
    """uint8 images or frames [N, 3, H, W]; consecutive frames share about
    70% of their pixels, as in a video (so EVS has something to prune)."""
    n = shape[0]
    frames = (uniform("pixels", int(np.prod(shape)), seed) * np.float32(1 / (2 * math.sqrt(3)))
              + np.float32(0.5))
    frames = np.clip(frames * 256, 0, 255).astype(np.uint8).reshape(shape)
    keep = uniform("keep", n * shape[2] * shape[3], seed).reshape(n, 1, shape[2], shape[3]) < 0.4 * math.sqrt(3)
    for f in range(1, n):
        frames[f] = np.where(keep[f], frames[f - 1], frames[f])
    return frames
