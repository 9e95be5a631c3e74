"""Fovea from Python: compile a vision encoder, load it with a checkpoint,
run it on numpy arrays, and compute token geometry.

    import fovea
    path = fovea.compile("tiny", "tiny.so")               # or a config.json
    module = fovea.load(path, weights="checkpoint_dir")
    (embeddings,) = module.run(pixels)                     # uint8 [N, 3, H, W]
    fovea.bf16_to_float32(embeddings)                      # bf16 results

bf16 convention: numpy has no bfloat16, so bf16 results are returned as
uint16 arrays holding the bf16 bit patterns; `bf16_to_float32` converts them
(exactly) and `float32_to_bf16` rounds float32 arrays to bf16 bit patterns
(round to nearest even). Every error raises `FoveaError` with Fovea's
diagnostic text.
"""

import json

import numpy as np

from . import _fovea
from ._fovea import FoveaError

__all__ = ["FoveaError", "Module", "compile", "compile_options", "load", "metadata", "bf16_to_float32",
           "sample_frame_indices", "dynamic_resolution_budgets",
           "float32_to_bf16", "evs_retained_tokens", "tokens_per_unit",
           "video_frame_size", "internvl_tiling", "dynamic_resolution_grid",
           "image_prompt", "video_prompt"]


_SIZE_OPTIONS = ("image_size", "source_size")


def _size_value(value):
    """A size `(H, W)` as `HxW`, a list of sizes as `HxW,HxW,...`; anything
    else as text, for the options model to judge."""
    if isinstance(value, (tuple, list)):
        if len(value) == 2 and all(isinstance(v, int) for v in value):
            return f"{value[0]}x{value[1]}"
        return ",".join(_size_value(v) for v in value)
    return str(value)


def _flag_value(name, value):
    """A keyword argument's value as fovea-compile's command line spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if name in _SIZE_OPTIONS:
        return _size_value(value)
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    return str(value)


def compile(config_or_preset, output=None, **options):
    """Compiles a model: a preset name (`tiny`, `omni`, ...) or the path of a
    Hugging Face config.json (or its directory).

    Every option of `fovea-compile` is a keyword argument, named as the flag
    with `_` for `-` (`max_frames=64` is `--max-frames 64`), checked by the
    same options model with the same errors; `compile_options()` lists them.
    Values: booleans, numbers, strings, a tuple `(H, W)` for a size, a list
    of sizes `[(H0, W0), (H1, W1)]` for packed images, a list of integers
    for `tile_sizes`.

    With `emit="module"` (the default) or `"exe"` writes `output` and
    returns its path; with `emit="ir"` (or when only `compile_to` is given)
    returns the IR of `compile_to` (`fovea-compile --list-phases`)."""
    if "emit" not in options:
        options["emit"] = "ir" if "compile_to" in options else "module"
    if options["emit"] in ("module", "exe") and not output:
        raise FoveaError(f"compile(emit={options['emit']!r}) needs an output path")
    # None leaves an option at its default.
    flags = [(name.replace("_", "-"), _flag_value(name, value))
             for name, value in options.items() if value is not None]
    return _fovea.compile(str(config_or_preset), str(output or ""), flags)


def compile_options():
    """Every option `compile` takes: a dict keyword -> (default, help)."""
    return {flag.replace("-", "_"): (default, help)
            for flag, default, help in _fovea.compile_options()}


class Module:
    """A loaded runtime module: `run(pixels)` returns its outputs."""

    def __init__(self, path, weights, device="cpu", threads=0):
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise TypeError(f"threads must be an int, got {threads!r}")
        self._module = _fovea.Module(str(path), str(weights), device, threads)
        self.metadata = json.loads(self._module.metadata())

    def run(self, pixels):
        """Runs the entry point on uint8 pixels `[N or F, 3, H, W]` (a module
        of packed images: a list with one `[1, 3, H_i, W_i]` array per
        image); returns the outputs as a list of numpy arrays (bf16 as
        uint16 bit patterns, see the module docstring)."""
        if isinstance(pixels, (list, tuple)):
            return list(self._module.run([np.asarray(p) for p in pixels]))
        return list(self._module.run([np.asarray(pixels)]))

    def geometry(self, count, frame_indices=None, source_fps=0.0, tubelet_counts=None):
        """The token geometry the module predicts for `count` images, or for
        a video of `count` frames sampled at `frame_indices` of a source at
        `source_fps`; with the `tubelet_counts` an EVS run returned, the
        final prompt. A dict (see docs/Preprocessing.md)."""
        counts = None if tubelet_counts is None else [int(c) for c in tubelet_counts]
        return json.loads(self._module.geometry(int(count), list(frame_indices or []),
                                                float(source_fps), counts))


def load(path, weights, device="cpu", threads=0):
    """Loads the runtime module at `path` with the safetensors checkpoint
    `weights` (a file, a shard index or a directory). `threads`: the CPU
    threads its runs use (0: FOVEA_NUM_THREADS, else every core the process
    may run on; the results are the same bits for every count)."""
    return Module(path, weights, device, threads)


def metadata(path):
    """The metadata of the module at `path` (weights, inputs, outputs,
    geometry) without loading it: what a checkpoint must provide."""
    return json.loads(_fovea.read_metadata(str(path)))


def bf16_to_float32(bits):
    """bf16 bit patterns (uint16) -> float32, exactly."""
    bits = np.asarray(bits, dtype=np.uint16)
    return (bits.astype(np.uint32) << 16).view(np.float32)


def float32_to_bf16(values):
    """float32 -> bf16 bit patterns (uint16), round to nearest even."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32)
    rounding = 0x7FFF + ((bits >> 16) & 1)
    return ((bits + rounding) >> 16).astype(np.uint16)


def evs_retained_tokens(tokens_per_tubelet, num_tubelets, rate):
    """Tokens EVS keeps (spec §9.1): max(L, trunc(L * nt * (1 - rate)))."""
    return _fovea.evs_retained_tokens(tokens_per_tubelet, num_tubelets, rate)


def tokens_per_unit(height, width, patch_size=16):
    """Tokens per tile, frame or tubelet of height x width after the 2x2
    pixel shuffle."""
    return _fovea.tokens_per_unit(height, width, patch_size)


def video_frame_size(width, height, target_patches=1024, maintain_aspect_ratio=True,
                     patch_size=16):
    """Frame size (width, height) in pixels of video input (spec §1.4)."""
    return _fovea.video_frame_size(width, height, target_patches,
                                   maintain_aspect_ratio, patch_size)


def internvl_tiling(width, height, max_tiles=12, use_thumbnail=True):
    """InternVL tiling of an image (spec §10.2): (columns, rows, tiles with
    the thumbnail)."""
    return _fovea.internvl_tiling(width, height, max_tiles, use_thumbnail)


def dynamic_resolution_grid(width, height, budget, min_patches=1024):
    """Dynamic-resolution patch grid (rows, columns) of an image for a patch
    budget (spec §10.1); tokens = rows * columns // 4."""
    return _fovea.dynamic_resolution_grid(width, height, budget, min_patches)


def sample_frame_indices(total_frames, source_fps, fps=2.0, max_frames=128):
    """The frames a video loader samples (vLLM's recipe; see
    docs/Preprocessing.md)."""
    return _fovea.sample_frame_indices(int(total_frames), float(source_fps), float(fps),
                                       int(max_frames))


def dynamic_resolution_budgets(sizes, max_model_len, text_prompt_len, min_patches=1024,
                               max_patches=13312):
    """Per-image patch budgets of a request of images [(width, height), ...]
    (spec §10.1)."""
    return _fovea.dynamic_resolution_budgets([(int(w), int(h)) for w, h in sizes],
                                             int(max_model_len), int(text_prompt_len),
                                             int(min_patches), int(max_patches))


def image_prompt(tokens):
    """`<img>` + `<image>` x tokens + `</img>` (spec §11)."""
    return _fovea.image_prompt(tokens)


def video_prompt(frame_indices, fps, temporal_patch_size, tokens_per_tubelet):
    """The prompt of a video (spec §11): frame separators with timestamps and
    one `<img>` block per tubelet with its (EVS-kept) token count."""
    return _fovea.video_prompt(list(frame_indices), float(fps),
                               temporal_patch_size, list(tokens_per_tubelet))
