# RUN: %python %s
"""vision.linear on the CPU against the PyTorch reference: f32, bf16 and f16,
with and without bias, a dynamic leading dimension; through the vectorized
register blocks (default and odd tile sizes, so partial blocks occur),
through plain loops, and with LLVM's own bf16 conversions."""

import torch

import vision_reference as ref
from fovea_testing import compile_mlir
from fovea_testing.checks import (Cases, check_close, from_array, rounded,
                                  tensor_type, to_array)


def module(dtype):
    x = tensor_type([None, 7, 48], dtype)
    w = tensor_type([40, 48], dtype)
    b = tensor_type([40], dtype)
    y = tensor_type([None, 7, 40], dtype)
    return f"""
func.func @with_bias(%x: {x}, %w: {w}, %b: {b}) -> {y} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.linear %x, %w, %b : ({x}, {w}, {b}) -> {y}
  return %0 : {y}
}}
func.func @no_bias(%x: {x}, %w: {w}) -> {y} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.linear %x, %w : ({x}, {w}) -> {y}
  return %0 : {y}
}}
"""


def run(dtype, options):
    torch.manual_seed(0)
    compiled = compile_mlir(module(dtype), options)
    x = rounded(torch.randn(3, 7, 48), dtype)
    w = rounded(torch.randn(40, 48) * 0.2, dtype)
    b = rounded(torch.randn(40), dtype)
    (y,) = compiled.call("with_bias", to_array(x, dtype), to_array(w, dtype), to_array(b, dtype))
    check_close(from_array(y, dtype), ref.linear(x, w, b), dtype, "with bias")
    (y,) = compiled.call("no_bias", to_array(x, dtype), to_array(w, dtype))
    check_close(from_array(y, dtype), ref.linear(x, w), dtype, "no bias")


cases = Cases()
for options in ("", "tile-sizes=4,16,8", "vectorize=false", "expand-bf16=false"):
    for dtype in ("f32", "bf16", "f16"):
        cases.run(f"linear {dtype} [{options or 'default'}]", run, dtype, options)
cases.finish()
