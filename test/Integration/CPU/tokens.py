# RUN: %python %s
"""vision.prepend_tokens, vision.strip_prefix and vision.pixel_shuffle on the
CPU against the PyTorch reference: plain and packed segments, v1 and v2,
non-square grids, a dynamic batch. Pure data movement: exact."""

import torch

import vision_reference as ref
from fovea_testing import compile_mlir
from fovea_testing.checks import Cases, check_equal, tensor_type, to_array

C = 8


def module(dtype):
    p = tensor_type([3, C], dtype)
    x = tensor_type([None, 20, C], dtype)
    y = tensor_type([None, 23, C], dtype)
    yp = tensor_type([None, 29, C], dtype)
    text = f"""
func.func @prepend(%p: {p}, %x: {x}) -> {y} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.prepend_tokens %p, %x : ({p}, {x}) -> {y}
  return %0 : {y}
}}
func.func @prepend_packed(%p: {p}, %x: {x}) -> {yp} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.prepend_tokens %p, %x {{segment_sizes = array<i64: 8, 4, 8>}} : ({p}, {x}) -> {yp}
  return %0 : {yp}
}}
func.func @strip(%x: {y}) -> {x} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.strip_prefix %x {{num_prefix = 3 : i64}} : {y} -> {x}
  return %0 : {x}
}}
func.func @strip_packed(%x: {yp}) -> {x} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.strip_prefix %x {{num_prefix = 3 : i64, segment_sizes = array<i64: 8, 4, 8>}} : {yp} -> {x}
  return %0 : {x}
}}
"""
    for name, tokens, grid in (("square", 16, [4, 4]), ("wide", 24, [4, 6]),
                               ("packed", 40, [4, 6, 2, 8])):
        inp = tensor_type([None, tokens, C], dtype)
        out = tensor_type([None, tokens // 4, 4 * C], dtype)
        g = ", ".join(map(str, grid))
        for version in ("v1", "v2"):
            text += f"""
func.func @shuffle_{name}_{version}(%x: {inp}) -> {out} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.pixel_shuffle %x {{grid = array<i64: {g}>, version = #vision.pixel_shuffle_version<{version}>}} : {inp} -> {out}
  return %0 : {out}
}}
"""
    return text


def run(dtype):
    torch.manual_seed(8)
    compiled = compile_mlir(module(dtype))
    cast = {"f32": torch.float32, "bf16": torch.bfloat16}[dtype]
    prefix = torch.randn(3, C).to(cast)
    x = torch.randn(2, 20, C).to(cast)
    bits = lambda t: to_array(t.float(), dtype)
    (y,) = compiled.call("prepend", bits(prefix), bits(x))
    check_equal(y, bits(ref.prepend_tokens(prefix, x)), "prepend")
    (back,) = compiled.call("strip", y)
    check_equal(back, bits(x), "strip")
    (y,) = compiled.call("prepend_packed", bits(prefix), bits(x))
    check_equal(y, bits(ref.prepend_tokens(prefix, x, [8, 4, 8])), "prepend packed")
    (back,) = compiled.call("strip_packed", y)
    check_equal(back, bits(ref.strip_prefix(ref.prepend_tokens(prefix, x, [8, 4, 8]), 3, [8, 4, 8])),
                "strip packed")
    for name, tokens, grid in (("square", 16, [4, 4]), ("wide", 24, [4, 6]),
                               ("packed", 40, [4, 6, 2, 8])):
        t = torch.randn(3, tokens, C).to(cast)
        for version in ("v1", "v2"):
            (y,) = compiled.call(f"shuffle_{name}_{version}", bits(t))
            check_equal(y, bits(ref.pixel_shuffle(t, grid, version)),
                        f"pixel_shuffle {name} {version}")


cases = Cases()
for dtype in ("f32", "bf16"):
    cases.run(f"tokens {dtype}", run, dtype)
cases.finish()
