# Fovea's two entry points: `make run` and `make test`. Both install what the
# project needs first (scripts/setup.sh), then configure and build with ninja
# and ccache in $(BUILD_DIR).

BUILD_DIR ?= build
BUILD_TYPE ?= Release
LLVM_BIN := /usr/lib/llvm-22/bin
JOBS ?= $(shell nproc)
SANITIZE_DIR ?= build-sanitize
FUZZ_SECONDS ?= 30
FUZZERS ?= json npy safetensors config image video

CMAKE_FLAGS := -G Ninja \
  -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
  -DCMAKE_C_COMPILER=$(LLVM_BIN)/clang \
  -DCMAKE_CXX_COMPILER=$(LLVM_BIN)/clang++ \
  -DLLVM_USE_LINKER=lld \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

.PHONY: all setup configure build test run docs format clean sanitize fuzz \
  sanitize-build gpu-kit

all: build

setup:
	@bash scripts/setup.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

configure: setup $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target all fovea-doc

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# ASan+UBSan build (with the libFuzzer harnesses) in $(SANITIZE_DIR).
sanitize-build: setup
	cmake -S . -B $(SANITIZE_DIR) $(CMAKE_FLAGS) -DFOVEA_FUZZ=ON
	cmake --build $(SANITIZE_DIR) -j $(JOBS)

# The reliability suite under the sanitizers (scripts/sanitize.sh).
sanitize: sanitize-build
	bash scripts/sanitize.sh $(SANITIZE_DIR)

# Every fuzz harness for $(FUZZ_SECONDS) s (scripts/fuzz.sh).
fuzz: sanitize-build
	FUZZERS="$(FUZZERS)" bash scripts/fuzz.sh $(SANITIZE_DIR) $(FUZZ_SECONDS)

# The GPU check kit (docs/GpuCheck.md) in $(GPU_KIT_DIR); QUICK=1 leaves out
# nano-v2-vl (CI).
GPU_KIT_DIR ?= $(BUILD_DIR)/gpu-kit
gpu-kit: build
	/usr/bin/python3 benchmarks/gpu_kit/build_kit.py --tools $(BUILD_DIR)/bin \
	  --out $(GPU_KIT_DIR) $(if $(QUICK),--quick)

run: build
	@bash scripts/demo.sh $(BUILD_DIR)

docs: configure
	cmake --build $(BUILD_DIR) --target fovea-doc
	@echo "op documentation: $(BUILD_DIR)/docs/Dialects/"

format:
	git ls-files '*.cpp' '*.h' | xargs $(LLVM_BIN)/clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR)
