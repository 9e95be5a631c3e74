# RUN: %python %s
"""vision.gelu (exact and tanh) and vision.relu2 on the CPU against the
PyTorch reference, f32 and bf16."""

import torch

import vision_reference as ref
from fovea_testing import compile_mlir
from fovea_testing.checks import (Cases, check_close, from_array, rounded,
                                  tensor_type, to_array)


def module(dtype):
    t = tensor_type([None, 5, 64], dtype)
    return f"""
func.func @gelu_none(%x: {t}) -> {t} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.gelu %x {{approximation = #vision.gelu_approximation<none>}} : {t}
  return %0 : {t}
}}
func.func @gelu_tanh(%x: {t}) -> {t} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.gelu %x {{approximation = #vision.gelu_approximation<tanh>}} : {t}
  return %0 : {t}
}}
func.func @relu2(%x: {t}) -> {t} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.relu2 %x : {t}
  return %0 : {t}
}}
"""


def run(dtype):
    torch.manual_seed(1)
    compiled = compile_mlir(module(dtype))
    x = rounded(torch.randn(2, 5, 64) * 3, dtype)
    for name, expected in (("gelu_none", ref.gelu(x, "none")),
                           ("gelu_tanh", ref.gelu(x, "tanh")),
                           ("relu2", ref.relu2(x))):
        (y,) = compiled.call(name, to_array(x, dtype))
        check_close(from_array(y, dtype), expected, dtype, name)


cases = Cases()
for dtype in ("f32", "bf16"):
    cases.run(f"activations {dtype}", run, dtype)
cases.finish()
