#!/usr/bin/env python3
"""A full-size model on the CPU: compile a preset (default nano-v2-vl:
ViT-H/16, 32 blocks, width 1280, one 512x512 tile, LLM width 5120) into a
runtime module, write random weights as safetensors, run it with fovea-run,
check its output against the composed per-op PyTorch reference (the
numerical oracle, f32), time the same model as a PyTorch nn.Module (the
speed peer: F.linear, F.layer_norm, attention, at the module's dtype and
thread count, eager) and report compile time, load time, run times, the
ratio and peak memory.

    /usr/bin/python3 benchmarks/cpu_full_model.py [--preset nano-v2-vl]
        [--dtype f32] [--tiles 1] [--threads N] [--runs 3] [--workdir DIR]
        [--no-peer] [--compile-option FLAG ...] [--cpu-kernels NAME]

--no-peer skips the nn.Module peer (bf16 on a CPU without AVX512_BF16,
where PyTorch's bf16 linear runs at about 1 GFLOP/s, would take tens of
minutes).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, os.path.join(ROOT, "test", "python"))
sys.path.insert(0, os.path.join(ROOT, "test", "python", "reference"))
sys.path.insert(0, os.path.join(HERE, "gpu_kit"))


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="nano-v2-vl")
    parser.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    parser.add_argument("--tiles", type=int, default=1)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--threads", type=int, default=0,
                        help="threads of both sides (0: every core)")
    parser.add_argument("--runs", type=int, default=3,
                        help="timed runs of each side, after one warm-up run")
    parser.add_argument("--compile-option", action="append", default=[],
                        help="extra fovea-compile flag, e.g. --microkernels=false (repeatable)")
    parser.add_argument("--cpu-kernels", default="auto",
                        help="Fovea's CPU kernel family (fovea-run --cpu-kernels: auto, "
                             "amx-bf16, avx512-bf16, avx512, avx2, portable)")
    parser.add_argument("--no-peer", action="store_true",
                        help="do not time the PyTorch nn.Module peer")
    args = parser.parse_args()
    if args.threads < 0 or args.runs < 1 or args.tiles < 1:
        parser.error("--threads must be >= 0, --runs and --tiles >= 1")
    return args


ARGS = parse()
THREADS = ARGS.threads or len(os.sched_getaffinity(0))
# OpenBLAS reads its thread count when it loads and ignores
# torch.set_num_threads: set before torch is imported.
os.environ["OPENBLAS_NUM_THREADS"] = str(THREADS)
os.environ["OMP_NUM_THREADS"] = str(THREADS)

import torch  # noqa: E402

import pipeline_reference as pipe  # noqa: E402
from torch_peer import from_metadata  # noqa: E402
from fovea_testing.checks import check_close, rounded  # noqa: E402
from fovea_testing.files import read_npy, write_npy, write_safetensors  # noqa: E402

BIN = os.path.join(ROOT, "build", "bin")


def timed(args):
    """Runs `args` under /usr/bin/time -v; returns (seconds, peak RSS MiB,
    stdout)."""
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stderr[-2000:]}")
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1))
    return seconds, peak / 1024, result.stdout


def peer_times(weights, meta, dtype, pixels, runs):
    """Seconds of each timed run of the PyTorch nn.Module peer (after one
    warm-up run), and its output."""
    torch.set_num_threads(THREADS)
    peer = from_metadata(weights, meta, dtype, "cpu")
    times = []
    with torch.no_grad():
        out = peer(pixels)
        for _ in range(runs):
            start = time.perf_counter()
            out = peer(pixels)
            times.append(time.perf_counter() - start)
    return times, out


def main():
    args = ARGS
    work = args.workdir or tempfile.mkdtemp(prefix="fovea-full-")
    os.makedirs(work, exist_ok=True)
    module = os.path.join(work, f"{args.preset}.so")

    compile_s, compile_mb, _ = timed([f"{BIN}/fovea-compile", "--preset", args.preset,
                                      "--dtype", args.dtype, *args.compile_option,
                                      "--emit", "module", "-o", module])
    meta = json.loads(subprocess.run([f"{BIN}/fovea-run", module, "--print-metadata"],
                                     capture_output=True, text=True, check=True).stdout)
    names = [w["name"] for w in meta["weights"]]
    shapes = [w["shape"] for w in meta["weights"]]
    torch_dtype = torch.float32 if args.dtype == "f32" else torch.bfloat16
    weights = {k: rounded(v, args.dtype).to(torch_dtype)
               for k, v in pipe.random_weights(names, shapes).items()}
    params = sum(w.numel() for w in weights.values())
    ckpt = os.path.join(work, "model.safetensors")
    write_safetensors(ckpt, weights)
    geometry = meta["geometry"]
    g = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (args.tiles, 3, geometry["height"], geometry["width"]),
                           generator=g, dtype=torch.uint8)
    write_npy(os.path.join(work, "x.npy"), pixels)

    depth = sum(1 for n in names if n.endswith("attn.qkv.weight"))
    width = shapes[names.index(next(n for n in names if n.endswith("cls_token.token")))][1]
    start = time.perf_counter()
    expected = pipe.vision_pipeline(pixels, weights, patch_size=geometry["patch_size"],
                                    depth=depth, heads=16 if width == 1280 else 2,
                                    num_prefix=geometry["num_prefix_tokens"])
    torch_s = time.perf_counter() - start
    run_s, run_mb, out = timed([f"{BIN}/fovea-run", module, "--weights", ckpt,
                                "--input", os.path.join(work, "x.npy"),
                                "--output", os.path.join(work, "y.npy"),
                                "--benchmark", str(args.runs), "--warmup", "1",
                                "--threads", str(THREADS), "--cpu-kernels", args.cpu_kernels])
    if not args.no_peer:
        peer_s, peer_out = peer_times(weights, meta, torch_dtype, pixels, args.runs)
        peer_s.sort()
        peer_median = peer_s[len(peer_s) // 2]
    result = read_npy(os.path.join(work, "y.npy")).float()
    rel_l2 = ((result - expected.float()).norm() / expected.float().norm()).item()
    if args.dtype == "f32":
        check_close(result, expected, args.dtype, "model output", rtol=2e-3, atol=2e-4)
        agreement = f"rtol 2e-3, atol 2e-4 (relative L2 {rel_l2:.3e})"
    else:
        # 32 blocks that round every activation to bf16 drift further from
        # the f32 reference than one op does (check_close's bf16 bound is
        # relative L2 1e-2): the figures are printed, and a gross error
        # (cosine < 0.999 or relative L2 > 3e-2) fails.
        flat, ref = result.reshape(-1, result.shape[-1]), expected.float().reshape(-1, result.shape[-1])
        cosine = torch.nn.functional.cosine_similarity(flat, ref, dim=-1).min().item()
        rel = ((flat - ref).norm() / ref.norm()).item()
        if cosine < 0.999 or rel > 3e-2:
            sys.exit(f"model output: min per-token cosine {cosine:.6f}, relative L2 {rel:.3e}")
        agreement = f"min per-token cosine {cosine:.6f}, relative L2 {rel:.3e}"
    load_ms = float(re.search(r"load: ([\d.]+) ms", out).group(1))
    median_ms = float(re.search(r"median ([\d.]+) ms", out).group(1))
    min_ms = float(re.search(r"min ([\d.]+) ms", out).group(1))
    family = re.search(r"CPU kernels (\S+)", out).group(1)
    weight_bytes = sum(w.numel() * w.element_size() for w in weights.values())
    print(f"{args.preset} ({params / 1e6:.0f}M parameters, {weight_bytes / 1e9:.2f} GB), "
          f"{args.tiles} tile(s) {geometry['height']}x{geometry['width']}, {args.dtype}, "
          f"{THREADS} thread(s), CPU kernels {family}:")
    print(f"  compile (fovea-compile --emit module): {compile_s:.1f} s, peak {compile_mb:.0f} MiB")
    print(f"  fovea-run: load {load_ms / 1e3:.2f} s, run median {median_ms / 1e3:.2f} s "
          f"(min {min_ms / 1e3:.2f}) over {args.runs}, peak RSS {run_mb:.0f} MiB "
          f"= {run_mb * 2**20 / weight_bytes:.2f} x weight bytes (process total {run_s:.1f} s)")
    if not args.no_peer:
        peer_rel = ((peer_out.float() - result).norm() / result.norm()).item()
        print(f"  PyTorch nn.Module peer ({args.dtype}, {THREADS} thread(s), eager): median "
              f"{peer_median:.2f} s (min {peer_s[0]:.2f}, max {peer_s[-1]:.2f}) over "
              f"{args.runs}; relative L2 to Fovea {peer_rel:.2e}")
        print(f"  Fovea / PyTorch time: {median_ms / 1e3 / peer_median:.2f}x")
    print(f"  PyTorch per-op reference (the oracle, f32): {torch_s:.1f} s")
    print(f"  output {tuple(result.shape)} against the f32 reference: {agreement}")


if __name__ == "__main__":
    main()
