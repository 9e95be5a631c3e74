#!/usr/bin/env python3
"""Fusion ablation: each vision-level fusion pass switched off in turn, and
all of them, against the default set, on the CPU (same run, same thread
count) and in the fusion report.

    /usr/bin/python3 benchmarks/fusion_ablation.py [--iters 3] [--dtype f32]
        [--batch 1] [--tokens 1025] [--width 1280] [--heads 16]

For every configuration it prints:
  - the CPU time of one ViT-H block (fovea-cpu-pipeline through fovea-opt)
    and of the `tiny` model (fovea-compile), median of --iters runs, and the
    ratio to the default configuration;
  - the fusion report's kernels and bytes per ViT block and per model for
    nano-v2-vl on the GPU (bf16, sm_90a), and tiny's GPU kernel launches
    counted in its `gpu` phase;
  - a check of the outputs: the block against PyTorch, the tiny model
    against the composed PyTorch reference, and both bit for bit against
    the default configuration (fusions keep the rounding points).
Needs a build (build/bin).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, os.path.join(ROOT, "test", "python"))
sys.path.insert(0, os.path.join(ROOT, "test", "python", "reference"))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import pipeline_reference as pipe  # noqa: E402
from cpu_vit_block import block_mlir, torch_block  # noqa: E402
from fovea_testing import compile_mlir, compile_model  # noqa: E402
from fovea_testing.checks import (check_close, from_array, rounded,  # noqa: E402
                                  to_array)

BIN = os.path.join(ROOT, "build", "bin")
PASSES = ["patch-embed", "matmul-epilogue", "residual-norm", "data-movement"]
CONFIGS = [("default", "")] + [(f"no {p}", f"fusion-disable={p}") for p in PASSES] + \
          [("none", "fusion=none")]
TINY = dict(patch_size=16, depth=2, heads=2, num_prefix=2)


def flags_of(option):
    return [f"--{option}"] if option else []


def report(option):
    out = subprocess.run([f"{BIN}/fovea-compile", "--preset", "nano-v2-vl", "--target", "cuda",
                          "--tensor-cores", "--compile-to", "fused", "--fusion-report=json",
                          "-o", os.devnull, *flags_of(option)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def tiny_launches(option):
    with tempfile.NamedTemporaryFile(suffix=".mlir") as f:
        subprocess.run([f"{BIN}/fovea-compile", "--preset", "tiny", "--target", "cuda",
                        "--tensor-cores", "--compile-to", "gpu", "-o", f.name, *flags_of(option)],
                       check=True)
        text = open(f.name).read()
    run = re.search(r"^  func\.func @run\(.*?^  }$", text, re.M | re.S).group(0)
    return run.count("gpu.launch_func")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=1025)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--heads", type=int, default=16)
    args = parser.parse_args()
    dtype, d = args.dtype, args.width

    torch.manual_seed(0)
    shapes = {"ln1_w": [d], "ln1_b": [d], "qkv_w": [3 * d, d], "qkv_b": [3 * d],
              "proj_w": [d, d], "proj_b": [d], "ln2_w": [d], "ln2_b": [d],
              "fc1_w": [4 * d, d], "fc1_b": [4 * d], "fc2_w": [d, 4 * d], "fc2_b": [d]}
    params = {k: rounded(torch.randn(s) * (0.02 if len(s) == 2 else 0.1)
                         + (1 if k.startswith("ln") and k.endswith("w") else 0), dtype)
              for k, s in shapes.items()}
    x = rounded(torch.randn(args.batch, args.tokens, d), dtype)
    block_inputs = [to_array(x, dtype)] + [to_array(params[k], dtype) for k in shapes]
    with torch.no_grad():
        block_ref = torch_block(x.float(), {k: v.float() for k, v in params.items()}, args.heads)

    pixels = torch.randint(0, 256, (2, 3, 64, 64), generator=torch.Generator().manual_seed(1),
                           dtype=torch.uint8)
    # Compile every configuration first, then time them round-robin (one
    # run of each per round), so drift of the machine hits all alike.
    configs = []
    for label, option in CONFIGS:
        block = compile_mlir(block_mlir(args.batch, args.tokens, d, args.heads, dtype), option)
        module, names = compile_model("--preset", "tiny", "--dtype", dtype, *flags_of(option))
        weight_shapes = module.argument_shapes("run")[1:]
        weights = {k: rounded(v, dtype) for k, v in
                   pipe.random_weights(names, weight_shapes, seed=len(names)).items()}
        configs.append(dict(label=label, option=option, block=block, module=module,
                            weights=weights,
                            weight_arrays=[to_array(weights[n], dtype) for n in names],
                            block_times=[], tiny_times=[]))
    tolerance = dict(rtol=1e-3, atol=1e-4) if dtype == "f32" else dict(rtol=2e-2, atol=2e-2)
    for c in configs:  # warm-up run, and the outputs
        c["y"] = c["block"].call("block", *block_inputs)[0]
        c["t"] = c["module"].call("run", pixels.numpy(), *c["weight_arrays"])[0]
        check_close(from_array(c["y"], dtype).float(), block_ref, dtype,
                    f"block ({c['label']})", **tolerance)
        check_close(from_array(c["t"], dtype), pipe.vision_pipeline(pixels, c["weights"], **TINY),
                    dtype, f"tiny ({c['label']})", **tolerance)
    for _ in range(args.iters):
        for c in configs:
            start = time.perf_counter()
            c["block"].call("block", *block_inputs)
            c["block_times"].append(time.perf_counter() - start)
            for _ in range(5):
                start = time.perf_counter()
                c["module"].call("run", pixels.numpy(), *c["weight_arrays"])
                c["tiny_times"].append(time.perf_counter() - start)

    def stats(times):
        return statistics.median(times), (max(times) - min(times)) / 2

    rows = []
    base = configs[0]
    base_block, base_tiny = stats(base["block_times"])[0], stats(base["tiny_times"])[0]
    for c in configs:
        (bs, bsp), (ts, tsp) = stats(c["block_times"]), stats(c["tiny_times"])
        identical = np.array_equal(c["y"], base["y"]) and np.array_equal(c["t"], base["t"])
        r = report(c["option"])
        rows.append((c["label"], bs, bsp, bs / base_block, ts, tsp, ts / base_tiny,
                     r["block"]["kernels"], r["block"]["bytes"] / 1e6, r["model"]["kernels"],
                     r["model"]["bytes"] / 1e6, r["model"]["bytes_over_lower_bound"],
                     tiny_launches(c["option"]), identical))

    print(f"Fusion ablation, {dtype}, CPU one thread (this host), "
          f"ViT-H block: batch {args.batch}, {args.tokens} tokens, width {d}, {args.heads} heads; "
          f"median of {args.iters} rounds, configurations timed round-robin (+- half the range)")
    print("| configuration | ViT-H block CPU ms | vs default | tiny CPU ms | vs default | "
          "report: kernels / block | MB / block | kernels / model | MB / model | x lower bound "
          "| tiny GPU launches | outputs = default |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (label, bs, bsp, br, ts, tsp, tr, bk, bmb, mk, mmb, lb, launches, same) in rows:
        print(f"| {label} | {bs * 1e3:.1f} +- {bsp * 1e3:.1f} | {br:.3f} | {ts * 1e3:.2f} +- "
              f"{tsp * 1e3:.2f} | {tr:.3f} | {bk} | {bmb:.1f} | {mk} | {mmb:.0f} | {lb:.2f} | "
              f"{launches} | {'yes' if same else 'NO'} |")
    print("(report figures: nano-v2-vl, bf16, sm_90a, per image; all outputs also checked "
          "against PyTorch)")


if __name__ == "__main__":
    main()
