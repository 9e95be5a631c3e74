"""The Python package with the frameworks users serve with: torch tensors
(and any DLPack producer) in and out without copies, bf16 as torch.bfloat16,
output_dtype, fovea.load_npy, and fovea.torch.VisionEncoder against the
PyTorch reference from normalized pixel values as vLLM's extract_feature
takes them.

Run by ctest with PYTHONPATH set to build/python and test/python.
"""

import os
import tempfile

import numpy as np
import torch

import fovea
import pipeline_reference as pipe
from fovea.torch import VisionEncoder
from fovea_testing.checks import Cases, check_close, expect_raises, rounded
from fovea_testing.files import write_safetensors

WORK = tempfile.mkdtemp(prefix="fovea-interop-")
TINY = dict(patch_size=16, depth=2, heads=2, num_prefix=2)


def module_with_weights(dtype, name):
    so = fovea.compile("tiny", os.path.join(WORK, name + ".so"), dtype=dtype)
    meta = fovea.metadata(so)
    names = [w["name"] for w in meta["weights"]]
    shapes = [w["shape"] for w in meta["weights"]]
    torch_dtype = torch.float32 if dtype == "f32" else torch.bfloat16
    weights = {k: rounded(v, dtype).to(torch_dtype)
               for k, v in pipe.random_weights(names, shapes, seed=11).items()}
    path = os.path.join(WORK, name + ".safetensors")
    write_safetensors(path, weights)
    return so, path, weights


def pixels(count, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (count, 3, 64, 64), generator=g, dtype=torch.uint8)


def expect(call, message):
    expect_raises(call, fovea.FoveaError, message)


def dlpack_round_trip():
    so, path, _ = module_with_weights("bf16", "rt")
    module = fovea.load(so, weights=path)
    x = pixels(2)
    (y,) = module.run(x)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.bfloat16, (type(y), y.dtype)
    assert tuple(y.shape) == (2, 4, 96)
    inputs, outputs = module._module.last_data_pointers()
    assert inputs[0] == x.data_ptr(), "the input was copied"
    assert outputs[0] == y.data_ptr(), "the result was copied"
    # Same bits as the numpy path.
    (bits,) = module.run(x.numpy())
    assert bits.dtype == np.uint16
    assert torch.equal(torch.from_numpy(fovea.bf16_to_float32(bits)), y.float())
    # output_dtype="f32" on both paths.
    (wide,) = module.run(x, output_dtype="f32")
    assert wide.dtype == torch.float32 and torch.equal(wide, y.float())
    (wide_np,) = module.run(x.numpy(), output_dtype="f32")
    assert wide_np.dtype == np.float32 and np.array_equal(wide_np, y.float().numpy())
    expect(lambda: module.run(x, output_dtype="f64"), "output_dtype must be 'native' or 'f32'")
    # A non-contiguous tensor is made contiguous (a copy), same result.
    strided = torch.empty(2, 3, 64, 128, dtype=torch.uint8)[..., ::2]
    strided.copy_(x)
    (z,) = module.run(strided)
    assert torch.equal(z, y)
    # The results outlive the module.
    del module
    assert torch.equal(z, y) and float(y.float().abs().sum()) > 0


def dlpack_other_producers():
    so, path, _ = module_with_weights("f32", "producers")
    module = fovea.load(so, weights=path)
    x = pixels(1, seed=3).numpy()

    class Producer:
        """A DLPack producer that is neither numpy nor torch."""
        def __init__(self, array):
            self.array = array
        def __dlpack__(self, stream=None):
            return self.array.__dlpack__()
        def __dlpack_device__(self):
            return self.array.__dlpack_device__()

    (t,) = module.run(Producer(x))
    assert isinstance(t, fovea.Tensor)
    y = np.from_dlpack(t)
    (expected,) = module.run(x)
    assert y.dtype == np.float32 and np.array_equal(y, expected)
    expect(lambda: t.__dlpack__(), "already handed out")
    expect(lambda: module.run(torch.zeros(1, 3, 64, 64, dtype=torch.int32)),
           "input 0: expected uint8 or float32 elements")

    class OnGpu(Producer):
        def __dlpack_device__(self):
            return (2, 0)
    expect(lambda: module.run(OnGpu(x)),
           "input 0: the tensor is on DLPack device (2, 0); this module is compiled for the "
           "CPU and takes host tensors")
    expect(lambda: module.run(torch.zeros(1, 3, 32, 32, dtype=torch.uint8)),
           "input 'pixels': expected u8 [-1, 3, 64, 64]")


def vision_encoder():
    for dtype in ("f32", "bf16"):
        so, path, weights = module_with_weights(dtype, "encoder_" + dtype)
        encoder = VisionEncoder(so, weights=path)
        assert isinstance(encoder, torch.nn.Module) and not list(encoder.parameters())
        x = pixels(3, seed=5)
        expected = pipe.vision_pipeline(x, weights, **TINY)
        # As vLLM's processor hands them over: (u8 / 255 - mean) / std in
        # float32, then cast to the model dtype.
        meta = encoder.module.metadata["normalization"]
        mean = torch.tensor(meta["mean"]).view(1, 3, 1, 1)
        std = torch.tensor(meta["std"]).view(1, 3, 1, 1)
        normalized = (x.float() / 255.0 - mean) / std
        torch_dtype = torch.float32 if dtype == "f32" else torch.bfloat16
        (from_bytes,) = encoder.module.run(x)
        for given in (normalized, normalized.to(torch_dtype), x):
            y = encoder(given)
            assert y.dtype == torch_dtype and tuple(y.shape) == (3, 4, 96), (y.dtype, y.shape)
            assert torch.equal(y, from_bytes), f"{given.dtype}: differs from the bytes' run"
        check_close(y.float(), expected, dtype, f"VisionEncoder {dtype}")
        expect(lambda: encoder(normalized + 1e-3),
               "pixel_values are not this model's normalized pixels")
        expect(lambda: encoder(x.to(torch.int32)), "pixel_values must be uint8 or a float type")
        if dtype == "f32":
            expect(lambda: encoder(normalized.to(torch.bfloat16)),
                   "torch.bfloat16 pixel_values for a f32 module: pass float32")
    expect(lambda: VisionEncoder(so), "a module path needs its weights")


def read_bfloat16_npy():
    bits = fovea.float32_to_bf16(np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4))
    path = os.path.join(WORK, "b.npy")
    header = "{'descr': 'bfloat16', 'fortran_order': False, 'shape': (3, 4), }"
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
        f.write(bits.astype("<u2").tobytes())
    assert np.array_equal(fovea.load_npy(path), bits)
    assert np.array_equal(fovea.load_npy(path, dtype="f32"), fovea.bf16_to_float32(bits))
    plain = os.path.join(WORK, "p.npy")
    np.save(plain, np.arange(6, dtype=np.int64))
    assert np.array_equal(fovea.load_npy(plain), np.arange(6))


cases = Cases()
cases.run("DLPack round trip with torch", dlpack_round_trip)
cases.run("other DLPack producers and errors", dlpack_other_producers)
cases.run("fovea.torch.VisionEncoder", vision_encoder)
cases.run("fovea.load_npy", read_bfloat16_npy)
cases.finish()
