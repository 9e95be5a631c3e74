# RUN: %python %s
"""The tools' command line beyond compiling and running: --version on every
tool, fovea-compile's progress line (on a terminal only, off with --quiet),
and fovea-run --output-dtype."""

import os
import pty
import subprocess

import numpy as np
import torch

from fovea_testing.checks import Cases
from fovea_testing.files import read_npy, write_npy, write_safetensors
from fovea_testing.tools import (BIN, WORK, build, expect_error, sh,
                                 video_frames, weights_for)


def run_versions():
    for tool in ("fovea-compile", "fovea-run", "fovea-opt"):
        out = sh(f"{BIN}/{tool}", "--version").stdout
        assert out.startswith(f"{tool} (Fovea "), out
    module = build("version_exe", "--preset", "tiny", "--dtype", "f32", emit="exe")
    out = sh(module, "--version").stdout
    assert "(Fovea " in out and "module ABI" in out, out


def stderr_on_terminal(args):
    """Runs `args` with stderr on a pseudo-terminal; returns (exit code,
    what the terminal showed)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return process.wait(), shown.decode(errors="replace")


def run_progress():
    out = os.path.join(WORK, "progress.so")
    compile_args = [f"{BIN}/fovea-compile", "--preset", "tiny", "--emit", "module", "-o", out]
    rc, shown = stderr_on_terminal(compile_args)
    assert rc == 0, shown
    for stage in ("import", "linalg: convert-vision-to-linalg", "llvm: ", "clang++ -O3 and link"):
        assert stage in shown, f"no '{stage}' in the progress line: {shown!r}"
    assert " s  " in shown, shown
    # The line is erased at the end: the last thing shown is the erase.
    assert shown.endswith("\r\x1b[K"), repr(shown[-40:])
    rc, shown = stderr_on_terminal(compile_args + ["--quiet"])
    assert rc == 0 and shown == "", repr(shown)
    # Not a terminal: nothing.
    result = sh(*compile_args)
    assert result.stderr == "", result.stderr
    # An error still comes out as one line after the erased progress line.
    rc, shown = stderr_on_terminal([f"{BIN}/fovea-compile", "--preset", "tiny", "--emit", "module",
                                    "-o", os.path.join(WORK, "missing-dir", "x.so")])
    assert rc != 0 and "is not a directory" in shown.split("\x1b[K")[-1], repr(shown)


def run_output_dtype():
    module = build("outdtype", "--preset", "tiny", "--dtype", "bf16")
    weights = weights_for(module, "bf16")
    ckpt = os.path.join(WORK, "outdtype.safetensors")
    write_safetensors(ckpt, weights)
    write_npy(f"{WORK}/od_x.npy", video_frames(2))
    run = [f"{BIN}/fovea-run", module, "--weights", ckpt, "--input", f"{WORK}/od_x.npy"]
    sh(*run, "--output", f"{WORK}/native.npy")
    sh(*run, "--output", f"{WORK}/wide.npy", "--output-dtype", "f32")
    native = read_npy(f"{WORK}/native.npy")
    assert native.dtype == torch.bfloat16
    wide = np.load(f"{WORK}/wide.npy")  # plain numpy reads it
    assert wide.dtype == np.float32 and wide.shape == (2, 4, 96)
    assert torch.equal(torch.from_numpy(wide), native.float())
    try:
        np.load(f"{WORK}/native.npy")
        raise AssertionError("plain numpy read a 'bfloat16' .npy")
    except (TypeError, ValueError):
        pass
    expect_error(run + ["--output-dtype", "f16"], "--output-dtype expects native or f32, got 'f16'")
    # A write that fails half-way (here: a file-size limit below the
    # output's size) leaves no file under the output's name.
    import resource
    import signal

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
    target = f"{WORK}/limited.npy"
    result = subprocess.run(run + ["--output", target], capture_output=True, text=True,
                            preexec_fn=small_files)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert "limited.npy: write failed" in lines[0], lines[0]
    assert not os.path.exists(target) and not os.path.exists(target + ".partial")


cases = Cases()
cases.run("--version", run_versions)
cases.run("progress line", run_progress)
cases.run("--output-dtype", run_output_dtype)
cases.finish()
