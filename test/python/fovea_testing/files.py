"""Writers of the files Fovea's runtime reads: safetensors checkpoints (one
file or shards with an index) and .npy arrays (bf16 with the 'bfloat16'
descriptor). Written here because the Python environment has no
safetensors package."""

import json
import os
import struct

import numpy as np
import torch

_SAFETENSORS_DTYPES = {torch.float32: "F32", torch.bfloat16: "BF16",
                       torch.float16: "F16", torch.int64: "I64",
                       torch.int32: "I32", torch.uint8: "U8"}


def _raw_bytes(tensor):
    tensor = tensor.contiguous()
    if tensor.dtype in (torch.bfloat16, torch.float16):
        return tensor.view(torch.int16).numpy().tobytes()
    return tensor.numpy().tobytes()


def write_safetensors(path, tensors):
    """Writes {name: torch tensor} as one safetensors file."""
    header, offset, blobs = {}, 0, []
    for name, tensor in tensors.items():
        data = _raw_bytes(tensor)
        header[name] = {"dtype": _SAFETENSORS_DTYPES[tensor.dtype],
                        "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def write_sharded_safetensors(directory, tensors, shards=2):
    """Splits {name: tensor} over `shards` files plus
    model.safetensors.index.json."""
    os.makedirs(directory, exist_ok=True)
    names = list(tensors)
    weight_map = {}
    for i in range(shards):
        part = {n: tensors[n] for n in names[i::shards]}
        file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        write_safetensors(os.path.join(directory, file), part)
        weight_map.update({n: file for n in part})
    with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)


def config_dir(directory, config, tensors):
    """A model directory: `config` as config.json and `tensors` as
    model.safetensors (none when `tensors` is None)."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f)
    if tensors is not None:
        write_safetensors(os.path.join(directory, "model.safetensors"), tensors)
    return directory


def write_npy(path, tensor):
    """Writes a torch tensor as .npy; bf16 gets the 'bfloat16' descriptor."""
    if tensor.dtype != torch.bfloat16:
        np.save(path, tensor.numpy())
        return
    header = (f"{{'descr': 'bfloat16', 'fortran_order': False, "
              f"'shape': {tuple(tensor.shape)}, }}")
    pad = (64 - (10 + len(header) + 1) % 64) % 64
    header = header + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode())
        f.write(_raw_bytes(tensor))


def read_npy(path):
    """Reads a .npy written by Fovea (bf16 as a torch bf16 tensor)."""
    with open(path, "rb") as f:
        data = f.read()
    if b"'bfloat16'" in data[:128]:
        length = struct.unpack("<H", data[8:10])[0]
        header = data[10:10 + length].decode()
        shape = eval(header.split("'shape':")[1].split(")")[0] + ")")  # noqa: S307
        raw = np.frombuffer(data[10 + length:], dtype=np.int16).copy()
        return torch.from_numpy(raw).view(torch.bfloat16).reshape(shape)
    return torch.from_numpy(np.load(path))
