# RUN: %python %s
"""vision.layer_norm and vision.rms_norm (both weight orders) on the CPU
against the PyTorch reference, f32 and bf16."""

import torch

import vision_reference as ref
from fovea_testing import compile_mlir
from fovea_testing.checks import (Cases, check_close, from_array, rounded,
                                  tensor_type, to_array)

TORCH = {"f32": torch.float32, "bf16": torch.bfloat16}


def module(dtype):
    x = tensor_type([None, 9, 96], dtype)
    v = tensor_type([96], dtype)
    text = f"""
func.func @layer_norm(%x: {x}, %w: {v}, %b: {v}) -> {x} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.layer_norm %x, %w, %b {{epsilon = 1.0e-06 : f64}} : ({x}, {v}, {v}) -> {x}
  return %0 : {x}
}}
"""
    for order in ("cast_then_scale", "scale_then_cast"):
        text += f"""
func.func @rms_{order}(%x: {x}, %w: {v}) -> {x} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.rms_norm %x, %w {{epsilon = 1.0e-05 : f64, weight_order = #vision.weight_order<{order}>}} : ({x}, {v}) -> {x}
  return %0 : {x}
}}
"""
    return text


def run(dtype):
    torch.manual_seed(2)
    compiled = compile_mlir(module(dtype))
    x = rounded(torch.randn(2, 9, 96) * 2 + 0.5, dtype)
    w = rounded(torch.rand(96) + 0.5, dtype)
    b = rounded(torch.randn(96) * 0.1, dtype)
    (y,) = compiled.call("layer_norm", to_array(x, dtype), to_array(w, dtype), to_array(b, dtype))
    check_close(from_array(y, dtype), ref.layer_norm(x, w, b, 1e-6), dtype, "layer_norm")
    for order in ("cast_then_scale", "scale_then_cast"):
        (y,) = compiled.call(f"rms_{order}", to_array(x, dtype), to_array(w, dtype))
        expected = ref.rms_norm(x.to(TORCH[dtype]), w.to(TORCH[dtype]), 1e-5, order, TORCH[dtype])
        actual = from_array(y, dtype)
        check_close(actual, expected.float(), dtype, f"rms_norm {order}")
        if dtype == "bf16":
            # The rounding points are part of the op: within one bf16 ulp
            # of the reference for every element.
            ulp = expected.float().abs() * 2.0 ** -7
            worst = ((actual - expected.float()).abs() - ulp).max().item()
            assert worst <= 0, f"rms_norm {order}: beyond one bf16 ulp by {worst}"


cases = Cases()
for dtype in ("f32", "bf16"):
    cases.run(f"norms {dtype}", run, dtype)
cases.finish()
