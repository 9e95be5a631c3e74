# RUN: %python %s
"""The PyTorch model that benchmarks/gpu_pipeline.py times against Fovea on a
GPU computes the reference pipeline's function: tiny preset, on the CPU, f32
and bf16 (check_close at the pipeline tolerances)."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "benchmarks"))

import gpu_pipeline  # noqa: E402

gpu_pipeline.check(tempfile.mkdtemp(prefix="fovea-baseline-"))
