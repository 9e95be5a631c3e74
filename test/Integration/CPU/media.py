# RUN: %python %s
"""Real media through fovea-run: videos generated with the ffmpeg CLI
(testsrc; H.264, MPEG-4 and lossless FFV1; several sizes and frame rates)
decoded with the frames sampled as the serving engines do (fps 2 and a frame
cap by default), compared with the CLI's own RGB decode; images (PNG, BMP,
JPEG) compared with Pillow's decode; the token geometry fovea-run predicts
before a run compared with the rows the module returns (images with tiles,
video T=1 and T=2, odd frame counts, EVS q in {0, 0.5, 0.75, 0.9}); and
one-line errors for empty, truncated, corrupt and unsupported files."""

import json
import os
import subprocess
from fractions import Fraction

import numpy as np
import torch
from PIL import Image

import pipeline_reference as pipe
from fovea_testing.checks import Cases, check_close
from fovea_testing.files import read_npy, write_safetensors
from fovea_testing.tools import BIN, WORK, build, expect_error, sh, weights_for

TINY = dict(patch_size=16, depth=2, heads=2, num_prefix=2)
RUN = f"{BIN}/fovea-run"


def make_clip(name, width, height, rate, seconds, codec):
    path = os.path.join(WORK, name)
    sh("ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
       f"testsrc=size={width}x{height}:rate={rate}", "-t", str(seconds), *codec, path)
    return path


def cli_frames(path):
    """Every frame of `path` as RGB [F, 3, H, W], decoded by the ffmpeg CLI."""
    probe = json.loads(sh("ffprobe", "-v", "error", "-select_streams", "v:0",
                          "-show_entries", "stream=width,height", "-of", "json",
                          path).stdout)["streams"][0]
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", path, "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    h, w = probe["height"], probe["width"]
    frames = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
    return torch.from_numpy(frames.copy()).permute(0, 3, 1, 2)


def expected_indices(total, source_fps, fps=2.0, max_frames=128):
    """The loader's recipe, written out: min(total, max, floor(duration * fps))
    frames (at least 1), all of them or numpy.linspace truncated."""
    n = min(total, max_frames) if max_frames > 0 else total
    if fps > 0:
        n = min(n, int(np.floor(total / source_fps * fps)))
    n = max(n, 1)
    if n == total:
        return list(range(n))
    return np.linspace(0, total - 1, n, dtype=int).tolist()


def parse_sampled(stdout):
    line = next(l for l in stdout.splitlines() if l.startswith("input "))
    return [int(v) for v in line.split(":")[-1].split()]


def parse_geometry(stdout, prefix="geometry: "):
    line = next(l for l in stdout.splitlines() if l.startswith(prefix))
    return json.loads(line[len(prefix):])


MODULES = {}


def video_module(height, width, preset="tiny-video", evs=0.0):
    key = (height, width, preset, evs)
    if key not in MODULES:
        flags = ["--preset", preset, "--input-kind", "video", "--dtype", "f32",
                 "--source-size", f"{height}x{width}"]
        if evs:
            flags += ["--evs-rate", repr(evs)]
        name = f"video_{preset}_{height}x{width}_{evs}"
        MODULES[key] = build(name, *flags)
    return MODULES[key]


def decode_case(name, width, height, rate, seconds, codec, exact, run_flags=(),
                fps=2.0, max_frames=128):
    clip = make_clip(name, width, height, rate, seconds, codec)
    module = video_module(height, width)
    saved = os.path.join(WORK, name + ".npy")
    out = sh(RUN, module, "--input", clip, "--geometry", "--save-input", saved,
             *run_flags).stdout
    reference = cli_frames(clip)
    indices = parse_sampled(out) if "input " in out else None
    want = expected_indices(reference.shape[0], float(Fraction(str(rate))), fps,
                            max_frames)
    geometry = parse_geometry(out)
    assert geometry["frame_indices"] == want, (geometry["frame_indices"], want)
    frames = read_npy(saved)
    assert frames.shape == (len(want), 3, height, width), frames.shape
    diff = (frames.int() - reference[want].int()).abs()
    if exact:
        assert diff.max() == 0, f"{name}: lossless decode differs by {diff.max()}"
    else:
        assert diff.max() <= 2 and diff.float().mean() < 0.05, \
            f"{name}: max {diff.max()}, mean {diff.float().mean()}"
    assert indices is None or indices == want


def images_case():
    g = torch.Generator().manual_seed(3)
    base = (torch.rand(30, 50, 3, generator=g) * 255).to(torch.uint8).numpy()
    img = Image.fromarray(base, "RGB").resize((300, 100), Image.BILINEAR)
    module = build("image_tiles", "--preset", "tiny", "--dtype", "f32",
                   "--source-size", "100x300")
    weights = weights_for(module, "f32")
    ckpt = os.path.join(WORK, "tiles.safetensors")
    write_safetensors(ckpt, weights)
    paths = []
    for ext in ("png", "bmp", "jpg"):
        path = os.path.join(WORK, f"photo.{ext}")
        img.save(path)
        paths.append(path)
    saved = os.path.join(WORK, "images.npy")
    out_path = os.path.join(WORK, "tiles_out.npy")
    out = sh(RUN, module, "--weights", ckpt, "--input", *sum([["--input", p] for p in paths[1:]], [paths[0]]),
             "--geometry", "--save-input", saved, "--output", out_path).stdout
    pixels = read_npy(saved)
    for k, path in enumerate(paths):
        pil = torch.from_numpy(np.asarray(Image.open(path).convert("RGB")).copy()).permute(2, 0, 1)
        diff = (pixels[k].int() - pil.int()).abs().max()
        limit = 0 if path.endswith(("png", "bmp")) else 8  # JPEG decoders differ slightly
        assert diff <= limit, f"{path}: decoded differently from Pillow by {diff}"
    # 300x100 -> 3x1 tiles and a thumbnail: 4 units of 4 tokens per image.
    geometry = parse_geometry(out)
    assert geometry["units_per_image"] == 4 and geometry["tokens_per_image"] == 16, geometry
    result = read_npy(out_path)
    assert list(result.shape[:2]) == geometry["output_shape"], (result.shape, geometry)
    assert geometry["total_tokens"] == result.shape[0] * result.shape[1]
    # And the numbers: reference preprocessing + pipeline on the decoded pixels.
    seen = pipe.preprocess(pixels, (64, 64), tiles=(3, 1), thumbnail=True)
    expected = pipe.vision_pipeline(seen, weights, **TINY)
    check_close(result, expected, "f32", "tiles from image files", rtol=1e-3, atol=1e-4)


def executable_case():
    """A standalone executable decodes a video itself."""
    exe = build("video_exe", "--preset", "tiny-video", "--input-kind", "video",
                "--dtype", "f32", "--source-size", "136x240", "--evs-rate", "0.5",
                emit="exe")
    ckpt = os.path.join(WORK, "exe.safetensors")
    write_safetensors(ckpt, weights_for(exe, "f32"))
    clip = make_clip("exe.mp4", 240, 136, 4, 2.5, ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
    out = sh(exe, "--weights", ckpt, "--input", clip, "--geometry").stdout
    assert parse_sampled(out) == expected_indices(10, 4.0), out
    after = parse_geometry(out, "geometry after EVS: ")
    assert after["tubelets"] == 3 and after["split_measured"], after


def invariant_case(preset, evs, frames_list):
    """Predicted tokens == rows returned, over clips of several lengths."""
    module = video_module(136, 240, preset, evs)
    weights = weights_for(module, "f32", seed=1)
    ckpt = os.path.join(WORK, f"inv_{preset}_{evs}.safetensors")
    write_safetensors(ckpt, weights)
    temporal = 2 if preset == "tiny-video" else 1
    for frames in frames_list:
        # `frames` frames at 2 fps: every frame is sampled.
        clip = make_clip(f"inv_{frames}.mp4", 240, 136, 2, frames / 2,
                         ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        outputs = [os.path.join(WORK, f"inv_out{k}.npy") for k in range(2)]
        out = sh(RUN, module, "--weights", ckpt, "--input", clip, "--geometry",
                 *sum([["--output", p] for p in outputs[:2 if evs else 1]], [])).stdout
        before = parse_geometry(out)
        tubelets = -(-frames // temporal)
        assert before["frames"] == frames and before["tubelets"] == tubelets, before
        rows = read_npy(outputs[0])
        if evs:
            counts = read_npy(outputs[1])
            assert rows.shape[0] == before["total_tokens"], (rows.shape, before)
            assert counts.shape[0] == tubelets and int(counts.sum()) == rows.shape[0]
            after = parse_geometry(out, "geometry after EVS: ")
            assert after["tokens_per_tubelet_in_prompt"] == counts.tolist(), after
            assert after["prompt"].count("<image>") == rows.shape[0]
            assert before["prompt"].count("<image>") == rows.shape[0]
        else:
            assert list(rows.shape[:2]) == [tubelets, before["tokens_per_tubelet"]]
            assert before["total_tokens"] == rows.shape[0] * rows.shape[1]
            assert before["prompt"].count("<image>") == before["total_tokens"]
        assert before["prompt"].count("<img>") == tubelets


def errors_case():
    image_module = build("err_image", "--preset", "tiny", "--dtype", "f32",
                         "--source-size", "64x64")
    video = video_module(136, 240)
    empty = os.path.join(WORK, "empty.png")
    open(empty, "wb").close()
    expect_error([RUN, image_module, "--geometry", "--input", empty], "is empty")
    png = os.path.join(WORK, "whole.png")
    Image.new("RGB", (64, 64), (10, 20, 30)).save(png)
    data = open(png, "rb").read()
    truncated = os.path.join(WORK, "truncated.png")
    open(truncated, "wb").write(data[: len(data) // 2])
    expect_error([RUN, image_module, "--geometry", "--input", truncated],
                 "cannot decode image")
    garbage = os.path.join(WORK, "garbage.jpg")
    open(garbage, "wb").write(os.urandom(2000))
    expect_error([RUN, image_module, "--geometry", "--input", garbage],
                 "cannot decode image")
    text = os.path.join(WORK, "notes.txt")
    open(text, "w").write("hello")
    expect_error([RUN, image_module, "--geometry", "--input", text], "unsupported input")
    wrong = os.path.join(WORK, "wrong.png")
    Image.new("RGB", (80, 64)).save(wrong)
    expect_error([RUN, image_module, "--geometry", "--input", wrong],
                 "compile it with --source-size 64x80")

    clip = make_clip("good.mp4", 240, 136, 10, 1, ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
    expect_error([RUN, image_module, "--geometry", "--input", clip], "is a video")
    expect_error([RUN, video, "--geometry", "--input", png], "is an image")
    empty_video = os.path.join(WORK, "empty.mp4")
    open(empty_video, "wb").close()
    expect_error([RUN, video, "--geometry", "--input", empty_video], "cannot open video")
    corrupt = os.path.join(WORK, "corrupt.mkv")
    open(corrupt, "wb").write(os.urandom(5000))
    expect_error([RUN, video, "--geometry", "--input", corrupt], "video")
    data = open(clip, "rb").read()
    cut = os.path.join(WORK, "cut.mp4")
    open(cut, "wb").write(data[: len(data) // 3])
    expect_error([RUN, video, "--save-input", os.path.join(WORK, "cut.npy"),
                  "--input", cut], "video")
    expect_error([RUN, video, "--geometry", "--input", clip, "--fps", "-1"],
                 "--fps expects a non-negative number")
    expect_error([RUN, video, "--geometry", "--input", clip, "--max-frames", "500"],
                 "exceeds the module's limit of 128 frames")
    expect_error([RUN, video, "--input", clip], "--weights is required")


cases = Cases()
h264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
cases.run("decode H.264 240x136 10 fps (25 frames -> 5 sampled)", decode_case,
          "a.mp4", 240, 136, 10, 2.5, h264, False)
cases.run("decode MPEG-4 AVI 240x136 30 fps (90 frames -> 6)", decode_case,
          "b.avi", 240, 136, 30, 3, ["-c:v", "mpeg4", "-q:v", "2"], False)
cases.run("decode FFV1 lossless 240x136 25 fps, every frame, cap 8", decode_case,
          "c.mkv", 240, 136, 25, 1.2, ["-c:v", "ffv1", "-pix_fmt", "bgr0"], True,
          ("--fps", "0", "--max-frames", "8"), 0.0, 8)
cases.run("decode 29.97 fps, 61 frames", decode_case, "d.mp4", 240, 136,
          "30000/1001", 61 * 1001 / 30000, h264, False)
cases.run("decode H.264 160x96 24 fps (72 frames -> 6)", decode_case,
          "e.mp4", 160, 96, 24, 3, h264, False)
cases.run("decode MKV 320x180 15 fps (30 frames -> 4), --fps 1.5", decode_case,
          "f.mkv", 320, 180, 15, 2, h264, False, ("--fps", "1.5"), 1.5)
cases.run("images: PNG, BMP, JPEG -> tiles", images_case)
cases.run("invariant T=2 no EVS", invariant_case, "tiny-video", 0.0, [1, 2, 5])
for q in (0.5, 0.75, 0.9):
    cases.run(f"invariant T=2 EVS q={q}", invariant_case, "tiny-video", q, [3, 6])
cases.run("invariant T=1 EVS q=0.75", invariant_case, "tiny", 0.75, [3])
cases.run("standalone executable with a video", executable_case)
cases.run("errors", errors_case)
cases.finish()
