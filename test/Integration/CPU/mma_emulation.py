# RUN: %python %s
"""The tensor-core kernels run on the CPU: first the matmul kernel
(fovea-gpu-mma-contractions): with emulate-on-host and tensor-cores, the pass builds the kernel's
per-lane code (tile and warp positions, guards, fragment loads and bf16
packing, stores) as host loops over lanes and replaces each mma.sync by a
scalar multiply that reads the 32 lanes' registers through the PTX
fragment tables. A fragment loaded from the wrong row or column, a swapped
half of a packed register or a missing guard changes the result, so this
checks the kernel's layout against PyTorch without a GPU.

Shapes: M not a multiple of the 64-row block tile (partial blocks, whole
warps past M), N not a multiple of the 32-column tile (fragments past N),
K of 48 and 80 (three and five k-steps), batch dimensions folded into M.

Then the flash-attention kernel (fovea-gpu-flash-attention), built the
same way (register arrays with a lane dimension, emulated mma.sync and
quad shuffles): sequence lengths that are not multiples of the 32-key step
or the 64-row block (masked keys, partial blocks), head dimensions 80 (five
k-steps, ten n8 fragments: RADIO's, not padded), 16 and 64, against an f64
softmax(q k^T * scale) v."""

import os
import subprocess

import torch

from fovea_testing import compile_mlir
from fovea_testing.checks import Cases, from_array, to_array
from fovea_testing.compiled import _tool, _SRC_ROOT

OPTIONS = "emulate-on-host=true tensor-cores=true hoist-weight-only=false"


def linear_module(rows, k, n, bias):
    operands = "%x, %w, %b" if bias else "%x, %w"
    types = (f"tensor<?x{rows}x{k}xbf16>, tensor<{n}x{k}xbf16>"
             + (f", tensor<{n}xbf16>" if bias else ""))
    args = (f"%x: tensor<?x{rows}x{k}xbf16>, %w: tensor<{n}x{k}xbf16>"
            + (f", %b: tensor<{n}xbf16>" if bias else ""))
    return f"""
func.func @run({args}) -> tensor<?x{rows}x{n}xbf16> attributes {{llvm.emit_c_interface}} {{
  %0 = vision.linear {operands} : ({types}) -> tensor<?x{rows}x{n}xbf16>
  return %0 : tensor<?x{rows}x{n}xbf16>
}}
"""


def block_module(rows, k):
    """linear + exact GELU + residual, the MLP's epilogue chain."""
    return f"""
func.func @run(%x: tensor<?x{rows}x{k}xbf16>, %w: tensor<{k}x{k}xbf16>, %b: tensor<{k}xbf16>) -> tensor<?x{rows}x{k}xbf16> attributes {{llvm.emit_c_interface}} {{
  %0 = vision.linear %x, %w, %b : (tensor<?x{rows}x{k}xbf16>, tensor<{k}x{k}xbf16>, tensor<{k}xbf16>) -> tensor<?x{rows}x{k}xbf16>
  %1 = vision.gelu %0 {{approximation = #vision.gelu_approximation<none>}} : tensor<?x{rows}x{k}xbf16>
  %2 = arith.addf %x, %1 : tensor<?x{rows}x{k}xbf16>
  return %2 : tensor<?x{rows}x{k}xbf16>
}}
"""


def attention_module(length, width, heads, scale):
    t = f"tensor<?x{length}x{width}xbf16>"
    return f"""
func.func @run(%q: {t}, %k: {t}, %v: {t}) -> {t} attributes {{llvm.emit_c_interface}} {{
  %0 = vision.attention %q, %k, %v {{num_heads = {heads} : i64, scale = {scale!r} : f64}} : ({t}, {t}, {t}) -> {t}
  return %0 : {t}
}}
"""


def tensor_core_kernels(text):
    """How many mma.sync the same pipeline emits for the GPU: the emulated
    kernel is built from the same match."""
    fovea_opt = _tool("FOVEA_TOOLS_DIR", os.path.join(_SRC_ROOT, "build", "bin"), "fovea-opt")
    gpu = subprocess.run([fovea_opt, "--fovea-gpu-pipeline=tensor-cores=true lower-to-llvm=false "
                          "hoist-weight-only=false", "-"],
                         input=text, capture_output=True, text=True, check=True).stdout
    return gpu.count("nvvm.mma.sync")


def check(batch, rows, k, n, bias):
    text = linear_module(rows, k, n, bias)
    assert tensor_core_kernels(text) > 0, "the contraction was not matched"
    g = torch.Generator().manual_seed(rows * 1000 + n)
    x = torch.randn(batch, rows, k, generator=g).bfloat16().float()
    w = (torch.randn(n, k, generator=g) / k ** 0.5).bfloat16().float()
    b = torch.randn(n, generator=g).bfloat16().float()
    arrays = [to_array(x, "bf16"), to_array(w, "bf16")] + ([to_array(b, "bf16")] if bias else [])
    out = from_array(compile_mlir(text, OPTIONS, pipeline="fovea-gpu-pipeline").call("run", *arrays)[0],
                     "bf16")
    # f32 accumulation of exact bf16 products, rounded once to bf16: within
    # one bf16 rounding (2^-8 relative) of the f64 result.
    expected = x.double() @ w.double().t() + (b.double() if bias else 0)
    err = (out.double() - expected).abs()
    bound = expected.abs() * 2 ** -8 + 1e-6
    bad = err > bound
    assert not bad.any(), (f"{int(bad.sum())} of {bad.numel()} elements off; worst "
                           f"{float((err - bound).max()):.3g} over the bound")


def check_block(batch, rows, k):
    text = block_module(rows, k)
    assert tensor_core_kernels(text) > 0, "the contraction was not matched"
    g = torch.Generator().manual_seed(rows + k)
    x = torch.randn(batch, rows, k, generator=g).bfloat16().float()
    w = (torch.randn(k, k, generator=g) / k ** 0.5).bfloat16().float()
    b = torch.randn(k, generator=g).bfloat16().float()
    out = from_array(compile_mlir(text, OPTIONS, pipeline="fovea-gpu-pipeline").call(
        "run", to_array(x, "bf16"), to_array(w, "bf16"), to_array(b, "bf16"))[0], "bf16")
    # Each op rounds to bf16, as the vision dialect's bf16 semantics say.
    y = (x.double() @ w.double().t() + b.double()).bfloat16().double()
    expected = (x.double() + torch.nn.functional.gelu(y).bfloat16().double()).bfloat16().double()
    err = (out.double() - expected).abs()
    bound = expected.abs() * 2 ** -7 + 2 ** -8
    assert not (err > bound).any(), f"{int((err > bound).sum())} elements off"


def check_attention(batch, length, heads, head_dim):
    scale = head_dim ** -0.5
    text = attention_module(length, heads * head_dim, heads, scale)
    # 4 mma.sync per k-step of Q K^T, 2 per n8 fragment of P V.
    assert tensor_core_kernels(text) == 4 * (head_dim // 16) + 2 * (head_dim // 8), \
        "the attention was not given the flash kernel"
    g = torch.Generator().manual_seed(length * heads + head_dim)
    q, k, v = (torch.randn(batch, length, heads * head_dim, generator=g).bfloat16().float()
               for _ in range(3))
    out = from_array(compile_mlir(text, OPTIONS, pipeline="fovea-gpu-pipeline").call(
        "run", *(to_array(t, "bf16") for t in (q, k, v)))[0], "bf16")

    def split(t):
        return t.double().reshape(batch, length, heads, head_dim).transpose(1, 2)
    p = torch.softmax(split(q) @ split(k).transpose(-1, -2) * scale, dim=-1)
    expected = (p @ split(v)).transpose(1, 2).reshape(batch, length, heads * head_dim)
    # P in bf16 (as flash-attention kernels do) and the output rounded to
    # bf16: a few bf16 steps off at most; a layout error is off by O(1).
    err = (out.double() - expected).abs()
    bound = 2 ** -7 * expected.abs() + 4e-3
    assert not (err > bound).any(), (f"{int((err > bound).sum())} of {err.numel()} "
                                      f"elements off; worst {float(err.max()):.3g}")


cases = Cases()
cases.run("M=70 (2 x 35), K=48, N=40, bias", check, 2, 35, 48, 40, True)
cases.run("M=130, K=80, N=200, no bias", check, 1, 130, 80, 200, False)
cases.run("M=3, K=16, N=8", check, 1, 3, 16, 8, False)
cases.run("linear + GELU + residual, M=100, K=N=48", check_block, 2, 50, 48)
cases.run("attention L=40, 2 heads of 80, batch 2", check_attention, 2, 40, 2, 80)
cases.run("attention L=70, 1 head of 16", check_attention, 1, 70, 1, 16)
cases.run("attention L=33, 3 heads of 64", check_attention, 1, 33, 3, 64)
cases.finish()
