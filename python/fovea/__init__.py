"""Fovea from Python: compile a vision encoder, load it with a checkpoint,
run it on numpy arrays or torch tensors (any DLPack producer), and compute
token geometry.

    import fovea
    path = fovea.compile("tiny", "tiny.so")               # or a config.json
    module = fovea.load(path, weights="checkpoint_dir")
    (embeddings,) = module.run(pixels)                     # uint8 [N, 3, H, W]
    (embeddings,) = module.run(pixels, output_dtype="f32") # bf16 widened
    (embeddings,) = module.run(torch_pixels)               # torch in, torch out

numpy in, numpy out: numpy has no bfloat16, so bf16 results come back as
uint16 arrays holding the bf16 bit patterns (or as float32 with
`output_dtype="f32"`); `bf16_to_float32` converts them (exactly) and
`float32_to_bf16` rounds float32 arrays to bf16 bit patterns (round to
nearest even). torch tensors (or other objects with `__dlpack__`) in:
results out through DLPack without a copy, bf16 as `torch.bfloat16`.
`fovea.torch.VisionEncoder` wraps a module as a `torch.nn.Module`. Every
error raises `FoveaError` with Fovea's diagnostic text.
"""

import json

import numpy as np

from . import _fovea
from ._fovea import FoveaError

__all__ = ["FoveaError", "Module", "Tensor", "compile", "compile_options", "load", "load_npy",
           "metadata", "bf16_to_float32",
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

    def __init__(self, path, weights, device="cpu", threads=0, cpu_kernels=None):
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise TypeError(f"threads must be an int, got {threads!r}")
        if cpu_kernels is not None and (not isinstance(cpu_kernels, str) or not cpu_kernels):
            raise TypeError(f"cpu_kernels must be a kernel family name, got {cpu_kernels!r}")
        self._module = _fovea.Module(str(path), str(weights), device, threads,
                                     cpu_kernels or "")
        self.metadata = json.loads(self._module.metadata())

    @property
    def cpu_kernels(self):
        """CPU modules: the kernel family its matmuls and attention run
        ("amx-bf16", "avx512-bf16", "avx512", "avx2", "portable"); "" for
        CUDA modules. Assign a name, or "auto" for the best this CPU has;
        like the thread count it holds for every module of the same file."""
        return self._module.cpu_kernels()

    @cpu_kernels.setter
    def cpu_kernels(self, family):
        if not isinstance(family, str):
            raise TypeError(f"cpu_kernels must be a kernel family name, got {family!r}")
        self._module.set_cpu_kernels(family)

    def run(self, pixels, output_dtype="native"):
        """Runs the entry point on uint8 pixels `[N or F, 3, H, W]` (a module
        of packed images: a list with one `[1, 3, H_i, W_i]` array per
        image); returns the outputs as a list.

        numpy arrays in: numpy arrays out (bf16 as uint16 bit patterns, see
        the module docstring). torch tensors in: torch tensors out; other
        objects with `__dlpack__`: `fovea.Tensor` objects out (hand them to
        any framework's `from_dlpack`). The DLPack path copies nothing:
        contiguous host inputs go to the module as they are and the results
        are the module's buffers (bf16 as `torch.bfloat16`).
        `output_dtype="f32"` widens bf16/f16 host results to float32 (a
        copy). A CUDA module also takes CUDA tensors (device 0): the run then
        stays on the device (no copy through the host) and returns CUDA
        tensors; torch's current stream is synchronized first, other
        producers' inputs must be complete."""
        items = list(pixels) if isinstance(pixels, (list, tuple)) else [pixels]
        if all(isinstance(p, np.ndarray) for p in items) or not any(
                hasattr(p, "__dlpack__") for p in items):
            return list(self._module.run([np.asarray(p) for p in items], output_dtype))
        torch_in = any(_is_torch(p) for p in items)
        cuda_module = self.metadata.get("target") == "cuda"
        capsules = [_capsule(p, i, cuda_module) for i, p in enumerate(items)]
        on_cuda = hasattr(items[0], "__dlpack_device__") and \
            int(items[0].__dlpack_device__()[0]) == 2
        results = self._module.run_dlpack(capsules, output_dtype)
        if torch_in:
            import torch.utils.dlpack
            return [torch.utils.dlpack.from_dlpack(c) for c in results]
        return [Tensor(c, (2, 0) if on_cuda else (1, 0)) for c in results]

    def set_stream(self, stream):
        """CUDA modules: run on `stream` (a `torch.cuda.Stream`, or a
        CUstream as an int; None or 0 for the runtime's own). A run enqueues
        its copies and kernels on it and waits for it once, at its end."""
        handle = getattr(stream, "cuda_stream", stream) or 0
        if isinstance(handle, bool) or not isinstance(handle, int):
            raise TypeError(f"stream must be a torch.cuda.Stream or an int, got {stream!r}")
        self._module.set_stream(handle)

    def set_cuda_graphs(self, max_graphs):
        """CUDA modules: capture the first run of each input shape as a CUDA
        graph and replay it for later runs of that shape, keeping up to
        `max_graphs` (default 8; 0 or False: no graphs; True: 8)."""
        if max_graphs is True:
            max_graphs = 8
        elif max_graphs is False:
            max_graphs = 0
        if not isinstance(max_graphs, int):
            raise TypeError(f"max_graphs must be an int or a bool, got {max_graphs!r}")
        self._module.set_cuda_graphs(max_graphs)

    def geometry(self, count, frame_indices=None, source_fps=0.0, tubelet_counts=None):
        """The token geometry the module predicts for `count` images, or for
        a video of `count` frames sampled at `frame_indices` of a source at
        `source_fps`; with the `tubelet_counts` an EVS run returned, the
        final prompt. A dict (see docs/Preprocessing.md)."""
        counts = None if tubelet_counts is None else [int(c) for c in tubelet_counts]
        return json.loads(self._module.geometry(int(count), list(frame_indices or []),
                                                float(source_fps), counts))


def _is_torch(value):
    return type(value).__module__.split(".")[0] == "torch"


def _capsule(value, index, cuda_module):
    """The DLPack capsule of one input (torch tensors made contiguous
    first, which is free when they already are)."""
    if _is_torch(value):
        value = value.detach()
        if not value.is_contiguous():
            value = value.contiguous()
    device = value.__dlpack_device__() if hasattr(value, "__dlpack_device__") else (1, 0)
    if int(device[0]) == 2 and not cuda_module:
        raise FoveaError(f"input {index}: the tensor is on DLPack device {tuple(device)}; "
                         "this module is compiled for the CPU and takes host tensors")
    if int(device[0]) == 2 and _is_torch(value):
        # The module's stream does not wait for torch's: the input must be
        # complete before the run starts.
        import torch
        torch.cuda.current_stream(value.device).synchronize()
    elif int(device[0]) not in (1, 2):
        raise FoveaError(f"input {index}: the tensor is on DLPack device {tuple(device)}; "
                         "modules take host (CPU) tensors, CUDA modules also CUDA tensors")
    return value.__dlpack__()


class Tensor:
    """A result lent out through DLPack: `numpy.from_dlpack(t)`,
    `torch.from_dlpack(t)`, ... take it without a copy (once)."""

    def __init__(self, capsule, device=(1, 0)):
        self._capsule = capsule
        self._device = device

    def __dlpack__(self, stream=None, **kwargs):
        if self._capsule is None:
            raise FoveaError("this fovea.Tensor was already handed out through DLPack")
        capsule, self._capsule = self._capsule, None
        return capsule

    def __dlpack_device__(self):
        return self._device


def load_npy(path, dtype="native"):
    """Reads a .npy file, including the 'bfloat16' ones fovea-run writes for
    bf16 results (plain numpy cannot): bf16 data as uint16 bit patterns, or
    as float32 with `dtype="f32"`."""
    with open(path, "rb") as f:
        head = f.read(10)
        if head[:6] != b"\x93NUMPY":
            raise FoveaError(f"{path}: not a .npy file")
        length = int.from_bytes(head[8:10], "little") if head[6] == 1 else \
            int.from_bytes(head[8:10] + f.read(2), "little")
        header = f.read(length).decode("latin1")
        if "'bfloat16'" not in header:
            return np.load(path)
        import ast
        fields = ast.literal_eval(header.strip())
        if fields.get("fortran_order"):
            raise FoveaError(f"{path}: Fortran-order bfloat16 arrays are not supported")
        bits = np.fromfile(f, dtype="<u2").reshape(fields["shape"])
    return bf16_to_float32(bits) if dtype == "f32" else bits


def load(path, weights, device="cpu", threads=0, cpu_kernels=None):
    """Loads the runtime module at `path` with the safetensors checkpoint
    `weights` (a file, a shard index or a directory). `threads`: the CPU
    threads its runs use (0: FOVEA_NUM_THREADS, else every core the process
    may run on; the results are the same bits for every count).
    `cpu_kernels`: the CPU kernel family (None: FOVEA_CPU_KERNELS, else the
    best this CPU has; see `Module.cpu_kernels`)."""
    return Module(path, weights, device, threads, cpu_kernels)


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
