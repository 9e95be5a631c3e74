# RUN: %python %s
"""Artifacts that run on a machine with only libc, libm, libstdc++ and libgcc:
the dynamic section of a module, a standalone executable and fovea-run names
nothing else (no LLVM, MLIR or FFmpeg, no run path); FFmpeg is loaded only
when a video is decoded, with one error line when it cannot be; host code is
built for --target-cpu, whose features the module records and checks, and a
host without them is refused in one line."""

import json
import os
import subprocess

import torch

import pipeline_reference as pipe
from fovea_testing.checks import Cases
from fovea_testing.files import read_npy, write_npy, write_safetensors
from fovea_testing.tools import (BIN, WORK, build, expect_error, sh,
                                 video_frames, weights_for)

TINY = dict(patch_size=16, depth=2, heads=2, num_prefix=2)
READELF = os.path.join(os.environ.get("LLVM_TOOLS_DIR", "/usr/lib/llvm-22/bin"),
                       "llvm-readelf")
ALLOWED = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1",
           "ld-linux-x86-64.so.2"}


def dynamic_section(path):
    out = sh(READELF, "--dynamic-table", path).stdout
    needed = [line.split("[")[1].split("]")[0] for line in out.splitlines()
              if "(NEEDED)" in line]
    paths = [line for line in out.splitlines() if "(RPATH)" in line or "(RUNPATH)" in line]
    return needed, paths


def run_dependencies():
    module = build("port_module", "--preset", "tiny", "--dtype", "f32")
    exe = build("port_exe", "--preset", "tiny-video", "--input-kind", "video", "--dtype", "f32",
                "--source-size", "136x240", emit="exe")
    cuda = build("port_cuda", "--preset", "tiny", "--dtype", "f32", "--target", "cuda")
    for what, path in (("module", module), ("executable", exe), ("CUDA module", cuda),
                       ("fovea-run", f"{BIN}/fovea-run")):
        needed, paths = dynamic_section(path)
        extra = set(needed) - ALLOWED
        assert not extra, f"{what} needs {sorted(extra)}"
        assert not paths, f"{what} has a run path: {paths}"


def run_lazy_ffmpeg():
    """Without FFmpeg a .npy runs; a video is one error line naming the
    library."""
    module = build("port_npy", "--preset", "tiny", "--dtype", "f32")
    ckpt = os.path.join(WORK, "port.safetensors")
    write_safetensors(ckpt, weights_for(module, "f32"))
    write_npy(f"{WORK}/port_x.npy", video_frames(1))
    env = dict(os.environ, FOVEA_FFMPEG_PATH=os.path.join(WORK, "no-ffmpeg"))
    ok = subprocess.run([f"{BIN}/fovea-run", module, "--weights", ckpt, "--input",
                         f"{WORK}/port_x.npy"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    video = build("port_video", "--preset", "tiny-video", "--input-kind", "video",
                  "--dtype", "f32", "--source-size", "136x240")
    clip = os.path.join(WORK, "port.mp4")
    sh("ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
       "testsrc=size=240x136:rate=4", "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", clip)
    bad = subprocess.run([f"{BIN}/fovea-run", video, "--input", clip, "--geometry"], env=env,
                         capture_output=True, text=True)
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode != 0 and len(lines) == 1, bad.stderr
    assert "video decoding needs FFmpeg's libavutil.so." in lines[0], lines[0]
    assert f"from FOVEA_FFMPEG_PATH={env['FOVEA_FFMPEG_PATH']}" in lines[0], lines[0]
    # With FFmpeg where the loader finds it, the same video decodes.
    out = sh(f"{BIN}/fovea-run", video, "--input", clip, "--geometry").stdout
    assert "geometry:" in out, out


def metadata(module):
    return json.loads(sh(f"{BIN}/fovea-run", module, "--print-metadata").stdout)


def run_target_cpu():
    native = build("cpu_native", "--preset", "tiny", "--dtype", "bf16")
    host = metadata(native)["cpu"]
    assert host["name"] and "sse4.2" in host["features"], host
    # The portable baseline: no features beyond x86-64's, and the same
    # results up to the rounding of fused multiply-adds.
    base = build("cpu_base", "--preset", "tiny", "--dtype", "bf16", "--target-cpu", "x86-64")
    assert metadata(base)["cpu"] == {"name": "x86-64", "features": []}, metadata(base)["cpu"]
    weights = weights_for(native, "bf16")
    ckpt = os.path.join(WORK, "cpu.safetensors")
    write_safetensors(ckpt, weights)
    x = video_frames(2, seed=4)
    write_npy(f"{WORK}/cpu_x.npy", x)
    expected = pipe.vision_pipeline(x, weights, **TINY)
    for module, name in ((native, "native"), (base, "base")):
        sh(f"{BIN}/fovea-run", module, "--weights", ckpt, "--input", f"{WORK}/cpu_x.npy",
           "--output", f"{WORK}/cpu_{name}.npy")
        y = read_npy(f"{WORK}/cpu_{name}.npy").float()
        cos = torch.nn.functional.cosine_similarity(y.flatten(), expected.flatten(), dim=0)
        assert cos > 0.999, (name, float(cos))
    # The CUDA target's host code is portable by default.
    cuda = build("cpu_cuda", "--preset", "tiny", "--dtype", "f32", "--target", "cuda")
    assert metadata(cuda)["cpu"]["name"] == "x86-64"
    # A CPU with features this host lacks: refused at load, in one line.
    spr = build("cpu_spr", "--preset", "tiny", "--dtype", "bf16", "--target-cpu", "sapphirerapids")
    missing = [f for f in metadata(spr)["cpu"]["features"] if f not in host["features"]]
    run = [f"{BIN}/fovea-run", spr, "--weights", ckpt, "--input", f"{WORK}/cpu_x.npy"]
    if missing:
        expect_error(run, "this module was built for the CPU 'sapphirerapids' and needs "
                          + ", ".join(missing) + ", which this host lacks")
    else:
        sh(*run)
    expect_error([f"{BIN}/fovea-compile", "--preset", "tiny", "--target-cpu", "pentium9",
                  "--emit", "module", "-o", f"{WORK}/x.so"],
                 "unknown --target-cpu 'pentium9'")


cases = Cases()
cases.run("dynamic dependencies", run_dependencies)
cases.run("FFmpeg loaded when a video is decoded", run_lazy_ffmpeg)
cases.run("--target-cpu", run_target_cpu)
cases.finish()
