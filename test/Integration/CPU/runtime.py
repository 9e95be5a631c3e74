# RUN: %python %s
"""Runtime modules and standalone executables end to end: fovea-compile
--emit module|exe, random weights written as safetensors with checkpoint
names (single file and shards), fovea-run against the PyTorch reference
(--expected-output), image and video with EVS, f32 and bf16, and one-line
errors for bad checkpoints, inputs and flags."""

import json
import os

import torch

import pipeline_reference as pipe
from fovea_testing.checks import Cases
from fovea_testing.compiled import _SRC_ROOT
from fovea_testing.files import (config_dir, read_npy, write_npy,
                                 write_safetensors, write_sharded_safetensors)
from fovea_testing.tools import (BIN, TORCH, WORK, build, expect_error, sh,
                                 video_frames, weights_for)

TINY = dict(patch_size=16, depth=2, heads=2, num_prefix=2)



def run_image(dtype, sharded):
    module = build(f"image_{dtype}", "--preset", "tiny", "--dtype", dtype)
    # @init derives the transposed matmul weights and the position
    # embeddings; the runtime releases the weights only @init reads, so @run
    # must not touch them (it would read a null buffer).
    meta = json.loads(sh(f"{BIN}/fovea-run", module, "--print-metadata").stdout)
    init_only = [w["name"] for w in meta["weights"] if w.get("init_only")]
    assert "vision_model.radio_model.model.blocks.0.attn.qkv.weight" in init_only, init_only
    assert len(meta["derived"]) > 0
    weights = weights_for(module, dtype)
    ckpt = os.path.join(WORK, f"ckpt_{dtype}_{sharded}")
    if sharded:
        write_sharded_safetensors(ckpt, weights, shards=3)
    else:
        os.makedirs(ckpt, exist_ok=True)
        write_safetensors(os.path.join(ckpt, "model.safetensors"), weights)
    x = video_frames(3)
    expected = pipe.vision_pipeline(x, weights, **TINY).to(TORCH[dtype])
    write_npy(f"{WORK}/x.npy", x)
    write_npy(f"{WORK}/ref_{dtype}.npy", expected)
    tol = ["--rtol", "1e-3", "--atol", "1e-4"] if dtype == "f32" else ["--rtol", "0.05", "--atol", "0.05"]
    out = sh(f"{BIN}/fovea-run", module, "--weights", ckpt, "--input", f"{WORK}/x.npy",
             "--output", f"{WORK}/y.npy", "--expected-output", f"{WORK}/ref_{dtype}.npy", *tol,
             "--benchmark", "3", "--warmup", "1")
    assert f"output 0: {dtype} [3, 4, 96]" in out.stdout, out.stdout
    assert "matches" in out.stdout and "median" in out.stdout, out.stdout
    y = read_npy(f"{WORK}/y.npy")
    assert tuple(y.shape) == (3, 4, 96), y.shape
    # Every thread count gives the same bits.
    for threads in ("1", "3"):
        sh(f"{BIN}/fovea-run", module, "--weights", ckpt, "--input", f"{WORK}/x.npy",
           "--output", f"{WORK}/y{threads}.npy", "--threads", threads)
        with open(f"{WORK}/y.npy", "rb") as a, open(f"{WORK}/y{threads}.npy", "rb") as b:
            assert a.read() == b.read(), f"--threads {threads} changed the result"
    # The loops on the module's threads compute what they compute on one.
    serial = build(f"image_{dtype}_serial", "--preset", "tiny", "--dtype", dtype,
                   "--parallel-loops=false")
    sh(f"{BIN}/fovea-run", serial, "--weights", ckpt, "--input", f"{WORK}/x.npy",
       "--output", f"{WORK}/y_serial.npy")
    with open(f"{WORK}/y.npy", "rb") as a, open(f"{WORK}/y_serial.npy", "rb") as b:
        assert a.read() == b.read(), "--parallel-loops=false changed the result"
    run_cpu_kernels(module, ckpt, dtype, tol)


FAMILIES = ("amx-bf16", "avx512-bf16", "avx512", "avx2", "portable")


def run_cpu_kernels(module, ckpt, dtype, tol):
    """--cpu-kernels: every family this CPU runs matches the reference and is
    the one the benchmark line names; the others are refused in one line."""
    run = [f"{BIN}/fovea-run", module, "--weights", ckpt, "--input", f"{WORK}/x.npy",
           "--expected-output", f"{WORK}/ref_{dtype}.npy", *tol, "--benchmark", "1"]
    best = sh(*run).stdout
    assert "; CPU kernels " in best, best
    ran = []
    for family in FAMILIES:
        out = sh(*run, "--cpu-kernels", family, expect_ok=False)
        if out.returncode != 0:
            lines = out.stderr.strip().splitlines()
            assert len(lines) == 1 and f"this CPU does not run the {family} kernels" in lines[0], \
                (family, lines)
            continue
        assert "matches" in out.stdout and f"; CPU kernels {family}\n" in out.stdout, \
            (family, out.stdout)
        ran.append(family)
    # The best is the default, and auto.
    assert f"; CPU kernels {ran[0]}\n" in best, (ran, best)
    assert f"; CPU kernels {ran[0]}\n" in sh(*run, "--cpu-kernels", "auto").stdout
    assert ran[-1] == "portable", ran
    # FOVEA_CPU_KERNELS is the default, and fovea-run's flag overrides it.
    env = ["/usr/bin/env", "FOVEA_CPU_KERNELS=portable"]
    assert "; CPU kernels portable\n" in sh(*env, *run).stdout
    assert f"; CPU kernels {ran[0]}\n" in sh(*env, *run, "--cpu-kernels", "auto").stdout


def run_video_evs():
    module = build("video_evs", "--preset", "tiny-video", "--input-kind", "video",
                   "--dtype", "f32", "--evs-rate", "0.5")
    weights = weights_for(module, "f32", seed=1)
    ckpt = f"{WORK}/video.safetensors"
    write_safetensors(ckpt, weights)
    x = video_frames(5, seed=2)
    kept, counts = pipe.vision_pipeline(x, weights, temporal=2, evs_rate=0.5, **TINY)
    write_npy(f"{WORK}/v.npy", x)
    write_npy(f"{WORK}/kept.npy", kept)
    write_npy(f"{WORK}/counts.npy", counts)
    out = sh(f"{BIN}/fovea-run", module, "--weights", ckpt, "--input", f"{WORK}/v.npy",
             "--output", f"{WORK}/k.npy", "--output", f"{WORK}/c.npy",
             "--expected-output", f"{WORK}/kept.npy", "--expected-output", f"{WORK}/counts.npy",
             "--rtol", "1e-3", "--atol", "1e-4")
    assert "output 1: i64 [3]" in out.stdout, out.stdout
    assert torch.equal(read_npy(f"{WORK}/c.npy"), counts)


def run_executable():
    exe = build("tiny_exe", "--preset", "tiny", "--dtype", "f32", emit="exe")
    weights = weights_for(exe, "f32")
    ckpt = f"{WORK}/exe.safetensors"
    write_safetensors(ckpt, weights)
    x = video_frames(2, seed=3)
    write_npy(f"{WORK}/ex.npy", x)
    write_npy(f"{WORK}/eref.npy", pipe.vision_pipeline(x, weights, **TINY))
    out = sh(exe, "--weights", ckpt, "--input", f"{WORK}/ex.npy",
             "--expected-output", f"{WORK}/eref.npy", "--rtol", "1e-3", "--atol", "1e-4")
    assert "matches" in out.stdout, out.stdout


def run_errors():
    module = build("err", "--preset", "tiny", "--dtype", "f32")
    weights = weights_for(module, "f32")
    good = f"{WORK}/good.safetensors"
    write_safetensors(good, weights)
    x = video_frames(1)
    write_npy(f"{WORK}/one.npy", x)
    run = [f"{BIN}/fovea-run", module]
    name = "vision_model.radio_model.model.blocks.1.mlp.fc1.weight"

    for bad in ("-1", "two", "5000", ""):
        expect_error(run + ["--weights", good, "--input", f"{WORK}/one.npy", "--threads", bad],
                     f"--threads expects a count from 0 (every core) to 4096, got '{bad}'")
    one = run + ["--weights", good, "--input", f"{WORK}/one.npy"]
    expect_error(one + ["--cpu-kernels", "avx9"],
                 "unknown CPU kernel family 'avx9' (expected auto, amx-bf16, avx512-bf16, "
                 "avx512, avx2, portable)")
    expect_error(one + ["--cpu-kernels", ""], "--cpu-kernels expects a kernel family name")
    # A misspelled family in the environment is refused, not replaced.
    expect_error(["/usr/bin/env", "FOVEA_CPU_KERNELS=AVX2"] + one,
                 "FOVEA_CPU_KERNELS: unknown CPU kernel family 'AVX2'")
    for bad in ("yes", "-2", "2000"):
        expect_error(run + ["--weights", good, "--input", f"{WORK}/one.npy",
                            "--cuda-graphs", bad],
                     f"--cuda-graphs expects on, off or a count up to 1024, got '{bad}'")
    # A CPU module has no CUDA graphs to keep: the flag is refused, not ignored.
    expect_error(run + ["--weights", good, "--input", f"{WORK}/one.npy", "--cuda-graphs", "on"],
                 "CUDA graphs are for CUDA modules")

    missing = dict(weights)
    del missing[name]
    write_safetensors(f"{WORK}/missing.safetensors", missing)
    expect_error(run + ["--weights", f"{WORK}/missing.safetensors", "--input", f"{WORK}/one.npy"],
                 f"missing tensor '{name}'")
    shaped = dict(weights)
    shaped[name] = torch.zeros(256, 32)
    write_safetensors(f"{WORK}/shape.safetensors", shaped)
    expect_error(run + ["--weights", f"{WORK}/shape.safetensors", "--input", f"{WORK}/one.npy"],
                 f"tensor '{name}' has shape [256, 32], the module expects [256, 64]")
    typed = dict(weights)
    typed[name] = torch.zeros(256, 64, dtype=torch.int64)
    write_safetensors(f"{WORK}/dtype.safetensors", typed)
    expect_error(run + ["--weights", f"{WORK}/dtype.safetensors", "--input", f"{WORK}/one.npy"],
                 f"tensor '{name}' has dtype i64, the module expects f32")
    # A damaged weight (a NaN, an infinity) is refused at load, not turned
    # into NaN embeddings.
    for bad, at in ((float("nan"), 77), (float("inf"), 0)):
        damaged = dict(weights)
        damaged[name] = weights[name].clone()
        damaged[name].view(-1)[at] = bad
        write_safetensors(f"{WORK}/nonfinite.safetensors", damaged)
        expect_error(run + ["--weights", f"{WORK}/nonfinite.safetensors", "--input",
                            f"{WORK}/one.npy"],
                     f"weight '{name}' has a non-finite value (NaN or infinity) at element {at}")
    data = open(good, "rb").read()
    open(f"{WORK}/truncated.safetensors", "wb").write(data[: len(data) // 2])
    expect_error(run + ["--weights", f"{WORK}/truncated.safetensors", "--input", f"{WORK}/one.npy"],
                 "runs past the end of the file")
    open(f"{WORK}/tiny.safetensors", "wb").write(b"\x01\x02")
    expect_error(run + ["--weights", f"{WORK}/tiny.safetensors", "--input", f"{WORK}/one.npy"],
                 "truncated (2 bytes, no safetensors header)")
    open(f"{WORK}/header.safetensors", "wb").write(b"\xff" * 8 + b"{}")
    expect_error(run + ["--weights", f"{WORK}/header.safetensors", "--input", f"{WORK}/one.npy"],
                 "exceeds the file")
    write_npy(f"{WORK}/wrong.npy", torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
    expect_error(run + ["--weights", good, "--input", f"{WORK}/wrong.npy"],
                 "input 'pixels': expected u8 [-1, 3, 64, 64] (-1 = any), got u8 [1, 3, 32, 32]")
    open(f"{WORK}/bad.npy", "wb").write(b"not an npy file")
    expect_error(run + ["--weights", good, "--input", f"{WORK}/bad.npy"],
                 "not a valid .npy file: missing the \\x93NUMPY magic")
    expect_error(run + ["--weights", good, "--input", f"{WORK}/one.npy", "--device", "cuda"],
                 "device 'cuda' is not supported by this module")
    expect_error(run + ["--weights", good, "--input", f"{WORK}/one.npy", "--rtol", "x"],
                 "--rtol expects a non-negative number, got 'x'")
    expect_error(run + ["--weights", good, "--input", f"{WORK}/one.npy", "--frobnicate"],
                 "unknown or incomplete option '--frobnicate'")
    expect_error([f"{BIN}/fovea-run", f"{WORK}/one.npy", "--weights", good],
                 "cannot load module")
    expect_error([f"{BIN}/fovea-compile", "--preset", "tiny", "--emit", "module"],
                 "--emit module needs an output file (-o)")
    expect_error([f"{BIN}/fovea-compile", "--preset", "tiny", "--emit", "module",
                  "--compile-to", "vision", "-o", f"{WORK}/x.so"],
                 "--emit and --compile-to exclude each other")
    # A checkpoint whose prefix-token count disagrees with the config.
    cls = dict(weights)
    cls["vision_model.radio_model.model.patch_generator.cls_token.token"] = torch.zeros(3, 64)
    write_safetensors(f"{WORK}/cls.safetensors", cls)
    expect_error(run + ["--weights", f"{WORK}/cls.safetensors", "--input", f"{WORK}/one.npy"],
                 "cls_token.token' has shape [3, 64], the module expects [2, 64]")


def run_checkpoint_rules():
    """The checkpoint decides what the config leaves open, and a
    disagreement with what it states is an error."""
    base = json.load(open(os.path.join(_SRC_ROOT, "test", "Driver", "Inputs",
                                       "tiny_omni_config.json")))
    gen = "vision_model.radio_model.model.patch_generator."

    def checkpoint_dir(name, config, tensors):
        return config_dir(os.path.join(WORK, name), config, tensors)

    # The config states 3 teachers + registers to 4 = 4 prefix tokens.
    agree = checkpoint_dir("agree", base, {gen + "cls_token.token": torch.zeros(4, 64)})
    ir = sh(f"{BIN}/fovea-compile", "--config", agree, "--compile-to", "vision").stdout
    assert "tensor<4x64xbf16> {vision.weight = \"" + gen + "cls_token.token" in ir
    disagree = checkpoint_dir("disagree", base, {gen + "cls_token.token": torch.zeros(5, 64)})
    expect_error([f"{BIN}/fovea-compile", "--config", disagree, "--compile-to", "vision"],
                 f"the config implies prefix tokens = 4 but the checkpoint's "
                 f"'{gen}cls_token.token' implies 5")
    # Without teacher/register keys the checkpoint decides.
    open_config = json.loads(json.dumps(base))
    for key in ("cls_token_per_teacher", "register_multiple", "teachers"):
        del open_config["vision_config"]["args"][key]
    decided = checkpoint_dir("decided", open_config, {gen + "cls_token.token": torch.zeros(6, 64)})
    ir = sh(f"{BIN}/fovea-compile", "--config", decided, "--compile-to", "vision").stdout
    assert "tensor<6x64xbf16> {vision.weight = \"" + gen + "cls_token.token" in ir
    # T stated as 2 by the config, 3 by the video embedder.
    bad_t = checkpoint_dir("bad_t", base, {gen + "video_embedder.weight": torch.zeros(64, 2304)})
    expect_error([f"{BIN}/fovea-compile", "--config", bad_t, "--compile-to", "vision"],
                 "the config implies video_temporal_patch_size = 2 but the checkpoint's "
                 f"'{gen}video_embedder.weight' implies 3")
    wide = checkpoint_dir("wide", base, {gen + "embedder.weight": torch.zeros(32, 768)})
    expect_error([f"{BIN}/fovea-compile", "--config", wide, "--compile-to", "vision"],
                 "the config implies the ViT width = 64")


def run_max_frames():
    module = build("video_max", "--preset", "tiny-video", "--input-kind", "video",
                   "--dtype", "f32", "--max-frames", "4")
    weights = weights_for(module, "f32")
    ckpt = f"{WORK}/max.safetensors"
    write_safetensors(ckpt, weights)
    write_npy(f"{WORK}/four.npy", video_frames(4))
    write_npy(f"{WORK}/five.npy", video_frames(5))
    out = sh(f"{BIN}/fovea-run", module, "--weights", ckpt, "--input", f"{WORK}/four.npy")
    assert "output 0: f32 [2, 4, 96]" in out.stdout, out.stdout
    expect_error([f"{BIN}/fovea-run", module, "--weights", ckpt, "--input", f"{WORK}/five.npy"],
                 "input 'frames': 5 frames, the module accepts at most 4 (--max-frames)")


def run_cuda_without_gpu():
    """A --target cuda module loads anywhere; without a driver (or with a
    CPU device requested) it fails in one line at create."""
    import ctypes
    try:
        ctypes.CDLL("libcuda.so.1")
        driver = True
    except OSError:
        driver = False
    module = build("cuda_module", "--preset", "tiny", "--dtype", "f32", "--target", "cuda")
    meta = json.loads(sh(f"{BIN}/fovea-run", module, "--print-metadata").stdout)
    assert meta["target"] == "cuda", meta["target"]
    ckpt = f"{WORK}/cuda.safetensors"
    write_safetensors(ckpt, weights_for(module, "f32"))
    write_npy(f"{WORK}/cuda_x.npy", video_frames(1))
    run = [f"{BIN}/fovea-run", module, "--weights", ckpt, "--input", f"{WORK}/cuda_x.npy"]
    expect_error(run + ["--device", "cpu"],
                 "device 'cpu' is not supported by this module (compiled for cuda")
    if not driver:
        expect_error(run, "cannot load the CUDA driver (libcuda.so.1)")
    cpu = build("cpu_module", "--preset", "tiny", "--dtype", "f32")
    expect_error([f"{BIN}/fovea-run", cpu, "--weights", ckpt, "--input",
                  f"{WORK}/cuda_x.npy", "--device", "cuda"],
                 "device 'cuda' is not supported by this module (compiled for cpu")


cases = Cases()
cases.run("image module f32, one file", run_image, "f32", False)
cases.run("image module bf16, sharded", run_image, "bf16", True)
cases.run("video module with EVS", run_video_evs)
cases.run("standalone executable", run_executable)
cases.run("errors", run_errors)
cases.run("checkpoint decides or disagrees", run_checkpoint_rules)
cases.run("--max-frames", run_max_frames)
cases.run("cuda module without a GPU", run_cuda_without_gpu)
cases.finish()
