#!/usr/bin/env python3
"""The demo behind `make run`: compile the tiny presets for the CPU (an image
module and a video module with EVS), write random weights as a safetensors
checkpoint, make a sample image and a short sample video, run both with
fovea-run and print shapes, token counts and timings."""

import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "python"))
sys.path.insert(0, os.path.join(ROOT, "test", "python", "reference"))

import torch  # noqa: E402

import pipeline_reference as pipe  # noqa: E402
from fovea_testing.files import read_npy, write_npy, write_safetensors  # noqa: E402


def run(*args):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(result.stderr.strip() or f"{args[0]} failed")
    return result.stdout


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    tools = os.path.join(build, "bin")
    work = tempfile.mkdtemp(prefix="fovea-demo-")
    print(f"== working in {work}")

    # Compile: an image module, and a video module (T = 2 tubelets, EVS 0.5).
    image_so, video_so = os.path.join(work, "image.so"), os.path.join(work, "video.so")
    run(f"{tools}/fovea-compile", "--preset", "tiny", "--emit", "module", "-o", image_so)
    run(f"{tools}/fovea-compile", "--preset", "tiny-video", "--input-kind", "video",
        "--evs-rate", "0.5", "--emit", "module", "-o", video_so)
    print("== compiled tiny (image) and tiny-video (video, T=2, EVS q=0.5) for the CPU, bf16")

    # One checkpoint with every weight either module needs.
    weights = {}
    for module in (image_so, video_so):
        meta = json.loads(run(f"{tools}/fovea-run", module, "--print-metadata"))
        names = [w["name"] for w in meta["weights"]]
        shapes = [w["shape"] for w in meta["weights"]]
        weights.update(pipe.random_weights(names, shapes))
    checkpoint = os.path.join(work, "model.safetensors")
    write_safetensors(checkpoint, {k: v.to(torch.bfloat16) for k, v in weights.items()})
    print(f"== wrote {len(weights)} random weights to {checkpoint}")

    # A sample image (a gradient with a disc) and a 7-frame video of it
    # moving to the right.
    y, x = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    frames = []
    for t in range(7):
        disc = ((x - 16 - 4 * t) ** 2 + (y - 32) ** 2) < 100
        frame = torch.stack([x * 4, y * 4, torch.where(disc, 255, 40)]).clamp(0, 255)
        frames.append(frame.to(torch.uint8))
    write_npy(os.path.join(work, "image.npy"), frames[0].unsqueeze(0))
    write_npy(os.path.join(work, "video.npy"), torch.stack(frames))

    print("== image: 1 x 3 x 64 x 64")
    print(run(f"{tools}/fovea-run", image_so, "--weights", checkpoint,
              "--input", os.path.join(work, "image.npy"),
              "--output", os.path.join(work, "image_out.npy"),
              "--benchmark", "20", "--warmup", "2").rstrip())
    print("== video: 7 frames x 3 x 64 x 64 -> 4 tubelets of 4 tokens, EVS keeps half")
    print(run(f"{tools}/fovea-run", video_so, "--weights", checkpoint,
              "--input", os.path.join(work, "video.npy"),
              "--output", os.path.join(work, "kept.npy"),
              "--output", os.path.join(work, "counts.npy"),
              "--benchmark", "20", "--warmup", "2").rstrip())
    counts = read_npy(os.path.join(work, "counts.npy")).tolist()
    print(f"   tokens kept per tubelet: {counts} (total {sum(counts)} of {4 * len(counts)})")


if __name__ == "__main__":
    main()
