#!/usr/bin/env bash
# The demo behind `make run`: the vision IR example through fovea-opt, then
# compiled modules run on a sample image and a sample video (scripts/demo.py).
set -euo pipefail
build=${1:-build}
example=examples/tiny_image_pipeline.mlir

echo "== $example: vision ops after canonicalization"
"$build/bin/fovea-opt" --canonicalize "$example" |
  grep -oE '= vision\.[a-z_0-9]+' | sed 's/^= //' | sort | uniq -c
echo
/usr/bin/python3 scripts/demo.py "$build"
