#!/usr/bin/env python3
"""The image pipeline on an NVIDIA GPU: Fovea against PyTorch on the same GPU.

Fovea compiles the preset for CUDA (bf16, `--tensor-cores` unless
`--loop-kernels`) and `fovea-run --device cuda --benchmark` times it; the
same model written with PyTorch modules (F.linear, F.layer_norm,
F.scaled_dot_product_attention, ...) runs eager and under torch.compile with
the same random weights and pixels. For each batch (default 1 and 64 tiles
of 512x512 for nano-v2-vl) it prints ms per tile, tiles/s and the achieved
TFLOP/s (matmul and attention FLOPs), and checks that Fovea's output agrees
with PyTorch's (bf16 tolerances).

    /usr/bin/python3 benchmarks/gpu_pipeline.py [--preset nano-v2-vl]
        [--batch 1 64] [--iters 20] [--warmup 3] [--loop-kernels]
        [--no-compile] [--workdir DIR]

Needs a CUDA GPU and a build (build/bin). `--check` runs no benchmark: it
compares the PyTorch model with the reference pipeline on the CPU (tiny
preset, f32 and bf16); the test suite runs it so the baseline computes the
same function as Fovea.
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

import torch  # noqa: E402

import pipeline_reference as pipe  # noqa: E402
from fovea_testing.checks import check_close  # noqa: E402
from fovea_testing.files import read_npy, write_npy, write_safetensors  # noqa: E402
from torch_peer import TorchPipeline, matmul_flops  # noqa: E402

BIN = os.environ.get("FOVEA_TOOLS_DIR", os.path.join(ROOT, "build", "bin"))


def run(args, capture=True):
    result = subprocess.run(args, capture_output=capture, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {(result.stderr or '').strip()[-2000:]}")
    return result.stdout


def build_model(preset, dtype_flag, work, extra=()):
    """Compiles `preset`; returns (module path, metadata, random weights)."""
    module = os.path.join(work, f"{preset}_{'_'.join(extra) or 'cpu'}.so")
    run([f"{BIN}/fovea-compile", "--preset", preset, "--dtype", dtype_flag,
         "--emit", "module", "-o", module, *extra])
    meta = json.loads(run([f"{BIN}/fovea-run", module, "--print-metadata"]))
    names = [w["name"] for w in meta["weights"]]
    shapes = [w["shape"] for w in meta["weights"]]
    weights = pipe.random_weights(names, shapes)
    vision = run([f"{BIN}/fovea-compile", "--preset", preset, "--compile-to", "vision"])
    meta["num_heads"] = int(re.search(r"num_heads = (\d+)", vision).group(1))
    return module, meta, weights


def heads_of(meta):
    return meta["num_heads"]


def check(work):
    """The PyTorch model against the reference pipeline, on the CPU."""
    _, meta, weights = build_model("tiny", "f32", work)
    geometry = meta["geometry"]
    heads = heads_of(meta)
    g = torch.Generator().manual_seed(1)
    pixels = torch.randint(0, 256, (2, 3, geometry["height"], geometry["width"]),
                           generator=g, dtype=torch.uint8)
    depth = sum(1 for n in weights if n.endswith("attn.qkv.weight"))
    expected = pipe.vision_pipeline(pixels, weights, patch_size=geometry["patch_size"],
                                    depth=depth, heads=heads,
                                    num_prefix=geometry["num_prefix_tokens"])
    for dtype, name in ((torch.float32, "f32"), (torch.bfloat16, "bf16")):
        rounded = {k: v.to(dtype).float() for k, v in weights.items()}
        want = expected if dtype == torch.float32 else pipe.vision_pipeline(
            pixels, rounded, patch_size=geometry["patch_size"], depth=depth,
            heads=heads, num_prefix=geometry["num_prefix_tokens"])
        model = TorchPipeline(rounded, geometry, heads, dtype, "cpu")
        with torch.no_grad():
            got = model(pixels).float()
        check_close(got, want, name, f"PyTorch baseline {name}", rtol=1e-3, atol=1e-4)
        print(f"PyTorch baseline ({name}) matches the reference pipeline "
              f"{tuple(got.shape)}")


def time_torch(model, pixels, iters, warmup):
    with torch.no_grad():
        for _ in range(warmup):
            model(pixels)
        torch.cuda.synchronize()
        times = []
        for _ in range(iters):
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            out = model(pixels)
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2], out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="nano-v2-vl")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--loop-kernels", action="store_true",
                        help="compile without --tensor-cores")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    parser.add_argument("--check", action="store_true",
                        help="compare the PyTorch model with the reference on the CPU")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="fovea-gpu-bench-")
    os.makedirs(work, exist_ok=True)
    if args.check:
        return check(work)
    if not torch.cuda.is_available():
        sys.exit("gpu_pipeline.py: needs a CUDA GPU (torch.cuda.is_available() is False); "
                 "--check runs the CPU part")

    extra = ["--target", "cuda"] + ([] if args.loop_kernels else ["--tensor-cores"])
    start = time.perf_counter()
    module, meta, weights = build_model(args.preset, "bf16", work, extra)
    compile_s = time.perf_counter() - start
    weights = {k: v.to(torch.bfloat16) for k, v in weights.items()}
    ckpt = os.path.join(work, "model.safetensors")
    write_safetensors(ckpt, weights)
    geometry = meta["geometry"]
    heads = heads_of(meta)
    model = TorchPipeline(weights, geometry, heads, torch.bfloat16, "cuda")
    compiled = None if args.no_compile else torch.compile(model)
    print(f"{args.preset}, bf16, {geometry['height']}x{geometry['width']} tiles, "
          f"{torch.cuda.get_device_name()}; fovea-compile {' '.join(extra)}: {compile_s:.1f} s")
    print(f"{'batch':>5} {'engine':<22} {'ms/tile':>9} {'tiles/s':>9} {'TFLOP/s':>8}")
    for batch in args.batch:
        g = torch.Generator().manual_seed(batch)
        pixels = torch.randint(0, 256, (batch, 3, geometry["height"], geometry["width"]),
                               generator=g, dtype=torch.uint8)
        x = os.path.join(work, f"x{batch}.npy")
        y = os.path.join(work, f"y{batch}.npy")
        write_npy(x, pixels)
        out = run([f"{BIN}/fovea-run", module, "--device", "cuda", "--weights", ckpt,
                   "--input", x, "--output", y, "--benchmark", str(args.iters),
                   "--warmup", str(args.warmup)])
        fovea_ms = float(re.search(r"median ([\d.]+) ms", out).group(1))
        flops = matmul_flops({k: tuple(v.shape) for k, v in weights.items()}, geometry,
                             batch)
        rows = [("fovea", fovea_ms)]
        eager_ms, eager_out = time_torch(model, pixels.cuda(), args.iters, args.warmup)
        rows.append(("pytorch eager", eager_ms))
        if compiled is not None:
            rows.append(("pytorch torch.compile",
                         time_torch(compiled, pixels.cuda(), args.iters, args.warmup)[0]))
        for engine, ms in rows:
            print(f"{batch:>5} {engine:<22} {ms / batch:>9.3f} {1e3 * batch / ms:>9.1f} "
                  f"{flops / (ms * 1e-3) / 1e12:>8.1f}")
        check_close(read_npy(y).float(), eager_out.float().cpu(), "bf16",
                    f"fovea vs PyTorch, batch {batch}")


if __name__ == "__main__":
    main()
