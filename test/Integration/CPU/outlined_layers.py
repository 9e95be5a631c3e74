# RUN: %python %s
"""A 4-block model (the tiny Omni config, 4 layers) whose middle blocks
fovea-outline-layers compiles once: checks that they are outlined, that the
outlined module computes exactly what the inline one does (f32 and bf16
images, an f32 video), and that it matches the composed PyTorch reference."""

import json
import os
import subprocess

import numpy as np

import pipeline_reference as pipe
from fovea_testing import compile_model
from fovea_testing.checks import Cases, check_close, from_array, rounded, to_array
from fovea_testing.compiled import _SRC_ROOT, fusion_flags
from fovea_testing.files import config_dir
from fovea_testing.tools import BIN, WORK, video_frames

CONFIG = json.load(open(os.path.join(_SRC_ROOT, "test", "Driver", "Inputs",
                                     "tiny_omni_config.json")))
CONFIG["vision_config"]["num_hidden_layers"] = 4
MODEL = config_dir(os.path.join(WORK, "deep"), CONFIG, None)
REFERENCE = dict(patch_size=16, depth=4, heads=2, num_prefix=4)


def calls(args):
    ir = subprocess.run([f"{BIN}/fovea-compile", *args, *fusion_flags(),
                         "--compile-to", "bufferized"],
                        check=True, capture_output=True, text=True).stdout
    return ir.count("call @run_layer(")


def run(dtype, kind):
    args = ["--config", MODEL, "--dtype", dtype, "--input-kind", kind]
    # Blocks 1 and 2 at least (with the fusions off, the first one's code
    # equals theirs too).
    if calls(args) < 2 or calls(args + ["--outline-layers=false"]) != 0:
        raise AssertionError(f"{dtype} {kind}: the middle blocks are not outlined "
                             "(or outline-layers=false does not keep them inline)")
    outlined, names = compile_model(*args)
    inline, inline_names = compile_model(*args, "--outline-layers=false")
    assert names == inline_names
    shapes = outlined.argument_shapes("run")[1:]
    weights = {k: rounded(v, dtype) for k, v in
               pipe.random_weights(names, shapes, seed=3).items()}
    x = video_frames(2, seed=4) if kind == "video" else video_frames(1, seed=4)
    arrays = [to_array(weights[n], dtype) for n in names]
    y = outlined.call("run", x.numpy(), *arrays)[0]
    y_inline = inline.call("run", x.numpy(), *arrays)[0]
    if not np.array_equal(np.asarray(y).view(np.uint8), np.asarray(y_inline).view(np.uint8)):
        raise AssertionError(f"{dtype} {kind}: outlined and inline results differ")
    temporal = 2 if kind == "video" else 1
    expected = pipe.vision_pipeline(x, weights, temporal=temporal, **REFERENCE)
    check_close(from_array(y, dtype), expected, dtype, f"{dtype} {kind}",
                rtol=1e-3, atol=1e-4)


cases = Cases()
cases.run("f32 image", run, "f32", "image")
cases.run("bf16 image", run, "bf16", "image")
cases.run("f32 video", run, "f32", "video")
cases.finish()
