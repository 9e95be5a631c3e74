#!/usr/bin/env python3
"""The CPU matmul microkernels against torch.nn.functional.linear on the
ViT-H shapes, f32 and bf16, in one run, at the same thread count.

    /usr/bin/python3 benchmarks/cpu_gemm.py [--batch 1] [--threads 1]
        [--iters 5] [--repeats 3] [--dtype f32,bf16] [--isa NAME]

Measures the core's peak first (a register-only FMA loop, and a vdpbf16ps
loop where the CPU has AVX512_BF16, a tile dot-product loop where it has
AMX; without them bf16 is widened to f32 and its limit is the FMA peak;
times the thread count), then per shape
and dtype alternates `--repeats` rounds of Fovea's kernel (fovea_matmul_*
on weights packed as the compiler packs them at load) and torch's linear
(OpenBLAS for f32, oneDNN for bf16), and prints the medians with their
spread (min..max of the round medians), the fraction of peak and the ratio.
Shapes: M = 1032 * batch tokens (one 512x512 tile) through the ViT-H
linears (N, K) in {qkv 3840x1280, proj 1280x1280, fc1 5120x1280,
fc2 1280x5120}, and M = 256 * batch through the projector's
5120 -> 20480 -> 5120. Needs a build (build/lib/Runtime/libFoveaRuntime.a).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtype", default="f32,bf16")
    parser.add_argument("--isa", default=None,
                        help="Fovea's kernel family (amx-bf16, avx512-bf16, avx512, avx2, "
                             "portable; default: the CPU's best)")
    args = parser.parse_args()
    if args.threads < 1 or args.batch < 1 or args.iters < 1 or args.repeats < 1:
        parser.error("--batch, --threads, --iters and --repeats must be >= 1")
    for d in args.dtype.split(","):
        if d not in ("f32", "bf16"):
            parser.error(f"--dtype expects f32 and/or bf16, got '{d}'")
    return args


ARGS = parse()
# OpenBLAS reads its thread count when it loads, and ignores
# torch.set_num_threads: both must be set before torch is imported.
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)
os.environ["FOVEA_NUM_THREADS"] = str(ARGS.threads)

import torch  # noqa: E402


def build_driver():
    """Compiles cpu_gemm_kernel.cpp against the runtime library."""
    library = os.path.join(ROOT, "build", "lib", "Runtime", "libFoveaRuntime.a")
    if not os.path.exists(library):
        sys.exit(f"{library} not found: build Fovea first")
    clang = os.path.join(os.environ.get("LLVM_TOOLS_DIR", "/usr/lib/llvm-22/bin"), "clang++")
    exe = os.path.join(tempfile.mkdtemp(prefix="fovea-gemm-"), "cpu_gemm_kernel")
    subprocess.run([clang, "-O2", "-std=c++17", "-I", os.path.join(ROOT, "include"),
                    os.path.join(HERE, "cpu_gemm_kernel.cpp"), library, "-pthread", "-o", exe],
                   check=True)
    return exe


def fovea_gflops(exe, dtype, m, n, k, iters):
    command = [exe, dtype, str(m), str(n), str(k), str(iters)]
    if ARGS.isa:
        command.append(ARGS.isa)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(result.stderr.strip() or f"{exe} failed")
    out = result.stdout.split()
    return float(out[0]), out[1]


def torch_gflops(dtype, m, n, k, iters):
    torch_dtype = torch.float32 if dtype == "f32" else torch.bfloat16
    x = torch.randn(m, k).to(torch_dtype)
    w = torch.randn(n, k).to(torch_dtype)
    with torch.no_grad():
        torch.nn.functional.linear(x, w)
        times = []
        for _ in range(iters):
            start = time.perf_counter()
            torch.nn.functional.linear(x, w)
            times.append(time.perf_counter() - start)
    return 2.0 * m * n * k / statistics.median(times) / 1e9


def main():
    torch.set_num_threads(ARGS.threads)
    exe = build_driver()
    peak_line = subprocess.run([exe, "peak"], capture_output=True, text=True,
                               check=True).stdout.split()
    peak = {"f32": float(peak_line[2]) * ARGS.threads,
            "bf16": float(peak_line[4]) * ARGS.threads}
    print(f"one core's peak: f32 FMA {float(peak_line[2]):.1f} GFLOP/s, bf16 {peak_line[5]} "
          f"{float(peak_line[4]):.1f} GFLOP/s; {ARGS.threads} thread(s) on both sides "
          f"(peak x {ARGS.threads})")
    tokens, shuffled = 1032 * ARGS.batch, 256 * ARGS.batch
    shapes = [("qkv", tokens, 3840, 1280), ("proj", tokens, 1280, 1280),
              ("fc1", tokens, 5120, 1280), ("fc2", tokens, 1280, 5120),
              ("mlp1.1", shuffled, 20480, 5120), ("mlp1.3", shuffled, 5120, 20480)]
    print(f"{'shape':>8} {'M':>5} {'N':>6} {'K':>6} {'dtype':>5} | {'fovea GFLOP/s':>22} "
          f"{'% peak':>6} | {'torch GFLOP/s':>22} {'% peak':>6} | fovea/torch time")
    for dtype in ARGS.dtype.split(","):
        if peak[dtype] == 0:
            print(f"{dtype}: this CPU has no {dtype} dot-product instructions; skipped")
            continue
        for name, m, n, k in shapes:
            fovea, ours = [], None
            theirs = []
            for _ in range(ARGS.repeats):
                g, ours = fovea_gflops(exe, dtype, m, n, k, ARGS.iters)
                fovea.append(g)
                theirs.append(torch_gflops(dtype, m, n, k, ARGS.iters))
            f, t = statistics.median(fovea), statistics.median(theirs)
            print(f"{name:>8} {m:>5} {n:>6} {k:>6} {dtype:>5} | {f:7.1f} ({min(fovea):5.1f}..{max(fovea):5.1f})"
                  f" {100 * f / peak[dtype]:5.0f}% | {t:7.1f} ({min(theirs):5.1f}..{max(theirs):5.1f})"
                  f" {100 * t / peak[dtype]:5.0f}% | {t / f:.2f}x  [{ours}]")


if __name__ == "__main__":
    main()
