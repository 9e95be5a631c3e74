# RUN: %python %s
"""The GPU pipeline's loop structure, run on the CPU: fovea-gpu-pipeline
with emulate-on-host stops after every loop nest is split into blocks and
guarded 256-thread rows (fovea-gpu-tile-parallel-loops) and lowers that for
the host. The whole tiny pipeline (image; video with T=2, odd frame counts
and EVS) must match the PyTorch reference, so the block/thread index
arithmetic and bounds guards the GPU kernels use are checked without a
GPU. Block sizes that do not divide the rows (96, 100) exercise the
guards. With tensor-cores, the bf16 matmuls take the tensor-core kernel,
built for the host with its mma.sync emulated (see mma_emulation.py)."""


import re

import pipeline_reference as pipe
from fovea_testing import compile_mlir
from fovea_testing.checks import Cases, check_close, check_equal, from_array, to_array
from fovea_testing.tools import BIN, sh, video_frames

TINY = dict(patch_size=16, depth=2, heads=2, num_prefix=2)



def run(flags, block_size, counts, temporal=1, evs_rate=0.0, dtype="f32",
        tensor_cores=False):
    vision = sh(f"{BIN}/fovea-compile", *flags, "--dtype", dtype,
                "--compile-to", "vision").stdout
    names = re.findall(r'vision\.weight = "([^"]+)"', vision)
    module = compile_mlir(vision, f"emulate-on-host=true hoist-weight-only=false "
                                  f"block-size={block_size} tensor-cores={str(tensor_cores).lower()}",
                          pipeline="fovea-gpu-pipeline")
    shapes = module.argument_shapes("run")[1:]
    weights = pipe.random_weights(names, shapes, seed=3)
    for count in counts:
        pixels = video_frames(count, count)
        outputs = module.call("run", pixels.numpy(),
                              *[to_array(weights[n], dtype) for n in names])
        expected = pipe.vision_pipeline(pixels, weights, temporal=temporal,
                                        evs_rate=evs_rate, **TINY)
        what = f"{' '.join(flags)} block={block_size} count={count}"
        if evs_rate:
            check_equal(outputs[1], expected[1].numpy(), what + ": counts")
            check_close(from_array(outputs[0], dtype), expected[0], dtype, what,
                        rtol=1e-3, atol=1e-4)
        else:
            check_close(from_array(outputs[0], dtype), expected, dtype, what,
                        rtol=1e-3, atol=1e-4)


def packed(block_size, dtype="f32", tensor_cores=False):
    """Packed images of different sizes (block-diagonal attention through
    cu_seqlens, per-image resize, position embedding and pixel shuffle)."""
    sizes, seen_sizes = [(100, 60), (64, 64)], [(128, 64), (64, 64)]
    vision = sh(f"{BIN}/fovea-compile", "--preset", "tiny-dynamic", "--dtype", dtype,
                "--source-size", ",".join(f"{h}x{w}" for h, w in sizes),
                "--compile-to", "vision").stdout
    names = re.findall(r'vision\.weight = "([^"]+)"', vision)
    module = compile_mlir(vision, f"emulate-on-host=true hoist-weight-only=false "
                                  f"block-size={block_size} tensor-cores={str(tensor_cores).lower()}",
                          pipeline="fovea-gpu-pipeline")
    shapes = module.argument_shapes("run")[len(sizes):]
    weights = pipe.random_weights(names, shapes, seed=4)
    images = [video_frames(1, k, h, w) for k, (h, w) in enumerate(sizes)]
    (out,) = module.call("run", *[p.numpy() for p in images],
                         *[to_array(weights[n], dtype) for n in names])
    seen = [pipe.preprocess(p, s) for p, s in zip(images, seen_sizes)]
    expected = pipe.packed_vision_pipeline(seen, weights, **TINY)
    check_close(from_array(out, dtype), expected, dtype, f"packed block={block_size}",
                rtol=1e-3, atol=1e-4)


cases = Cases()
cases.run("image, 256 threads", run, ["--preset", "tiny"], 256, [1, 3])
cases.run("image, 96 threads (partial blocks)", run, ["--preset", "tiny"], 96, [2])
cases.run("video T=2 EVS 0.5, 100 threads", run,
          ["--preset", "tiny-video", "--input-kind", "video", "--evs-rate", "0.5"],
          100, [5, 4], temporal=2, evs_rate=0.5)
cases.run("image bf16, tensor cores emulated", run, ["--preset", "tiny"], 256, [2],
          dtype="bf16", tensor_cores=True)
cases.run("video bf16 T=2 EVS 0.5, tensor cores emulated", run,
          ["--preset", "tiny-video", "--input-kind", "video", "--evs-rate", "0.5"],
          256, [3], temporal=2, evs_rate=0.5, dtype="bf16", tensor_cores=True)
cases.run("packed images 100x60 + 64x64, 128 threads", packed, 128)
cases.run("packed images bf16, tensor cores emulated", packed, 256, dtype="bf16",
          tensor_cores=True)
cases.finish()
