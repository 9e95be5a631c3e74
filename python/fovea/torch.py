"""Fovea modules as torch.nn.Modules.

    from fovea.torch import VisionEncoder
    encoder = VisionEncoder("nano.so", weights="/path/to/checkpoint")
    embeddings = encoder(pixel_values)      # [N, tokens, llm_hidden]

`forward` takes what an engine's vision path holds: the processor's
normalized pixel values `[N, 3, H, W]` (float32, bfloat16 or float16, as
`((u8 / 255) - mean) / std` in float32, then cast) or the uint8 pixels
themselves, and returns what vLLM's `extract_feature` returns for them: the
projector's embeddings `[N, tokens, llm_hidden]` in the module's dtype
(`torch.bfloat16` for bf16 modules). The module normalizes in its graph, so
normalized inputs are mapped back to the bytes they came from: per channel,
to a byte whose normalized value (in the input's dtype) is exactly the
input's. Where several bytes round to the same bf16 value any of them gives
a bf16 module the same input, so the result is the same bits; values that
are no byte's normalization are an error. Lower-precision pixel values than
the module computes with (bf16 ones for an f32 module) are refused: no byte
reproduces them.
"""

import torch

from . import FoveaError, Module, load


class VisionEncoder(torch.nn.Module):
    """A runtime module (a `fovea.Module`, or the path of one with its
    `weights`) as a `torch.nn.Module`: `forward(pixel_values)` returns the
    embeddings (a tuple of the results for modules with several, e.g. EVS's
    kept embeddings and counts). No parameters: the module holds the
    weights. CPU tensors; the results come back without a copy."""

    def __init__(self, module, weights=None, threads=0):
        super().__init__()
        if isinstance(module, Module):
            if weights is not None:
                raise FoveaError("VisionEncoder: weights are given with the module's path, "
                                 "not with a loaded module")
            self.module = module
        else:
            if weights is None:
                raise FoveaError("VisionEncoder: a module path needs its weights")
            self.module = load(module, weights, threads=threads)
        meta = self.module.metadata
        inputs = meta["inputs"]
        if len(inputs) != 1 or inputs[0]["dtype"] != "u8" or len(inputs[0]["shape"]) != 4:
            raise FoveaError("VisionEncoder wraps modules with one uint8 input "
                             "[N, 3, H, W] (not packed images)")
        norm = meta["normalization"]
        self._dtype = {"f32": torch.float32, "bf16": torch.bfloat16}.get(meta["dtype"])
        self._mean = torch.tensor(norm["mean"], dtype=torch.float32)
        self._std = torch.tensor(norm["std"], dtype=torch.float32)
        self._tables = {}

    def _table(self, dtype):
        """[3, 256]: the normalized value of every byte per channel, in
        `dtype` (float32 arithmetic, then cast), as float32."""
        if dtype not in self._tables:
            byte = torch.arange(256, dtype=torch.float32) / 255.0
            values = (byte[None, :] - self._mean[:, None]) / self._std[:, None]
            self._tables[dtype] = values.to(dtype).float()
        return self._tables[dtype]

    def pixels_of(self, pixel_values):
        """The uint8 pixels whose normalization is `pixel_values`."""
        if pixel_values.dtype == torch.uint8:
            return pixel_values
        if pixel_values.dtype not in (torch.float32, torch.bfloat16, torch.float16):
            raise FoveaError(f"VisionEncoder: pixel_values must be uint8 or a float type, "
                             f"got {pixel_values.dtype}")
        if pixel_values.dtype not in (torch.float32, self._dtype):
            raise FoveaError(f"VisionEncoder: {pixel_values.dtype} pixel_values for a "
                             f"{self.module.metadata['dtype']} module: pass float32 (or the "
                             "module's dtype)")
        if pixel_values.dim() != 4 or pixel_values.shape[1] != 3:
            raise FoveaError(f"VisionEncoder: pixel_values must be [N, 3, H, W], got "
                             f"{list(pixel_values.shape)}")
        table = self._table(pixel_values.dtype)
        x = pixel_values.detach().float()
        out = torch.empty(x.shape, dtype=torch.uint8)
        for c in range(3):
            values = x[:, c].contiguous().reshape(-1)
            index = torch.searchsorted(table[c], values).clamp_(max=255)
            if not torch.equal(table[c][index], values):
                raise FoveaError("VisionEncoder: pixel_values are not this model's normalized "
                                 f"pixels (channel {c} has a value that is no byte's "
                                 "((u8 / 255) - mean) / std)")
            out[:, c] = index.to(torch.uint8).reshape(x.shape[0], x.shape[2], x.shape[3])
        return out

    def forward(self, pixel_values):
        if pixel_values.device.type != "cpu":
            raise FoveaError(f"VisionEncoder: pixel_values are on {pixel_values.device}; "
                             "this module takes CPU tensors")
        results = self.module.run(self.pixels_of(pixel_values))
        return results[0] if len(results) == 1 else tuple(results)
