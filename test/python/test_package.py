"""The Python package against the PyTorch reference: compile a test preset,
load it with a safetensors checkpoint, run it; metadata and IR; errors as
FoveaError with Fovea's diagnostics; geometry parity with compiled modules.

Run by ctest with PYTHONPATH set to build/python and test/python.
"""

import os
import subprocess
import tempfile

import numpy as np
import torch

import fovea
import pipeline_reference as pipe
from fovea_testing.checks import (Cases, check_close, check_equal, expect_raises,
                                  rounded)
from fovea_testing.files import write_safetensors

WORK = tempfile.mkdtemp(prefix="fovea-python-")
TINY = dict(patch_size=16, depth=2, heads=2, num_prefix=2)


def load_with_random_weights(so, dtype, name):
    """Loads `so` with random weights for what its metadata declares."""
    meta = fovea.metadata(so)
    names = [w["name"] for w in meta["weights"]]
    shapes = [w["shape"] for w in meta["weights"]]
    torch_dtype = torch.float32 if dtype == "f32" else torch.bfloat16
    weights = {k: rounded(v, dtype).to(torch_dtype)
               for k, v in pipe.random_weights(names, shapes).items()}
    path = os.path.join(WORK, name + ".safetensors")
    write_safetensors(path, weights)
    return fovea.load(so, weights=path), weights


def pixels(count):
    g = torch.Generator().manual_seed(count)
    return torch.randint(0, 256, (count, 3, 64, 64), generator=g, dtype=torch.uint8)


def image_f32():
    so = fovea.compile("tiny", os.path.join(WORK, "tiny_f32.so"), dtype="f32")
    module, weights = load_with_random_weights(so, "f32", "f32")
    assert module.metadata["model"] == "tiny"
    assert module.metadata["outputs"][0]["shape"] == [-1, 4, 96]
    x = pixels(2)
    (y,) = module.run(x.numpy())
    assert y.dtype == np.float32 and y.shape == (2, 4, 96), (y.dtype, y.shape)
    check_close(torch.from_numpy(y), pipe.vision_pipeline(x, weights, **TINY), "f32",
                "image f32", rtol=1e-3, atol=1e-4)
    # The thread count changes no bit of the result.
    path = os.path.join(WORK, "f32.safetensors")
    for threads in (1, 2, 3):
        (z,) = fovea.load(so, weights=path, threads=threads).run(x.numpy())
        assert np.array_equal(y.view(np.uint32), z.view(np.uint32)), threads
    # The CPU kernel family: chosen at load or later, each within the
    # tolerance of the reference; the default is the CPU's best.
    best = module.cpu_kernels
    assert best in ("amx-bf16", "avx512-bf16", "avx512", "avx2", "portable"), best
    portable = fovea.load(so, weights=path, cpu_kernels="portable")
    assert portable.cpu_kernels == "portable" and module.cpu_kernels == "portable"
    (z,) = portable.run(x.numpy())
    check_close(torch.from_numpy(z), torch.from_numpy(y), "f32", "portable kernels",
                rtol=1e-4, atol=1e-5)
    portable.cpu_kernels = "auto"
    assert module.cpu_kernels == best


def video_bf16_evs():
    so = fovea.compile("tiny-video", os.path.join(WORK, "video.so"), input_kind="video",
                       evs_rate=0.5)
    module, weights = load_with_random_weights(so, "bf16", "bf16")
    x = pixels(5)
    kept, counts = module.run(x.numpy())
    assert kept.dtype == np.uint16 and counts.dtype == np.int64
    exp_kept, exp_counts = pipe.vision_pipeline(x, weights, temporal=2, evs_rate=0.5, **TINY)
    assert counts.sum() == exp_counts.sum().item() == fovea.evs_retained_tokens(4, 3, 0.5)
    assert kept.shape == (counts.sum(), 96)
    # The module's geometry before and after the run.
    before = module.geometry(5, [0, 4, 8, 12, 16], 8.0)
    assert before["total_tokens"] == counts.sum() and before["tubelets"] == 3
    assert before["tokens_per_tubelet_in_prompt"] == [int(counts.sum()), 0, 0]
    after = module.geometry(5, [0, 4, 8, 12, 16], 8.0, tubelet_counts=counts.tolist())
    assert after["tokens_per_tubelet_in_prompt"] == counts.tolist()
    assert after["prompt"].startswith("Frame 1 sampled at 0.00 seconds and frame 2 sampled "
                                      "at 0.50 seconds: <img>")


def ir_and_geometry():
    text = fovea.compile("tiny", emit="ir", compile_to="vision")
    assert "vision.patch_embed" in text and "vision.pixel_shuffle" in text
    assert fovea.evs_retained_tokens(5, 20, 0.9) == 9
    assert fovea.evs_retained_tokens(256, 8, 0.75) == 512
    assert fovea.tokens_per_unit(384, 672) == 252
    assert fovea.tokens_per_unit(512, 512) == 256
    # The geometry functions agree with what a compiled module reports.
    so = fovea.compile("tiny", os.path.join(WORK, "geo.so"), image_size=(96, 128))
    meta = fovea.metadata(so)
    assert meta["geometry"]["tokens_per_unit"] == fovea.tokens_per_unit(96, 128) == 12
    # Frame sizes, tiling and prompts (the C++ geometry library; gtest checks
    # the same functions against the spec's worked values).
    assert fovea.video_frame_size(1920, 1080) == (672, 384)
    assert fovea.video_frame_size(3840, 1080) == (960, 256)
    assert fovea.video_frame_size(1920, 1080, maintain_aspect_ratio=False) == (512, 512)
    assert fovea.internvl_tiling(1920, 1080) == (4, 2, 9)
    assert fovea.dynamic_resolution_grid(1920, 1080, 13312) == (68, 120)
    assert fovea.dynamic_resolution_grid(100, 60, 13312) == (26, 44)
    assert fovea.image_prompt(2) == "<img><image><image></img>"
    assert fovea.video_prompt([0, 1, 2], 2, 2, [1, 0]) == (
        "Frame 1 sampled at 0.00 seconds and frame 2 sampled at 0.50 seconds: "
        "<img><image></img>\nFrame 3 sampled at 1.00 seconds: <img></img>")
    # A video module's token count per tubelet is what the geometry predicts
    # for its frame size.
    width, height = fovea.video_frame_size(1920, 1080)
    video = fovea.compile("tiny-video", os.path.join(WORK, "geo_video.so"),
                          input_kind="video", image_size=(height, width))
    assert fovea.metadata(video)["geometry"]["tokens_per_unit"] == \
        fovea.tokens_per_unit(height, width) == 252
    assert fovea.sample_frame_indices(300, 30.0) == [
        0, 15, 31, 47, 62, 78, 94, 110, 125, 141, 157, 173, 188, 204, 220, 236, 251, 267, 283, 299]
    assert fovea.sample_frame_indices(97, 24.0, max_frames=8) == [0, 13, 27, 41, 54, 68, 82, 96]
    assert fovea.dynamic_resolution_budgets([(1920, 1080)] * 4, 4096, 100) == [3992] * 4
    ptx = fovea.compile("tiny", target="cuda", gpu_arch="sm_80", emit="ir", compile_to="ptx")
    assert ".target sm_80" in ptx and ".entry run_kernel" in ptx
    assert "mma.sync" not in ptx
    mma = fovea.compile("tiny", target="cuda", tensor_cores=True, emit="ir", compile_to="ptx")
    assert "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32" in mma and "shfl.sync" in mma
    tiled = fovea.compile("tiny", os.path.join(WORK, "tiles.so"), source_size=(100, 300))
    assert fovea.metadata(tiled)["geometry"]["units_per_image"] == 4
    bits = fovea.float32_to_bf16(np.array([1.0, 3.14159, -2.5e-3], np.float32))
    check_equal(fovea.bf16_to_float32(bits),
                torch.tensor([1.0, 3.14159, -2.5e-3]).to(torch.bfloat16).float().numpy(),
                "bf16 round trip")


def packed_images():
    """A dynamic-resolution module packing two images of different sizes:
    one array per image in, the images' tokens in order out."""
    so = fovea.compile("tiny-dynamic", os.path.join(WORK, "packed.so"), dtype="f32",
                       source_size=[(64, 64), (100, 60)])
    meta = fovea.metadata(so)
    assert [i["shape"] for i in meta["inputs"]] == [[1, 3, 64, 64], [1, 3, 100, 60]]
    module, weights = load_with_random_weights(so, "f32", "packed")
    g = torch.Generator().manual_seed(5)
    images = [torch.randint(0, 256, (1, 3, h, w), generator=g, dtype=torch.uint8)
              for h, w in ((64, 64), (100, 60))]
    (out,) = module.run([p.numpy() for p in images])
    # 100x60 within 64 patches -> 128x64 (§10.1); 64x64 stays.
    seen = [images[0], pipe.preprocess(images[1], (128, 64))]
    expected = pipe.packed_vision_pipeline(seen, weights, **TINY)
    check_close(torch.from_numpy(out), expected, "f32", "packed images", rtol=1e-3, atol=1e-4)
    geometry = module.geometry(2)
    assert geometry["tokens_per_image"] == [4, 8] and geometry["output_shape"] == [12], geometry
    shrunk = fovea.compile("tiny-dynamic", emit="ir", compile_to="vision",
                           source_size=[(200, 200), (200, 200)], max_model_len=20)
    # 4 * (20 - 4) = 64 patches for two images that would take 8x8 each:
    # budgets of 32, where 200x200 becomes 6x4 patches (§10.1's rounding).
    assert shrunk.count("grid = array<i64: 6, 4>") == 2, shrunk


def errors():
    def expect(fn, message):
        expect_raises(fn, fovea.FoveaError, message)

    expect(lambda: fovea.compile("huge", "x.so"), "unknown preset 'huge'")
    expect(lambda: fovea.compile("tiny", "x.so", dtype="f64"), "--dtype expects bf16 or f32, got 'f64'")
    expect(lambda: fovea.compile("tiny", "x.so", target="rocm"), "--target expects cpu or cuda, got 'rocm'")
    expect(lambda: fovea.compile("tiny", "x.so", tensor_cores=True),
           "--tensor-cores applies to --target cuda only")
    expect(lambda: fovea.compile("tiny", "x.so", target="cuda", gpu_arch="sm_70"),
           "unsupported GPU architecture 'sm_70'")
    expect(lambda: fovea.compile("tiny", "x.so", input_kind="audio"), "--input-kind expects image or video, got 'audio'")
    expect(lambda: fovea.compile("tiny", "x.so", evs_rate=0.5), "applies to video input only")
    expect(lambda: fovea.compile("tiny"), "needs an output path")
    expect(lambda: fovea.compile("tiny-dynamic", "x.so", max_model_len=100),
           "--max-model-len and --prompt-tokens set the budgets of packed images")
    packed = fovea.compile("tiny-dynamic", os.path.join(WORK, "packed_err.so"), dtype="f32",
                           source_size=[(64, 64), (64, 64)])
    module, _ = load_with_random_weights(packed, "f32", "packed_err")
    expect(lambda: module.run(pixels(1).numpy()), "the module takes 2 inputs")
    expect(lambda: module.geometry(3), "the module packs 2 images, got a count of 3")
    so = fovea.compile("tiny", os.path.join(WORK, "err.so"), dtype="f32")
    expect(lambda: fovea.load(so, weights=os.path.join(WORK, "none.safetensors")),
           "none.safetensors: cannot open")
    empty = os.path.join(WORK, "empty.safetensors")
    write_safetensors(empty, {"unrelated": torch.zeros(2)})
    expect(lambda: fovea.load(so, weights=empty),
           "no vision tower in the checkpoint: looked for "
           "'vision_model.radio_model.model.patch_generator.pos_embed'")
    module, _ = load_with_random_weights(so, "f32", "err")
    expect(lambda: module.run(np.zeros((1, 3, 32, 32), np.uint8)),
           "input 'pixels': expected u8 [-1, 3, 64, 64]")
    expect(lambda: module.run(np.zeros((1, 3, 64, 64), np.int32)),
           "input must be a uint8 or float32 array")
    expect(lambda: fovea.load(os.path.join(WORK, "empty.safetensors"), weights=empty),
           "cannot load module")
    expect(lambda: fovea.video_prompt([0, 1, 2], 2, 2, [1]), "expected ceil(frames / T) = 2")
    expect(lambda: fovea.internvl_tiling(100, 100, max_tiles=13), "max_tiles in [1, 12]")
    expect(lambda: fovea.compile("tiny", "x.so", source_size=(64, 64), resize_domain="f16"),
           "--resize-domain expects u8 or f32_clamp, got 'f16'")
    expect(lambda: module.geometry(0), "must be positive")
    expect(lambda: module.set_stream(1), "only CUDA modules run on a stream")
    expect(lambda: setattr(module, "cpu_kernels", "fastest"),
           "unknown CPU kernel family 'fastest'")
    expect(lambda: fovea.load(so, weights=os.path.join(WORK, "err.safetensors"),
                              cpu_kernels="avx"),
           "unknown CPU kernel family 'avx'")
    expect_raises(lambda: fovea.load(so, weights="w", cpu_kernels=2), TypeError,
                  "cpu_kernels must be a kernel family name")
    expect(lambda: fovea.load(so, weights=os.path.join(WORK, "err.safetensors"), threads=-1),
           "threads must be >= 1, or 0 for every core, got -1")
    # A module of another ABI version is refused in one line, before anything
    # reads its metadata or calls it.
    with open(so, "rb") as f:
        binary = f.read()
    assert binary.count(b'"fovea_module":5') == 1
    old = os.path.join(WORK, "old_abi.so")
    with open(old, "wb") as f:
        f.write(binary.replace(b'"fovea_module":5', b'"fovea_module":2'))
    refused = "module ABI version 2, this runtime reads version 5: recompile the module"
    expect(lambda: fovea.metadata(old), refused)
    expect(lambda: fovea.load(old, weights=empty), refused)


def options_model():
    """The command line and the keyword arguments are one options model: the
    same bad option gives the same one-line error from both."""
    compiler = os.path.join(os.environ.get("FOVEA_TOOLS_DIR", "build/bin"), "fovea-compile")
    bad = [
        (["--dtype", "f64"], {"dtype": "f64"}),
        (["--max-frames", "8"], {"max_frames": 8}),
        (["--vectorize=false", "--target", "cuda"], {"vectorize": False, "target": "cuda"}),
        (["--block-size", "7", "--target", "cuda"], {"block_size": 7, "target": "cuda"}),
        (["--tile-sizes", "8,64"], {"tile_sizes": [8, 64]}),
        (["--image-size", "64"], {"image_size": "64"}),
        (["--compile-to", "object"], {"compile_to": "object"}),
        (["--vectorise"], {"vectorise": True}),
    ]
    for flags, keywords in bad:
        cli = subprocess.run([compiler, "--preset", "tiny", *flags], capture_output=True,
                             text=True)
        assert cli.returncode == 1, (flags, cli.returncode)
        lines = cli.stderr.strip().splitlines()
        assert len(lines) == 1, (flags, cli.stderr)
        cli_error = lines[0].removeprefix("fovea-compile: error: ")
        try:
            fovea.compile("tiny", emit="ir", **keywords)
        except fovea.FoveaError as error:
            assert str(error) == cli_error, (flags, str(error), cli_error)
        else:
            raise AssertionError(f"no FoveaError for {keywords}")
    # Pipeline options reach the pipeline: by default the matmuls call the
    # microkernels; without them they are vectorized, and without
    # vectorization the CPU code has no vector contractions.
    default = fovea.compile("tiny", compile_to="bufferized", dtype="f32")
    assert "call @fovea_matmul_f32" in default and "vector.contract" not in default
    vectorized = fovea.compile("tiny", compile_to="bufferized", dtype="f32", microkernels=False)
    scalar = fovea.compile("tiny", compile_to="bufferized", dtype="f32", microkernels=False,
                           vectorize=False)
    assert "vector.contract" in vectorized and "vector.contract" not in scalar
    assert "tile_sizes" in fovea.compile_options()
    # Sizes as tuples or lists; None leaves an option at its default.
    as_tuple = fovea.compile("tiny", compile_to="vision", source_size=(100, 300))
    assert fovea.compile("tiny", compile_to="vision", source_size=[100, 300]) == as_tuple
    assert fovea.compile("tiny", compile_to="vision", source_size=[(100, 300)]) == as_tuple
    assert (fovea.compile("tiny", compile_to="vision", image_size=None)
            == fovea.compile("tiny", compile_to="vision"))


cases = Cases()
cases.run("image module, f32", image_f32)
cases.run("video module, bf16, EVS", video_bf16_evs)
cases.run("IR and geometry", ir_and_geometry)
cases.run("packed images of different sizes", packed_images)
cases.run("errors", errors)
cases.run("options model", options_model)
cases.finish()
