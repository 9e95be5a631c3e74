"""Running the command-line tools from tests: fovea-compile artifacts,
fovea-run, random checkpoints for a module, and one-line error checks."""

import json
import os
import subprocess
import tempfile

import torch

import pipeline_reference as pipe
from .checks import rounded
from .compiled import _SRC_ROOT, fusion_flags

BIN = os.environ.get("FOVEA_TOOLS_DIR", os.path.join(_SRC_ROOT, "build", "bin"))
WORK = tempfile.mkdtemp(prefix="fovea-tools-")
TORCH = {"f32": torch.float32, "bf16": torch.bfloat16}


def sh(*args, expect_ok=True):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                            errors="replace")
    if expect_ok and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed:\n{result.stderr}")
    return result


def build(name, *flags, emit="module"):
    """fovea-compile `flags` --emit `emit` into the work directory."""
    out = os.path.join(WORK, name + (".so" if emit == "module" else ""))
    sh(f"{BIN}/fovea-compile", *flags, *fusion_flags(), "--emit", emit, "-o", out)
    return out


def metadata(module):
    command = [module] if not module.endswith(".so") else [f"{BIN}/fovea-run", module]
    return json.loads(sh(*command, "--print-metadata").stdout)


def weights_for(module, dtype, seed=0):
    """Random weights for the weights a module (or executable) declares."""
    meta = metadata(module)
    names = [w["name"] for w in meta["weights"]]
    shapes = [w["shape"] for w in meta["weights"]]
    weights = pipe.random_weights(names, shapes, seed=seed)
    return {k: rounded(v, dtype).to(TORCH[dtype]) for k, v in weights.items()}


def expect_error(args, message):
    """`args` exits non-zero with one stderr line containing `message`."""
    result = sh(*args, expect_ok=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0, f"{args}: exit 0"
    assert len(lines) == 1, f"{args}: expected one line, got {lines}"
    assert message in lines[0], f"{args}: '{message}' not in '{lines[0]}'"


def video_frames(count, seed=0, height=64, width=64):
    """Random uint8 frames [count, 3, H, W] in which neighbouring frames share
    about 70% of their pixels, as in a video."""
    g = torch.Generator().manual_seed(seed)
    p = torch.randint(0, 256, (count, 3, height, width), generator=g, dtype=torch.uint8)
    for f in range(1, count):
        keep = torch.rand(1, 1, height, width, generator=g) < 0.7
        p[f] = torch.where(keep, p[f - 1], p[f])
    return p
