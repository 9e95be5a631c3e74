# RUN: %python %s
"""The whole vision pipeline of the test presets, compiled by fovea-compile
for the CPU and compared with the composed PyTorch reference: image and
video, T=1 and T=2 (odd and even frame counts through one module), EVS off
and on (q = 0.5, 0.75; kept and per-tubelet counts exact on f32), f32 and
bf16; and with the off-by-default folds that change rounding only: the
LayerNorms' scale and shift into the next linears (vision-fold-norm-affine)
and the pixel normalization into the patch and tubelet embedding weights
(vision-fold-input-normalization)."""

import torch

import pipeline_reference as pipe
from fovea_testing import compile_model
from fovea_testing.checks import (Cases, check_close, check_equal, from_array,
                                  rounded, to_array)

TINY = dict(patch_size=16, depth=2, heads=2, num_prefix=2)


def run(preset, kind, dtype, evs_rate, frame_counts, extra=()):
    args = ["--preset", preset, "--input-kind", kind, "--dtype", dtype, *extra]
    if evs_rate:
        args += ["--evs-rate", repr(evs_rate)]
    module, names = compile_model(*args)
    shapes = module.argument_shapes("run")[1:]
    weights = {k: rounded(v, dtype) for k, v in
               pipe.random_weights(names, shapes, seed=len(names)).items()}
    temporal = 2 if preset == "tiny-video" and kind == "video" else 1
    for count in frame_counts:
        g = torch.Generator().manual_seed(count)
        pixels = torch.randint(0, 256, (count, 3, 64, 64), generator=g, dtype=torch.uint8)
        if kind == "video":
            # Neighbouring frames share most of their content, as in a video.
            for f in range(1, count):
                keep = torch.rand(1, 1, 64, 64, generator=g) < 0.7
                pixels[f] = torch.where(keep, pixels[f - 1], pixels[f])
        outputs = module.call("run", pixels.numpy(),
                              *[to_array(weights[n], dtype) for n in names])
        expected = pipe.vision_pipeline(pixels, weights, temporal=temporal,
                                        evs_rate=evs_rate, **TINY)
        what = f"{preset} {kind} {dtype} frames={count} evs={evs_rate}"
        if evs_rate:
            kept, counts = outputs
            exp_kept, exp_counts = expected
            if dtype == "f32":
                check_equal(counts, exp_counts.numpy(), what + ": counts")
            elif counts.sum() != exp_counts.sum().item():
                raise AssertionError(f"{what}: kept {counts.sum()} tokens, expected "
                                     f"{exp_counts.sum().item()}")
            if dtype == "f32":
                check_close(from_array(kept, dtype), exp_kept, dtype, what + ": kept",
                            rtol=1e-3, atol=1e-4)
        else:
            check_close(from_array(outputs[0], dtype), expected, dtype, what,
                        rtol=1e-3, atol=1e-4)


cases = Cases()
for dtype in ("f32", "bf16"):
    cases.run(f"tiny image {dtype}", run, "tiny", "image", dtype, 0.0, [1, 3])
    cases.run(f"tiny-video T=2 {dtype}", run, "tiny-video", "video", dtype, 0.0, [5, 4])
cases.run("tiny video T=1 f32", run, "tiny", "video", "f32", 0.0, [3])
for dtype in ("f32", "bf16"):
    cases.run(f"tiny image {dtype}, norm affine folded", run, "tiny", "image", dtype,
              0.0, [2], ["--fusion-enable=fold-norm-affine"])
    cases.run(f"tiny image {dtype}, input normalization folded", run, "tiny", "image",
              dtype, 0.0, [2], ["--fusion-enable=fold-input-normalization"])
    cases.run(f"tiny-video T=2 {dtype}, input normalization folded", run, "tiny-video",
              "video", dtype, 0.0, [5], ["--fusion-enable=fold-input-normalization"])
for rate in (0.5, 0.75):
    cases.run(f"tiny-video EVS q={rate} f32", run, "tiny-video", "video", "f32", rate, [5, 8])
cases.run("tiny-video EVS q=0.5 bf16", run, "tiny-video", "video", "bf16", 0.5, [7])
cases.finish()
