#!/usr/bin/env bash
# The GPU check kit: run it on a machine with an NVIDIA GPU, CUDA and
# PyTorch (no LLVM, FFmpeg or network needed); --cpu-only runs the half that
# needs no GPU. See docs/GpuCheck.md. Writes gpu_kit_summary.json to $OUT
# (or --out DIR, default: the current directory) and prints a table.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
exec "$python" "$here/kit.py" "$@"
