# RUN: %python %s
"""vision.evs_prune on the CPU against the PyTorch reference: exact ties
(static tokens repeated across tubelets), several rates, a static and a
dynamic number of tubelets. On f32 the kept rows and per-tubelet counts match
exactly; on bf16 the kept count is exact and the selection agrees closely."""

import torch

import vision_reference as ref
from fovea_testing import compile_mlir
from fovea_testing.checks import (Cases, check_equal, from_array, tensor_type,
                                  to_array)

L, D = 12, 16
RATES = [0.0, 0.5, 0.75, 0.9]


def module(dtype, nt):
    x = tensor_type([nt, L, D], dtype)
    text = ""
    for i, rate in enumerate(RATES):
        keep = None if nt is None else ref.keep_count(L, nt, rate)
        kept = tensor_type([keep, D], dtype)
        counts = tensor_type([nt], "i64")
        text += f"""
func.func @evs_{i}(%x: {x}) -> ({kept}, {counts}) attributes {{llvm.emit_c_interface}} {{
  %k, %c = vision.evs_prune %x {{rate = {rate!r} : f64}} : {x} -> {kept}, {counts}
  return %k, %c : {kept}, {counts}
}}
"""
    return text


def video(nt, seed):
    """Tubelets where a third of the tokens are static (exact copies of the
    previous tubelet: dissimilarity 0, ties), some are identical across all
    tubelets, and the rest move."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(nt, L, D, generator=g)
    static = torch.rand(nt, L, generator=g) < 0.35
    for t in range(1, nt):
        x[t, static[t]] = x[t - 1, static[t]]
    x[:, 0] = x[0, 0].clone()  # one token never changes
    return x


def run(dtype, nt_static):
    compiled = compile_mlir(module(dtype, nt_static))
    for nt in ([nt_static] if nt_static else [1, 3, 7]):
        x = video(nt, seed=nt)
        if dtype == "bf16":
            x = x.to(torch.bfloat16)
        for i, rate in enumerate(RATES):
            kept, counts = compiled.call(f"evs_{i}", to_array(x.float(), dtype))
            exp_kept, exp_counts, _ = ref.evs_prune(x, rate)
            what = f"{dtype} nt={nt} rate={rate}"
            if kept.shape[0] != ref.keep_count(L, nt, rate):
                raise AssertionError(f"{what}: kept {kept.shape[0]} rows, expected "
                                     f"{ref.keep_count(L, nt, rate)}")
            if dtype == "f32":
                check_equal(counts, exp_counts.numpy(), f"{what}: counts")
                check_equal(kept, exp_kept.numpy(), f"{what}: kept rows")
            else:
                # bf16 rounding of every step can flip near-ties when the
                # f32 accumulation order differs: the selection must still
                # agree on almost every token.
                got = from_array(kept, dtype)
                diff = (counts - exp_counts.numpy()).__abs__().sum()
                if diff > max(2, 0.05 * kept.shape[0]):
                    raise AssertionError(f"{what}: per-tubelet counts differ by {diff}")
                if got.shape != exp_kept.shape:
                    raise AssertionError(f"{what}: kept shape {got.shape}")


cases = Cases()
cases.run("evs f32 static nt=5", run, "f32", 5)
cases.run("evs f32 dynamic nt", run, "f32", None)
cases.run("evs bf16 static nt=6", run, "bf16", 6)
cases.finish()
