# RUN: %python %s
"""The GPU runtime's protocol with the device, checked without a GPU: CUDA
modules run under a fake libcuda.so.1 (test/FakeCuda) that executes no
kernel but records every driver call and checks every kernel argument and
copy. A run must be: the input through pinned memory into device memory,
the compiled kernels on one stream (captured once per input shape into a
CUDA graph that later runs launch), the outputs back through pinned memory,
one synchronization; all device memory from the stream-ordered pool and
freed after use (no managed memory, no host pointer in a kernel, no freed
block read); out-of-memory and a failed launch one line each."""

import json
import math
import os
import re
import subprocess

from fovea_testing.checks import Cases
from fovea_testing.files import write_npy, write_safetensors
from fovea_testing.tools import (BIN, WORK, build, fusion_flags, metadata, sh,
                                 video_frames, weights_for)

FAKE = os.environ["FOVEA_FAKE_CUDA_DIR"]


def launches(name, *flags):
    """Kernel launches of @init and @run in the module's `gpu` phase."""
    ir = os.path.join(WORK, name + ".gpu.mlir")
    # The same fusions as the module (`build`), for lit-unfused too.
    sh(f"{BIN}/fovea-compile", *flags, *fusion_flags(), "--target", "cuda", "--compile-to",
       "gpu", "-o", ir)
    counts = {}
    for line in sh("/usr/bin/python3", os.path.join(os.path.dirname(__file__), "..", "..",
                                                     "Inputs", "count_launches.py"),
                   ir).stdout.splitlines():
        function, rest = line.split(":", 1)
        counts[function] = int(rest.split()[0])
    return counts.get("@init", 0), counts["@run"]


def fake_run(args, trace, **env):
    full = dict(os.environ, LD_LIBRARY_PATH=FAKE, FAKE_CUDA_TRACE=trace,
                **{k: str(v) for k, v in env.items()})
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                            env=full)
    return result, open(trace).read().splitlines()


def fake_python(script, trace):
    """`script` in an interpreter that imports the built `fovea` package,
    under the fake driver."""
    python_path = os.pathsep.join([os.path.join(BIN, "..", "python"),
                                   os.environ.get("PYTHONPATH", "")])
    return fake_run(["/usr/bin/python3", "-c", script], trace, PYTHONPATH=python_path)


def expect_one_line(result, *messages):
    """A failed run with one stderr line holding every one of `messages`."""
    errors = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(errors) == 1, errors
    assert all(m in errors[0] for m in messages), errors[0]


def prepare(name, inputs, *flags):
    # PTX: the fake driver reads the kernels' parameters from it.
    module = build(name, *flags, "--target", "cuda", "--gpu-binary", "ptx")
    ckpt = os.path.join(WORK, name + ".safetensors")
    write_safetensors(ckpt, weights_for(module, "bf16"))
    npy = os.path.join(WORK, name + "_x.npy")
    write_npy(npy, inputs)
    return module, ckpt, npy


def check_protocol(name, inputs, outputs, *flags):
    module, ckpt, npy = prepare(name, inputs, *flags)
    init, run = launches(name, *flags)
    weights = len(metadata(module)["weights"])
    for runs, graphs in ((1, "on"), (3, "on"), (3, "off")):
        trace = os.path.join(WORK, f"{name}_{runs}_{graphs}.trace")
        args = [f"{BIN}/fovea-run", module, "--device", "cuda", "--weights", ckpt,
                "--input", npy, "--cuda-graphs", graphs]
        if runs > 1:
            args += ["--benchmark", runs]
        result, lines = fake_run(args, trace)
        assert result.returncode == 0, result.stderr
        violations = [l for l in lines if l.startswith("violation")]
        assert not violations, violations[:5]
        count = lambda word: sum(1 for l in lines if l.split()[0] == word)
        # One stream; one wait at load, one per run, one when destroyed.
        assert count("stream-create") == 1, count("stream-create")
        assert count("sync") == 2 + runs, (count("sync"), runs)
        assert count("launch") == init + runs * run, (count("launch"), init, run, runs)
        # The weights go up once; a run copies its input up, its outputs down.
        assert count("htod") == weights + runs, count("htod")
        assert count("dtoh") == runs * outputs, count("dtoh")
        # With graphs, the first run is captured and every run launches the
        # graph (its kernels are the replayed launches counted above).
        assert count("capture-begin") == (1 if graphs == "on" else 0), count("capture-begin")
        assert count("graph-launch") == (runs if graphs == "on" else 0), count("graph-launch")
        # Run memory is stream-ordered (or the graph's); all of it is back
        # at exit.
        assert any(l.startswith("alloc graph" if graphs == "on" else "alloc async")
                   for l in lines)
        assert lines[-1] == "exit live=0", lines[-1]


def run_out_of_memory():
    module, ckpt, npy = prepare("oom", video_frames(1), "--preset", "tiny")
    weight_bytes = sum(2 * math.prod(w["shape"]) for w in metadata(module)["weights"])
    out = os.path.join(WORK, "oom.npy")
    # The weights fit (each rounded to 256 bytes), the rest does not.
    cap = weight_bytes + 256 * len(metadata(module)["weights"]) + 4096
    result, lines = fake_run([f"{BIN}/fovea-run", module, "--device", "cuda",
                              "--weights", ckpt, "--input", npy],
                             os.path.join(WORK, "oom.trace"), FAKE_CUDA_DEVICE_BYTES=cap)
    expect_one_line(result, "cuMemAllocAsync", "out of memory")
    assert not os.path.exists(out)
    assert not [l for l in lines if l.startswith("violation")]


def run_failed_launch():
    module, ckpt, npy = prepare("fail", video_frames(1), "--preset", "tiny")
    init, run = launches("fail", "--preset", "tiny")
    out = os.path.join(WORK, "fail.npy")
    result, lines = fake_run([f"{BIN}/fovea-run", module, "--device", "cuda",
                              "--weights", ckpt, "--input", npy, "--cuda-graphs", "off"],
                             os.path.join(WORK, "fail.trace"),
                             FAKE_CUDA_FAIL_LAUNCH=init + 2)
    expect_one_line(result, "cuLaunchKernel: unspecified launch failure (719)")
    # Nothing is launched after the failure, and the run's memory is freed.
    assert sum(1 for l in lines if l.startswith("launch")) == init + 2
    assert lines[-1] == "exit live=0", lines[-1]
    assert not os.path.exists(out)
    # A kernel failing inside a graph fails the run, not retried without it.
    result, lines = fake_run([f"{BIN}/fovea-run", module, "--device", "cuda",
                              "--weights", ckpt, "--input", npy, "--output", out],
                             os.path.join(WORK, "fail_graph.trace"),
                             FAKE_CUDA_FAIL_LAUNCH=init + 2)
    expect_one_line(result, "run: cuGraphLaunch: unspecified launch failure (719)")
    assert sum(1 for l in lines if l.startswith("launch")) == init + 2
    assert not os.path.exists(out)
    # A kernel of @init failing fails the load, in one line.
    assert init > 0
    result, lines = fake_run([f"{BIN}/fovea-run", module, "--device", "cuda",
                              "--weights", ckpt, "--input", npy, "--output", out],
                             os.path.join(WORK, "fail_init.trace"), FAKE_CUDA_FAIL_LAUNCH=1)
    expect_one_line(result, "@init: cuLaunchKernel: unspecified launch failure")
    assert lines[-1] == "exit live=0", lines[-1]


def run_caller_stream():
    """A stream given through Python's set_stream carries the run."""
    module, ckpt, npy = prepare("stream", video_frames(1), "--preset", "tiny")
    trace = os.path.join(WORK, "stream.trace")
    script = (
        "import sys, numpy as np, fovea\n"
        f"m = fovea.load({module!r}, weights={ckpt!r}, device='cuda')\n"
        "m.set_stream(0x5000)\n"
        f"(y,) = m.run(np.load({npy!r}))\n"
        "assert y.shape == (1, 4, 96), y.shape\n")
    result, lines = fake_python(script, trace)
    assert result.returncode == 0, result.stderr
    runs = [l for l in lines if l.startswith("graph-launch")]
    assert runs == ["graph-launch stream=0x5000"], runs
    assert lines[-2] == "sync 0x5000", lines[-3:]


def run_graph_cache():
    """One graph per input shape, the least recently used dropped first:
    with room for one, shapes A A B A capture A, B, A again."""
    module, ckpt, npy = prepare("graphs", video_frames(1), "--preset", "tiny")
    trace = os.path.join(WORK, "graphs.trace")
    script = (
        "import numpy as np, fovea\n"
        f"m = fovea.load({module!r}, weights={ckpt!r}, device='cuda')\n"
        "m.set_cuda_graphs(1)\n"
        "a, b = np.zeros((1, 3, 64, 64), np.uint8), np.zeros((2, 3, 64, 64), np.uint8)\n"
        "for x in (a, a, b, a):\n"
        "    (y,) = m.run(x)\n"
        "    assert y.shape == (x.shape[0], 4, 96), y.shape\n"
        "try:\n"
        "    m.set_cuda_graphs(-1)\n"
        "except fovea.FoveaError as e:\n"
        "    assert 'must be >= 0' in str(e), e\n"
        "else:\n"
        "    raise AssertionError('no error')\n")
    result, lines = fake_python(script, trace)
    assert result.returncode == 0, result.stderr
    count = lambda word: sum(1 for l in lines if l.split()[0] == word)
    assert count("capture-begin") == 3, count("capture-begin")
    assert count("graph-launch") == 4, count("graph-launch")
    assert count("graph-destroy") == 3, count("graph-destroy")
    assert not [l for l in lines if l.startswith("violation")]
    assert lines[-1] == "exit live=0", lines[-1]


DEVICE_SCRIPT = """
import ctypes, numpy as np, fovea

class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int), ("device_id", ctypes.c_int)]

class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]

class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int),
                ("dtype", DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]

class DLManaged(ctypes.Structure):
    pass

DELETER = ctypes.CFUNCTYPE(None, ctypes.POINTER(DLManaged))
DLManaged._fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p),
                      ("deleter", DELETER)]
new_capsule = ctypes.pythonapi.PyCapsule_New
new_capsule.restype, new_capsule.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]

cuda = ctypes.CDLL("libcuda.so.1")  # the fake driver the runtime also loads
m = fovea.load(MODULE, weights=WEIGHTS, device="cuda")
pixels = np.load(PIXELS)
pointer = ctypes.c_ulonglong()
assert cuda.cuMemAlloc_v2(ctypes.byref(pointer), ctypes.c_size_t(pixels.nbytes)) == 0
ctypes.memmove(pointer.value, pixels.ctypes.data, pixels.nbytes)  # the fake's memory is the host's
shape = (ctypes.c_int64 * 4)(*pixels.shape)
freed = []
deleter = DELETER(lambda managed: freed.append(1))
managed = DLManaged(DLTensor(pointer.value, DLDevice(2, 0), 4, DLDataType(1, 8, 1), shape, None, 0),
                    None, deleter)

class CudaPixels:
    def __dlpack__(self, stream=None):
        return new_capsule(ctypes.addressof(managed), b"dltensor", None)
    def __dlpack_device__(self):
        return (2, 0)

(out,) = m.run(CudaPixels())
assert out.__dlpack_device__() == (2, 0), out.__dlpack_device__()
capsule = out.__dlpack__()
result = DLManaged.from_address(get_pointer(capsule, b"dltensor")).dl_tensor
assert result.device.device_type == 2 and result.data, (result.device.device_type, result.data)
assert [result.shape[i] for i in range(result.ndim)] == [1, 4, 96]
del capsule  # unconsumed: its deleter gives the result back
assert freed == [1], freed
try:
    m.run(CudaPixels(), output_dtype="f32")
except fovea.FoveaError as e:
    assert "convert CUDA results in the framework" in str(e), e
else:
    raise AssertionError("output_dtype f32 accepted for CUDA results")
assert cuda.cuMemFree_v2(pointer) == 0
"""


def run_device_tensors():
    """CUDA tensors in, CUDA tensors out (DLPack): nothing goes through the
    host, and the caller's result is released through its capsule."""
    module, ckpt, npy = prepare("device", video_frames(1), "--preset", "tiny")
    trace = os.path.join(WORK, "device.trace")
    script = f"MODULE, WEIGHTS, PIXELS = {module!r}, {ckpt!r}, {npy!r}\n" + DEVICE_SCRIPT
    result, lines = fake_python(script, trace)
    assert result.returncode == 0, result.stderr
    assert not [l for l in lines if l.startswith("violation")], lines
    weights = len(metadata(module)["weights"])
    count = lambda word: sum(1 for l in lines if l.split()[0] == word)
    # Only the weights go up; nothing comes down; no graph.
    assert count("htod") == weights, (count("htod"), weights)
    assert count("dtoh") == 0 and count("capture-begin") == 0
    assert lines[-1] == "exit live=0", lines[-1]


def run_profile():
    """FOVEA_CUDA_PROFILE: each eager launch timed with events, per kernel."""
    module, ckpt, npy = prepare("profile", video_frames(1), "--preset", "tiny")
    init, run = launches("profile", "--preset", "tiny")
    profile = os.path.join(WORK, "profile.json")
    result, lines = fake_run([f"{BIN}/fovea-run", module, "--device", "cuda", "--weights", ckpt,
                              "--input", npy, "--cuda-graphs", "off", "--benchmark", 2],
                             os.path.join(WORK, "profile.trace"), FOVEA_CUDA_PROFILE=profile)
    assert result.returncode == 0, result.stderr
    kernels = json.load(open(profile))["kernels"]
    assert sum(k["launches"] for k in kernels) == init + 2 * run, kernels[:3]
    assert all(re.fullmatch(r"#\d+ (run|init)_kernel", k["kernel"]) for k in kernels), kernels[:3]
    assert abs(sum(k["ms"] for k in kernels) - 0.01 * (init + 2 * run)) < 1e-3


cases = Cases()
cases.run("image: one stream, one wait, device memory only", check_protocol,
          "image", video_frames(1), 1, "--preset", "tiny")
cases.run("video with EVS on the device", check_protocol, "video", video_frames(4), 2,
          "--preset", "tiny-video", "--input-kind", "video", "--evs-rate", "0.5")
cases.run("out of device memory", run_out_of_memory)
cases.run("failed launch", run_failed_launch)
cases.run("the caller's stream", run_caller_stream)
cases.run("CUDA graphs per input shape", run_graph_cache)
cases.run("CUDA tensors in and out (DLPack)", run_device_tensors)
cases.run("per-kernel profile", run_profile)
cases.finish()
