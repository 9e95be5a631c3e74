"""Test support for Fovea: compile vision IR for the CPU and call it from
Python with numpy arrays."""

from .compiled import CompiledModule, compile_mlir, compile_model  # noqa: F401
