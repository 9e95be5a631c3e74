#!/usr/bin/env python3
"""One pre-norm ViT block on the CPU: Fovea's CPU pipeline against PyTorch
(Debian's torch: OpenBLAS for f32, oneDNN for bf16) on the same machine, in
the same run, at the same dtype and thread count.

    /usr/bin/python3 benchmarks/cpu_vit_block.py [--batch 8] [--tokens 197]
        [--width 768] [--heads 12] [--iters 5] [--repeats 3] [--dtype f32]
        [--threads 1] [--cpu-kernels NAME]

Times Fovea and torch alternately (`--repeats` rounds of `--iters` runs
each), prints the median of each side with its spread (min..max of the
round medians) and the ratio, and checks that the outputs agree.
Needs a build (build/bin/fovea-opt).
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "python"))


def thread_count():
    """--threads as given (checked again by the parser): OpenBLAS reads its
    thread count when it loads and ignores torch.set_num_threads, so it is
    set before torch is imported."""
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


os.environ["OPENBLAS_NUM_THREADS"] = thread_count()
os.environ["OMP_NUM_THREADS"] = thread_count()

import torch  # noqa: E402

from fovea_testing import compile_mlir  # noqa: E402
from fovea_testing.checks import (check_close, from_array, rounded,  # noqa: E402
                                  tensor_type, to_array)


def block_mlir(batch, tokens, width, heads, dtype):
    x = tensor_type([None, tokens, width], dtype)
    v = tensor_type([width], dtype)
    qkv_t = tensor_type([None, tokens, 3 * width], dtype)
    fc1_t = tensor_type([None, tokens, 4 * width], dtype)
    w = lambda o, i: tensor_type([o, i], dtype)  # noqa: E731
    scale = (width // heads) ** -0.5
    return f"""
func.func @block(%x: {x}, %ln1_w: {v}, %ln1_b: {v}, %qkv_w: {w(3 * width, width)},
                 %qkv_b: {tensor_type([3 * width], dtype)}, %proj_w: {w(width, width)}, %proj_b: {v},
                 %ln2_w: {v}, %ln2_b: {v}, %fc1_w: {w(4 * width, width)},
                 %fc1_b: {tensor_type([4 * width], dtype)}, %fc2_w: {w(width, 4 * width)}, %fc2_b: {v})
    -> {x} attributes {{llvm.emit_c_interface}} {{
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : {x}
  %h1 = vision.layer_norm %x, %ln1_w, %ln1_b {{epsilon = 1.0e-06 : f64}} : ({x}, {v}, {v}) -> {x}
  %qkv = vision.linear %h1, %qkv_w, %qkv_b : ({x}, {w(3 * width, width)}, {tensor_type([3 * width], dtype)}) -> {qkv_t}
  %q = tensor.extract_slice %qkv[0, 0, 0] [%n, {tokens}, {width}] [1, 1, 1] : {qkv_t} to {x}
  %k = tensor.extract_slice %qkv[0, 0, {width}] [%n, {tokens}, {width}] [1, 1, 1] : {qkv_t} to {x}
  %v = tensor.extract_slice %qkv[0, 0, {2 * width}] [%n, {tokens}, {width}] [1, 1, 1] : {qkv_t} to {x}
  %a = vision.attention %q, %k, %v {{num_heads = {heads} : i64, scale = {scale!r} : f64}} : ({x}, {x}, {x}) -> {x}
  %p = vision.linear %a, %proj_w, %proj_b : ({x}, {w(width, width)}, {v}) -> {x}
  %r1 = arith.addf %x, %p : {x}
  %h2 = vision.layer_norm %r1, %ln2_w, %ln2_b {{epsilon = 1.0e-06 : f64}} : ({x}, {v}, {v}) -> {x}
  %f1 = vision.linear %h2, %fc1_w, %fc1_b : ({x}, {w(4 * width, width)}, {tensor_type([4 * width], dtype)}) -> {fc1_t}
  %g = vision.gelu %f1 {{approximation = #vision.gelu_approximation<none>}} : {fc1_t}
  %f2 = vision.linear %g, %fc2_w, %fc2_b : ({fc1_t}, {w(width, 4 * width)}, {v}) -> {x}
  %r2 = arith.addf %r1, %f2 : {x}
  return %r2 : {x}
}}
"""


def torch_block(x, p, heads):
    """The same block in PyTorch, in the dtype of `x` and `p`."""
    n, t, d = x.shape
    h = torch.nn.functional.layer_norm(x, (d,), p["ln1_w"], p["ln1_b"], 1e-6)
    qkv = torch.nn.functional.linear(h, p["qkv_w"], p["qkv_b"])
    q, k, v = qkv.split(d, dim=-1)
    q, k, v = (z.reshape(n, t, heads, d // heads).transpose(1, 2) for z in (q, k, v))
    s = torch.softmax((q @ k.transpose(-1, -2)) * (d // heads) ** -0.5, dim=-1)
    a = (s @ v).transpose(1, 2).reshape(n, t, d)
    r1 = x + torch.nn.functional.linear(a, p["proj_w"], p["proj_b"])
    h2 = torch.nn.functional.layer_norm(r1, (d,), p["ln2_w"], p["ln2_b"], 1e-6)
    f = torch.nn.functional.gelu(torch.nn.functional.linear(h2, p["fc1_w"], p["fc1_b"]))
    return r1 + torch.nn.functional.linear(f, p["fc2_w"], p["fc2_b"])


# The /proc/cpuinfo flags each kernel family needs.
FAMILY_FLAGS = {"amx-bf16": ["avx512f", "avx512bw", "avx512_bf16", "amx_tile", "amx_bf16"],
                "avx512-bf16": ["avx512f", "avx512bw", "avx512_bf16"],
                "avx512": ["avx512f"], "avx2": ["avx2", "fma"], "portable": []}


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def median_time(fn, iters, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=197)
    parser.add_argument("--width", type=int, default=768)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of both sides (torch.set_num_threads, FOVEA_NUM_THREADS)")
    parser.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    parser.add_argument("--cpu-kernels", default=None,
                        choices=list(FAMILY_FLAGS),
                        help="Fovea's CPU kernel family (FOVEA_CPU_KERNELS; default: the "
                             "CPU's best)")
    parser.add_argument("--pipeline-options", default="",
                        help="options of fovea-cpu-pipeline, e.g. 'vectorize=false'")
    args = parser.parse_args()

    if args.threads < 1:
        parser.error("--threads must be >= 1")
    # Read by the module's thread pool when it first runs.
    os.environ["FOVEA_NUM_THREADS"] = str(args.threads)
    if args.cpu_kernels:
        # The module here is a bare shared object, which takes the CPU's
        # best for a family the CPU lacks: checked here instead.
        missing = set(FAMILY_FLAGS[args.cpu_kernels]) - cpu_flags()
        if missing:
            parser.error(f"this CPU does not run the {args.cpu_kernels} kernels "
                         f"(no {', '.join(sorted(missing))} in /proc/cpuinfo)")
        os.environ["FOVEA_CPU_KERNELS"] = args.cpu_kernels
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    d = args.width
    shapes = {"ln1_w": [d], "ln1_b": [d], "qkv_w": [3 * d, d], "qkv_b": [3 * d],
              "proj_w": [d, d], "proj_b": [d], "ln2_w": [d], "ln2_b": [d],
              "fc1_w": [4 * d, d], "fc1_b": [4 * d], "fc2_w": [d, 4 * d], "fc2_b": [d]}
    params = {k: rounded(torch.randn(s) * (0.02 if len(s) == 2 else 0.1) + (1 if k.startswith("ln") and k.endswith("w") else 0), args.dtype)
              for k, s in shapes.items()}
    x = rounded(torch.randn(args.batch, args.tokens, d), args.dtype)

    start = time.perf_counter()
    compiled = compile_mlir(block_mlir(args.batch, args.tokens, d, args.heads, args.dtype),
                            args.pipeline_options)
    compile_s = time.perf_counter() - start
    inputs = [to_array(x, args.dtype)] + [to_array(params[k], args.dtype) for k in shapes]
    result = {}

    def run_fovea():
        result["y"] = compiled.call("block", *inputs)[0]

    torch_dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    torch_x = x.to(torch_dtype)
    torch_params = {k: v.to(torch_dtype) for k, v in params.items()}

    def run_torch():
        with torch.no_grad():
            result["ref"] = torch_block(torch_x, torch_params, args.heads).float()

    fovea_rounds, torch_rounds = [], []
    for _ in range(args.repeats):
        fovea_rounds.append(median_time(run_fovea, args.iters))
        torch_rounds.append(median_time(run_torch, args.iters))
    fovea_s = statistics.median(fovea_rounds)
    torch_s = statistics.median(torch_rounds)
    # torch's bf16 block rounds every op's output to bf16 too: the same
    # rounding points, other accumulation orders.
    tol = dict(rtol=1e-3, atol=1e-4) if args.dtype == "f32" else dict(rtol=0.05, atol=0.05)
    check_close(from_array(result["y"], args.dtype), result["ref"], args.dtype,
                "block output", **tol)
    flops = args.batch * (24 * args.tokens * d * d + 4 * args.tokens ** 2 * d)
    print(f"ViT block: batch {args.batch}, {args.tokens} tokens, width {d}, "
          f"{args.heads} heads, {args.dtype}, {args.threads} thread(s) on both sides, "
          f"Fovea's CPU kernels {args.cpu_kernels or 'the best'}")
    print(f"  compile (fovea-opt + LLVM -O2): {compile_s:.1f} s")
    for name, median, rounds in (("fovea", fovea_s, fovea_rounds), ("torch", torch_s, torch_rounds)):
        print(f"  {name}  CPU: {median * 1e3:9.1f} ms  ({flops / median / 1e9:6.1f} GFLOP/s)"
              f"  rounds {min(rounds) * 1e3:.1f}..{max(rounds) * 1e3:.1f} ms")
    print(f"  ratio fovea/torch: {fovea_s / torch_s:.2f}x")


if __name__ == "__main__":
    main()
