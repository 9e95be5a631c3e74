#!/usr/bin/env bash
# Installs every Debian package Fovea needs to build and test. Idempotent: when
# everything is present it only checks and returns in seconds. CUDA is optional
# and taken from /usr/local/cuda when present.
set -euo pipefail

PACKAGES=(
  # Toolchain: LLVM/MLIR 22, clang, lld, lit/FileCheck, mlir-runner.
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22
  clang-format-22
  # Build drivers.
  cmake ninja-build ccache make
  # Python, numerics oracle and bindings.
  pybind11-dev python3-dev python3-numpy python3-torch libopenblas0-pthread
  libdlpack-dev
  python3-pil
  # Media decoding: images as Pillow decodes them (libjpeg-turbo, libpng,
  # zlib; linked statically), BMP with stb_image, videos with FFmpeg.
  libstb-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg
  # Unit tests; the sanitizer and libFuzzer runtimes of clang-22 (make
  # sanitize, make fuzz).
  libgtest-dev libclang-rt-22-dev
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages present"
else
  echo "setup: installing ${#missing[@]} package(s): ${missing[*]}"
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
      echo "setup: error: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
    SUDO=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  if ! "${SUDO[@]}" apt-get update >"$log" 2>&1; then
    echo "setup: error: 'apt-get update' failed (see $log)" >&2
    exit 1
  fi
  if ! "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    echo "setup: error: could not install: ${missing[*]}" >&2
    grep -E '^(E:|Unable)' "$log" | head -5 >&2 || true
    exit 1
  fi
  rm -f "$log"
fi

# Checks that the packages provide what the build uses.
for tool in /usr/lib/llvm-22/bin/{clang++,ld.lld,mlir-tblgen,FileCheck} /usr/bin/ninja; do
  if [[ ! -x "$tool" ]]; then
    echo "setup: error: expected tool '$tool' is missing after install" >&2
    exit 1
  fi
done
if [[ ! -d /usr/lib/llvm-22/lib/cmake/mlir ]]; then
  echo "setup: error: MLIR CMake config missing (/usr/lib/llvm-22/lib/cmake/mlir)" >&2
  exit 1
fi
if [[ -x /usr/local/cuda/bin/ptxas ]]; then
  echo "setup: CUDA toolkit found at /usr/local/cuda"
else
  echo "setup: no CUDA toolkit at /usr/local/cuda; GPU checks will be skipped"
fi
