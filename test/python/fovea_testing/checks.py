"""Comparisons with the tolerances of architecture §3, and a small case
runner for the integration tests.

- f32: per element |a - e| <= atol + rtol * |e| with rtol 1e-4, atol 1e-5.
- bf16/f16: per token (last axis) cosine >= 0.999 and overall relative L2
  <= 1e-2, against an f32 reference computed from the same rounded inputs.
- integer/boolean results (counts, masks, u8 pixels): exact unless a case
  states a tolerance.
"""

import sys
import traceback

import numpy as np
import torch

F32_RTOL = 1e-4
F32_ATOL = 1e-5
LOW_COSINE = 0.999
LOW_REL_L2 = 1e-2


def to_bits(tensor):
    """A torch bf16 tensor as the uint16 numpy array the compiled code takes."""
    return tensor.contiguous().view(torch.int16).numpy().view(np.uint16)


def from_bits(array):
    """The uint16 numpy array of a bf16 result as an f32 torch tensor."""
    return torch.from_numpy(np.ascontiguousarray(array).view(np.int16)).view(torch.bfloat16).float()


def to_array(tensor, dtype):
    """A torch tensor in the buffer format of MLIR element type `dtype`."""
    if dtype == "bf16":
        return to_bits(tensor.to(torch.bfloat16))
    if dtype == "f16":
        return tensor.to(torch.float16).numpy()
    return tensor.to(torch.float32).numpy()


def from_array(array, dtype):
    """A float result buffer as an f32 torch tensor."""
    if dtype == "bf16":
        return from_bits(array)
    return torch.from_numpy(np.asarray(array)).float()


def rounded(tensor, dtype):
    """`tensor` rounded to the storage dtype and back to f32."""
    if dtype == "bf16":
        return tensor.to(torch.bfloat16).float()
    if dtype == "f16":
        return tensor.to(torch.float16).float()
    return tensor.float()


def check_close(actual, expected, dtype, what, rtol=F32_RTOL, atol=F32_ATOL):
    """Compares a float result with the f32 reference at the dtype's
    tolerance; raises AssertionError naming `what` and the worst error."""
    actual = actual.float()
    expected = expected.float()
    if tuple(actual.shape) != tuple(expected.shape):
        raise AssertionError(f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}")
    if dtype == "f32":
        err = (actual - expected).abs()
        bound = atol + rtol * expected.abs()
        bad = err > bound
        if bad.any():
            i = int(torch.argmax((err - bound).flatten()))
            raise AssertionError(
                f"{what}: {int(bad.sum())} elements off; worst at flat index {i}: "
                f"{actual.flatten()[i].item()} vs {expected.flatten()[i].item()}")
        return
    a = actual.reshape(-1, actual.shape[-1]) if actual.dim() else actual.reshape(1, 1)
    e = expected.reshape(-1, expected.shape[-1]) if expected.dim() else expected.reshape(1, 1)
    norms = a.norm(dim=-1) * e.norm(dim=-1)
    cos = torch.where(norms > 0, (a * e).sum(-1) / norms.clamp_min(1e-30),
                      torch.ones_like(norms))
    # Rows that are zero in both count as equal.
    both_zero = (a.abs().sum(-1) == 0) & (e.abs().sum(-1) == 0)
    cos = torch.where(both_zero, torch.ones_like(cos), cos)
    rel = (a - e).norm() / e.norm().clamp_min(1e-30)
    if cos.min() < LOW_COSINE or rel > LOW_REL_L2:
        raise AssertionError(f"{what}: min per-token cosine {cos.min().item():.6f}, "
                             f"relative L2 {rel.item():.3e}")


def check_equal(actual, expected, what):
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape {actual.shape} != {expected.shape}")
    if not np.array_equal(actual, expected):
        diff = np.argwhere(actual != expected)
        raise AssertionError(f"{what}: {len(diff)} elements differ, first at {tuple(diff[0])}: "
                             f"{actual[tuple(diff[0])]} vs {expected[tuple(diff[0])]}")


class Cases:
    """Runs named cases, prints one line each and a summary; exits non-zero
    when any failed."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def run(self, name, fn, *args, **kwargs):
        try:
            fn(*args, **kwargs)
        except Exception as error:  # report and go on with the next case
            self.failed += 1
            print(f"FAIL {name}: {error}")
            traceback.print_exc(limit=3)
        else:
            self.passed += 1
            print(f"PASS {name}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed or not self.passed else 0)


def tensor_type(shape, dtype):
    """'tensor<?x3x16xbf16>' from a shape with None for dynamic sizes."""
    dims = "".join(("?" if d is None else str(d)) + "x" for d in shape)
    return f"tensor<{dims}{dtype}>"


def expect_raises(call, error_type, message):
    """`call()` raises `error_type` whose text contains `message`."""
    try:
        call()
    except error_type as error:
        assert message in str(error), f"'{message}' not in '{error}'"
        return
    raise AssertionError(f"no {error_type.__name__} (expected '{message}')")
