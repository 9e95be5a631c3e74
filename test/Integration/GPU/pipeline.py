# RUN: %python %s
"""The whole pipeline compiled with --target cuda and run on the GPU through
fovea-run --device cuda: image (f32, bf16, and bf16 with the experimental
--tensor-cores matmuls and flash attention) and video (T=2, odd and even
frame counts, EVS on; also bf16 on tensor cores), compared with the CPU
backend's outputs and the PyTorch
reference with the CPU tolerances (f32 per element; bf16 per token cosine
and relative L2; EVS counts exact on f32)."""

import os


import pipeline_reference as pipe
from fovea_testing.checks import Cases, check_close, check_equal
from fovea_testing.files import read_npy, write_npy, write_safetensors
from fovea_testing.tools import BIN, WORK, build, sh, video_frames, weights_for

TINY = dict(patch_size=16, depth=2, heads=2, num_prefix=2)
RUN = f"{BIN}/fovea-run"



def run_both(name, flags, dtype, pixels, outputs, gpu_flags=()):
    """Runs the same model compiled for cuda and for cpu; returns both."""
    gpu = build(f"{name}_cuda", *flags, "--dtype", dtype, "--target", "cuda", *gpu_flags)
    cpu = build(f"{name}_cpu", *flags, "--dtype", dtype)
    weights = weights_for(gpu, dtype)
    ckpt = os.path.join(WORK, f"{name}.safetensors")
    write_safetensors(ckpt, weights)
    x = os.path.join(WORK, f"{name}_x.npy")
    write_npy(x, pixels)
    results = {}
    for device, module in (("cuda", gpu), ("cpu", cpu)):
        paths = [os.path.join(WORK, f"{name}_{device}_{k}.npy") for k in range(outputs)]
        sh(RUN, module, "--device", device, "--weights", ckpt, "--input", x,
           *sum([["--output", p] for p in paths], []))
        results[device] = [read_npy(p) for p in paths]
    return results, {k: v.float() for k, v in weights.items()}


def image(dtype, gpu_flags=()):
    pixels = video_frames(3, seed=1)
    results, weights = run_both(f"image_{dtype}_{len(gpu_flags)}", ["--preset", "tiny"],
                                dtype, pixels, 1, gpu_flags)
    expected = pipe.vision_pipeline(pixels, weights, **TINY)
    check_close(results["cuda"][0].float(), expected, dtype, f"gpu image {dtype}",
                rtol=1e-3, atol=1e-4)
    check_close(results["cuda"][0].float(), results["cpu"][0].float(), dtype,
                f"gpu vs cpu image {dtype}", rtol=1e-3, atol=1e-4)


def video_evs(count, dtype="f32", gpu_flags=()):
    pixels = video_frames(count, seed=count)
    flags = ["--preset", "tiny-video", "--input-kind", "video", "--evs-rate", "0.5"]
    results, weights = run_both(f"video_{count}_{dtype}", flags, dtype, pixels, 2, gpu_flags)
    kept, counts = results["cuda"]
    exp_kept, exp_counts = pipe.vision_pipeline(pixels, weights, temporal=2,
                                                evs_rate=0.5, **TINY)
    check_equal(counts.numpy(), exp_counts.numpy(), f"gpu video {count}: counts")
    check_close(kept.float(), exp_kept, dtype, f"gpu video {count}: kept", rtol=1e-3, atol=1e-4)
    check_equal(counts.numpy(), results["cpu"][1].numpy(), f"gpu vs cpu counts {count}")


def tiles_from_source():
    pixels = video_frames(2, seed=7, height=100, width=300)
    flags = ["--preset", "tiny", "--source-size", "100x300"]
    results, weights = run_both("tiles", flags, "f32", pixels, 1)
    seen = pipe.preprocess(pixels, (64, 64), tiles=(3, 1), thumbnail=True)
    check_close(results["cuda"][0], pipe.vision_pipeline(seen, weights, **TINY), "f32",
                "gpu tiles", rtol=1e-3, atol=1e-4)


cases = Cases()
cases.run("image f32", image, "f32")
cases.run("image bf16", image, "bf16")
cases.run("image bf16, tensor cores (mma.sync)", image, "bf16", ("--tensor-cores",))
cases.run("video T=2, 5 frames, EVS 0.5", video_evs, 5)
cases.run("video T=2, 8 frames, EVS 0.5", video_evs, 8)
cases.run("video T=2, 6 frames, EVS 0.5, bf16 tensor cores", video_evs, 6, "bf16",
          ("--tensor-cores",))
cases.run("in-graph resize and tiles", tiles_from_source)
cases.finish()
