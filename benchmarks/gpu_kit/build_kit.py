#!/usr/bin/env python3
"""Builds the GPU check kit (docs/GpuCheck.md) on a machine without a GPU.

usage: build_kit.py --tools BUILD/bin --out DIR [--quick]

The kit holds fovea-run, CUDA modules (kernels as sm_90a cubin), the CPU
modules of the small cases, the expected outputs computed here by the CPU
backend from weights and inputs that kit_data.py generates from a seed (the
kit's machine generates the same bytes again, so no weights travel), the
PyTorch peer model and the scripts that run it all (run.sh, kit.py).
--quick leaves out nano-v2-vl (the CI build: a minute per CUDA module)."""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import kit_data  # noqa: E402

SEED = 7
LIMIT_MIB = 60

# name, preset, flags (both targets), extra CUDA flags, input (leading dim
# = images or frames), batches timed on the GPU, torch peer, nano-v2-vl-sized.
CASES = [
    dict(name="tiny_image", preset="tiny", flags=[], cuda=[], input=[2, 3, 64, 64],
         bench=[], peer=True, large=False),
    dict(name="tiny_image_tc", preset="tiny", flags=[], cuda=["--tensor-cores"],
         input=[2, 3, 64, 64], bench=[], peer=False, large=False, same_as="tiny_image"),
    dict(name="tiny_video_evs", preset="tiny-video",
         flags=["--input-kind", "video", "--evs-rate", "0.5"], cuda=[],
         input=[8, 3, 64, 64], bench=[], peer=False, large=False),
    dict(name="nano", preset="nano-v2-vl", flags=[], cuda=[], input=[1, 3, 512, 512],
         bench=[1, 64], peer=True, large=True),
    dict(name="nano_tc", preset="nano-v2-vl", flags=[], cuda=["--tensor-cores"],
         input=[1, 3, 512, 512], bench=[1, 64], peer=False, large=True, same_as="nano"),
]


def sh(*args):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"build_kit: {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result.stdout


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            h.update(block)
    return h.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", required=True, help="the build's bin directory")
    parser.add_argument("--out", required=True, help="the kit's folder (replaced)")
    parser.add_argument("--quick", action="store_true", help="leave out nano-v2-vl")
    args = parser.parse_args()
    compile_tool = os.path.join(args.tools, "fovea-compile")
    run_tool = os.path.join(args.tools, "fovea-run")
    out = os.path.abspath(args.out)
    if os.path.exists(out):
        shutil.rmtree(out)
    for sub in ("bin", "modules", "expected"):
        os.makedirs(os.path.join(out, sub))
    work = tempfile.mkdtemp(prefix="fovea-kit-build-")
    started = time.time()
    version = sh(compile_tool, "--version").strip().splitlines()[0]
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""

    entries = []
    expected_of = {}
    for case in CASES:
        if case["large"] and args.quick:
            continue
        name = case["name"]
        base = ["--preset", case["preset"], *case["flags"], "--quiet"]
        print(f"build_kit: {name}", flush=True)
        cuda_module = os.path.join(out, "modules", name + "_cuda.so")
        sh(compile_tool, *base, *case["cuda"], "--target", "cuda", "--gpu-arch", "sm_90a",
           "--gpu-binary", "cubin", "--emit", "module", "-o", cuda_module)
        meta = json.loads(sh(run_tool, cuda_module, "--print-metadata"))
        weights = os.path.join(work, name + ".safetensors")
        kit_data.write_safetensors(weights, meta, SEED)
        entry = dict(name=name, preset=case["preset"], flags=case["flags"] + case["cuda"],
                     module=os.path.relpath(cuda_module, out), input=case["input"],
                     bench=case["bench"], peer=case["peer"], weights_sha256=digest(weights),
                     outputs=[o["name"] for o in meta["outputs"]])
        if "same_as" in case:
            entry["expected"] = expected_of[case["same_as"]]
            entry["cpu_module"] = None
        else:
            # The CPU backend's outputs are the expected ones. The small
            # cases' CPU modules travel (run.sh --cpu-only reruns them).
            cpu_module = os.path.join(out if not case["large"] else work,
                                      "modules" if not case["large"] else "",
                                      name + "_cpu.so")
            sh(compile_tool, *base, "--target", "cpu", "--target-cpu", "x86-64-v3",
               "--emit", "module", "-o", cpu_module)
            pixels = os.path.join(work, name + "_input.npy")
            np.save(pixels, kit_data.pixels(case["input"], SEED))
            expected = [os.path.join("expected", f"{name}_{o}.npy") for o in entry["outputs"]]
            outputs = [a for e in expected for a in ("--output", os.path.join(out, e))]
            sh(run_tool, cpu_module, "--device", "cpu", "--weights", weights, "--input",
               pixels, "--output-dtype", "f32", *outputs)
            entry["expected"] = expected
            entry["cpu_module"] = None if case["large"] else os.path.relpath(cpu_module, out)
            expected_of[name] = expected
        entries.append(entry)

    shutil.copy2(run_tool, os.path.join(out, "bin", "fovea-run"))
    for f in ("run.sh", "kit.py", "kit_data.py", "torch_peer.py"):
        shutil.copy2(os.path.join(HERE, f), os.path.join(out, f))
    shutil.copy2(os.path.join(ROOT, "test", "python", "reference", "vision_reference.py"),
                 os.path.join(out, "vision_reference.py"))
    manifest = dict(kit=1, fovea=version, commit=commit, seed=SEED, quick=args.quick,
                    gpu_arch="sm_90a", cases=entries)
    with open(os.path.join(out, "kit.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    shutil.rmtree(work)

    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(f"build_kit: {out}: {size / 2**20:.1f} MiB, {len(entries)} cases, "
          f"{time.time() - started:.0f} s")
    if size > LIMIT_MIB * 2**20:
        sys.exit(f"build_kit: the kit is {size / 2**20:.1f} MiB, over {LIMIT_MIB} MiB")


if __name__ == "__main__":
    main()
