# RUN: %python %s
"""vision.normalize and vision.resize on the CPU against the PyTorch
reference: u8 and float pixels, AA bicubic up and down, non-square, both
domains (u8 is Pillow's fixed point and must match exactly)."""

import torch

import vision_reference as ref
from fovea_testing import compile_mlir
from fovea_testing.checks import (Cases, check_close, check_equal, from_array,
                                  rounded, tensor_type, to_array)

RESIZES = [((37, 53), (24, 40)), ((30, 20), (64, 48)), ((45, 60), (45, 32)),
           ((108, 192), (38, 67))]


def normalize_module():
    mean = ", ".join(repr(v) for v in ref.CLIP_MEAN)
    std = ", ".join(repr(v) for v in ref.CLIP_STD)
    text = ""
    for name, dtype in (("u8", "ui8"), ("bf16", "bf16")):
        x = tensor_type([None, 3, 16, 24], dtype)
        y = tensor_type([None, 3, 16, 24], "f32")
        text += f"""
func.func @normalize_{name}(%x: {x}) -> {y} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.normalize %x {{mean = array<f32: {mean}>, std = array<f32: {std}>}} : {x} -> {y}
  return %0 : {y}
}}
"""
    return text


def resize_module():
    text = ""
    for i, ((h, w), (oh, ow)) in enumerate(RESIZES):
        for domain, dtype in (("u8", "ui8"), ("f32_clamp", "f32")):
            x = tensor_type([None, 3, h, w], dtype)
            y = tensor_type([None, 3, oh, ow], dtype)
            text += f"""
func.func @resize_{domain}_{i}(%x: {x}) -> {y} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.resize %x {{domain = #vision.resize_domain<{domain}>, size = array<i64: {oh}, {ow}>}} : {x} -> {y}
  return %0 : {y}
}}
"""
    return text


def run_normalize():
    torch.manual_seed(4)
    compiled = compile_mlir(normalize_module())
    pixels = torch.randint(0, 256, (2, 3, 16, 24), dtype=torch.uint8)
    (y,) = compiled.call("normalize_u8", pixels.numpy())
    expected = ref.normalize(pixels, ref.CLIP_MEAN, ref.CLIP_STD)
    check_equal(y, expected.numpy(), "normalize u8 (bit-exact)")
    floats = rounded(torch.rand(2, 3, 16, 24) * 255, "bf16")
    (y,) = compiled.call("normalize_bf16", to_array(floats, "bf16"))
    check_close(from_array(y, "f32"), ref.normalize(floats, ref.CLIP_MEAN, ref.CLIP_STD),
                "f32", "normalize bf16 pixels")


def run_resize():
    torch.manual_seed(5)
    compiled = compile_mlir(resize_module())
    for i, ((h, w), (oh, ow)) in enumerate(RESIZES):
        pixels = torch.randint(0, 256, (2, 3, h, w), dtype=torch.uint8)
        (y,) = compiled.call(f"resize_u8_{i}", pixels.numpy())
        check_equal(y, ref.resize(pixels, (oh, ow), "u8").numpy(),
                    f"u8 {h}x{w} -> {oh}x{ow}")
        floats = pixels.float()
        (y,) = compiled.call(f"resize_f32_clamp_{i}", floats.numpy())
        check_close(from_array(y, "f32"), ref.resize(floats, (oh, ow), "f32_clamp"),
                    "f32", f"f32_clamp {h}x{w} -> {oh}x{ow}", atol=1e-3)


cases = Cases()
cases.run("normalize", run_normalize)
cases.run("resize", run_resize)
cases.finish()
