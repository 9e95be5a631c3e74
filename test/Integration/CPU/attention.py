# RUN: %python %s
"""vision.attention on the CPU against the PyTorch reference: plain and packed
(cu_seqlens, several segments), f32 and bf16, a dynamic batch."""


import torch

import vision_reference as ref
from fovea_testing import compile_mlir
from fovea_testing.checks import (Cases, check_close, from_array, rounded,
                                  tensor_type, to_array)

HEADS, TOKENS, WIDTH = 4, 13, 80
SCALE = (WIDTH // HEADS) ** -0.5


def module(dtype):
    t = tensor_type([None, TOKENS, WIDTH], dtype)
    return f"""
func.func @plain(%q: {t}, %k: {t}, %v: {t}) -> {t} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.attention %q, %k, %v {{num_heads = {HEADS} : i64, scale = {SCALE!r} : f64}} : ({t}, {t}, {t}) -> {t}
  return %0 : {t}
}}
func.func @packed(%q: {t}, %k: {t}, %v: {t}, %cu: tensor<?xi32>) -> {t} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.attention %q, %k, %v cu_seqlens(%cu) {{num_heads = {HEADS} : i64, scale = {SCALE!r} : f64}} : ({t}, {t}, {t}, tensor<?xi32>) -> {t}
  return %0 : {t}
}}
"""


def run(dtype):
    torch.manual_seed(3)
    compiled = compile_mlir(module(dtype))
    q, k, v = (rounded(torch.randn(2, TOKENS, WIDTH), dtype) for _ in range(3))
    args = [to_array(t, dtype) for t in (q, k, v)]
    (y,) = compiled.call("plain", *args)
    check_close(from_array(y, dtype), ref.attention(q, k, v, HEADS, SCALE), dtype, "plain")
    for cu in ([0, 4, 9, 13], [0, 1, 13], [0, 13]):
        (y,) = compiled.call("packed", *args, torch.tensor(cu, dtype=torch.int32).numpy())
        expected = ref.attention(q, k, v, HEADS, SCALE, cu_seqlens=cu)
        check_close(from_array(y, dtype), expected, dtype, f"packed {cu}")


cases = Cases()
for dtype in ("f32", "bf16"):
    cases.run(f"attention {dtype}", run, dtype)
cases.finish()
