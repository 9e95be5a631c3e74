#!/usr/bin/env bash
# Runs the reliability suite on an ASan+UBSan build (make sanitize): the unit
# tests, the lit tests of the runtime and the driver, the integration tests
# that feed the tools real and damaged files, and the Python package with the
# ASan runtime preloaded into the interpreter. The compiler-pass lit tests
# (Codegen, Conversion, Dialect, Pipelines), and the integration tests that
# load compiled IR into the interpreter (op families, packed_images.py), run
# only in the Release suite: they exercise no input parsing and would double
# CI's time.
set -euo pipefail
dir=${1:?usage: sanitize.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
llvm=/usr/lib/llvm-22/bin
# allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons its slabs in the
# sanitized headers but is also used by the uninstrumented LLVM/MLIR
# libraries, which never unpoison them: a false use-after-poison.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allow_user_poisoning=0:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== sanitized unit tests"
"$dir/test/Unit/FoveaUnitTests" --gtest_brief=1

echo "== sanitized lit: runtime, driver, integration tests of the tools"
"$llvm/lit" -sv "$dir/test" --filter \
  'Runtime/|Driver/|Integration/CPU/(runtime|media|image_decoding|checkpoint_layouts|tools_cli|fuzz_inputs)\.py'

echo "== sanitized Python package (ASan runtime preloaded)"
asan=$("$llvm/clang" -print-file-name=libclang_rt.asan-x86_64.so)
for test in test_package.py test_interop.py; do
  # The interpreter's own allocations are not Fovea's leaks. The preload is
  # dropped from the environment once the interpreter runs: the tools the
  # tests start carry their own (static) ASan runtime.
  LD_PRELOAD="$asan" ASAN_OPTIONS="detect_leaks=0:allow_user_poisoning=0" \
    PYTHONPATH="$dir/python:$root/test/python:$root/test/python/reference" \
    FOVEA_TOOLS_DIR="$dir/bin" LLVM_TOOLS_DIR="$llvm" \
    /usr/bin/python3 -c 'import os, runpy, sys
os.environ.pop("LD_PRELOAD", None)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")' "$root/test/python/$test"
done
echo "sanitized suite: passed"
