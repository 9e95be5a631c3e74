#!/usr/bin/env python3
"""The demo behind `make run`: make a PNG image and an H.264 clip, compile
the tiny presets for the CPU for those sizes (an image module that tiles in
the graph, a video module with tubelets and EVS), write random weights as a
safetensors checkpoint, then run both on the files with fovea-run: decoding,
frame sampling, predicted and returned token counts, the prompt layout, and
timings."""

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
from fovea_testing.files import read_npy, write_safetensors  # noqa: E402


def run(*args):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(result.stderr.strip() or f"{args[0]} failed")
    return result.stdout


def geometry(output, prefix):
    line = next(l for l in output.splitlines() if l.startswith(prefix))
    return json.loads(line[len(prefix):])


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    tools = os.path.join(build, "bin")
    work = tempfile.mkdtemp(prefix="fovea-demo-")
    print(f"== working in {work}")

    # Real media: a 300x100 PNG and a 4 s 1280x720 30 fps H.264 clip.
    from PIL import Image
    y, x = torch.meshgrid(torch.arange(100), torch.arange(300), indexing="ij")
    disc = ((x - 150) ** 2 + (y - 50) ** 2) < 900
    picture = torch.stack([x * 255 // 300, y * 2, torch.where(disc, 255, 40)])
    image_path = os.path.join(work, "photo.png")
    Image.fromarray(picture.clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()).save(image_path)
    clip = os.path.join(work, "clip.mp4")
    run("ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
        "testsrc2=size=1280x720:rate=30", "-t", "4", "-c:v", "libx264",
        "-pix_fmt", "yuv420p", clip)
    print("== made photo.png (300x100) and clip.mp4 (1280x720, 30 fps, 4 s)")

    # Compile for those sizes: resize (and tiling) happen inside the modules.
    image_so, video_so = os.path.join(work, "image.so"), os.path.join(work, "video.so")
    run(f"{tools}/fovea-compile", "--preset", "tiny", "--source-size", "100x300",
        "--emit", "module", "-o", image_so)
    run(f"{tools}/fovea-compile", "--preset", "tiny-video", "--input-kind", "video",
        "--source-size", "720x1280", "--evs-rate", "0.5", "--emit", "module", "-o", video_so)
    print("== compiled tiny (images 100x300 -> 3x1 tiles + thumbnail) and tiny-video "
          "(frames 720x1280 -> 64x128, T=2, EVS q=0.5) for the CPU, bf16")

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

    print("== image: decode -> tiles -> encoder")
    out = run(f"{tools}/fovea-run", image_so, "--weights", checkpoint, "--input", image_path,
              "--geometry", "--output", os.path.join(work, "image_out.npy"),
              "--benchmark", "10", "--warmup", "1")
    g = geometry(out, "geometry: ")
    print(f"   {g['units_per_image']} tiles x {g['tokens_per_unit']} tokens = "
          f"{g['tokens_per_image']} tokens per image (predicted before the run)")
    print("\n".join("   " + l for l in out.splitlines() if not l.startswith("geometry")))

    print("== video: decode (fps 2) -> tubelets -> EVS")
    out = run(f"{tools}/fovea-run", video_so, "--weights", checkpoint, "--input", clip,
              "--geometry", "--output", os.path.join(work, "kept.npy"),
              "--output", os.path.join(work, "counts.npy"),
              "--benchmark", "5", "--warmup", "1")
    before, after = geometry(out, "geometry: "), geometry(out, "geometry after EVS: ")
    print("\n".join("   " + l for l in out.splitlines() if not l.startswith("geometry")))
    print(f"   predicted: {before['frames']} frames -> {before['tubelets']} tubelets of "
          f"{before['tokens_per_tubelet']} tokens; EVS keeps {before['total_tokens']}")
    counts = read_npy(os.path.join(work, "counts.npy")).tolist()
    print(f"   returned: {sum(counts)} tokens, per tubelet {counts}")
    print("   prompt after EVS:")
    for line in after["prompt"].replace("<image>", "*").splitlines():
        print("     " + line)
    print("   (* = one <image> placeholder)")

    # Dynamic resolution: the photo and a frame-sized picture of another
    # size packed into one sequence, each at its own §10.1 size.
    second = os.path.join(work, "wide.png")
    Image.open(image_path).resize((200, 60)).save(second)
    packed_so = os.path.join(work, "packed.so")
    run(f"{tools}/fovea-compile", "--preset", "tiny-dynamic", "--source-size",
        "100x300,60x200", "--emit", "module", "-o", packed_so)
    packed_ckpt = os.path.join(work, "packed.safetensors")
    meta = json.loads(run(f"{tools}/fovea-run", packed_so, "--print-metadata"))
    names = [w["name"] for w in meta["weights"]]
    shapes = [w["shape"] for w in meta["weights"]]
    write_safetensors(packed_ckpt, {k: v.to(torch.bfloat16) for k, v in
                                    pipe.random_weights(names, shapes).items()})
    print("== packed images (tiny-dynamic): 300x100 and 200x60 in one sequence")
    out = run(f"{tools}/fovea-run", packed_so, "--weights", packed_ckpt,
              "--input", image_path, "--input", second, "--geometry",
              "--benchmark", "10", "--warmup", "1")
    g = geometry(out, "geometry: ")
    for image in g["per_image"]:
        src, size = image["source_size"], image["size"]
        print(f"   {src['width']}x{src['height']} -> {size['width']}x{size['height']} "
              f"pixels, {image['tokens']} tokens")
    print("\n".join("   " + l for l in out.splitlines() if not l.startswith("geometry")))


if __name__ == "__main__":
    main()
