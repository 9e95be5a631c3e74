# RUN: %python %s
"""vision.patch_embed, vision.tubelet_embed and vision.interp_pos_embed on
the CPU against the PyTorch reference: non-square grids, T=2 with an odd and
a dynamic frame count, T=1, interpolation up and down with both
align_corners, f32 and bf16."""

import torch

import vision_reference as ref
from fovea_testing import compile_mlir
from fovea_testing.checks import (Cases, check_close, from_array, rounded,
                                  tensor_type, to_array)

TORCH = {"f32": torch.float32, "bf16": torch.bfloat16}
P, D = 16, 24


def patch_module(dtype):
    x = tensor_type([None, 3, 32, 48], dtype)
    w = tensor_type([D, 3 * P * P], dtype)
    y = tensor_type([None, 6, D], dtype)
    text = f"""
func.func @patch(%x: {x}, %w: {w}) -> {y} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.patch_embed %x, %w {{patch_size = {P} : i64}} : ({x}, {w}) -> {y}
  return %0 : {y}
}}
"""
    for name, frames, T, tubelets in (("odd", 5, 2, 3), ("dynamic", None, 2, None),
                                      ("t1", 3, 1, 3)):
        f = tensor_type([frames, 3, 32, 48], dtype)
        wt = tensor_type([D, T * 3 * P * P], dtype)
        yt = tensor_type([tubelets, 6, D], dtype)
        text += f"""
func.func @tubelet_{name}(%x: {f}, %w: {wt}) -> {yt} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.tubelet_embed %x, %w {{patch_size = {P} : i64, temporal_patch_size = {T} : i64}} : ({f}, {wt}) -> {yt}
  return %0 : {yt}
}}
"""
    return text


def run_patches(dtype):
    torch.manual_seed(6)
    compiled = compile_mlir(patch_module(dtype))
    x = rounded(torch.randn(2, 3, 32, 48), dtype)
    w = rounded(torch.randn(D, 3 * P * P) * 0.05, dtype)
    (y,) = compiled.call("patch", to_array(x, dtype), to_array(w, dtype))
    check_close(from_array(y, dtype), ref.patch_embed(x, w, P), dtype, "patch_embed")
    w2 = rounded(torch.randn(D, 2 * 3 * P * P) * 0.05, dtype)
    for name, frames, weight, T in (("odd", 5, w2, 2), ("dynamic", 3, w2, 2),
                                    ("dynamic", 6, w2, 2), ("t1", 3, w, 1)):
        f = rounded(torch.randn(frames, 3, 32, 48), dtype)
        (y,) = compiled.call(f"tubelet_{name}", to_array(f, dtype), to_array(weight, dtype))
        check_close(from_array(y, dtype), ref.tubelet_embed(f, weight, P, T), dtype,
                    f"tubelet_embed {name} F={frames} T={T}")


GRIDS = [(4, 6), (6, 4), (12, 10), (5, 5), (8, 8)]


def pos_module(dtype):
    table = tensor_type([1, 64, 32], dtype)
    text = ""
    for h, w in GRIDS:
        for corners in ("false", "true"):
            y = tensor_type([1, h * w, 32], dtype)
            text += f"""
func.func @pos_{h}x{w}_{corners}(%t: {table}) -> {y} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.interp_pos_embed %t {{align_corners = {corners}, grid = array<i64: {h}, {w}>}} : {table} -> {y}
  return %0 : {y}
}}
"""
    return text


def run_pos(dtype):
    torch.manual_seed(7)
    compiled = compile_mlir(pos_module(dtype))
    table = torch.randn(1, 64, 32).to(TORCH[dtype])
    for h, w in GRIDS:
        for corners in ("false", "true"):
            (y,) = compiled.call(f"pos_{h}x{w}_{corners}", to_array(table.float(), dtype))
            expected = ref.interp_pos_embed(table, (h, w), corners == "true")
            check_close(from_array(y, dtype), expected.float(), dtype,
                        f"interp_pos_embed {h}x{w} align_corners={corners}")


cases = Cases()
for dtype in ("f32", "bf16"):
    cases.run(f"patch and tubelet embedding {dtype}", run_patches, dtype)
    cases.run(f"position embedding {dtype}", run_pos, dtype)
cases.finish()
