#!/usr/bin/env bash
# The demo behind `make run`: the image pipeline of a small model written in
# the vision dialect, verified and canonicalized by fovea-opt.
set -euo pipefail
build=${1:-build}
example=examples/tiny_image_pipeline.mlir

echo "== fovea-opt: dialects"
"$build/bin/fovea-opt" --show-dialects
echo
echo "== $example: canonicalized"
"$build/bin/fovea-opt" --canonicalize "$example"
echo
echo "== ops per kind"
"$build/bin/fovea-opt" --canonicalize "$example" |
  grep -oE '= vision\.[a-z_0-9]+' | sed 's/^= //' | sort | uniq -c
