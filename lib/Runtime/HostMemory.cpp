//===- HostMemory.cpp - The buffers of CPU code ---------------------------===//
//
// The allocation functions the CPU lowering calls (MLIR's generic ones,
// `use-generic-functions`): buffers of 64 KiB and more come from a caching
// pool, so the activations of one layer reuse the pages of the layer before
// instead of faulting in fresh zeroed pages from the kernel on every
// allocation; smaller ones from malloc. All are 64-byte aligned.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/HostMemory.h"
#include "fovea/Runtime/CachingPool.h"

#include <cstdlib>
#include <mutex>

using namespace fovea::rt;

namespace {
constexpr size_t kAlignment = 64;
constexpr size_t kPooled = size_t(64) << 10;

void *alignedBlock(size_t bytes) {
  return std::aligned_alloc(kAlignment,
                            (bytes + kAlignment - 1) / kAlignment * kAlignment);
}

struct HostPool {
  std::mutex mutex;
  CachingPool pool{alignedBlock, [](void *p) { std::free(p); }};
};

HostPool &hostPool() {
  static HostPool instance;
  return instance;
}
} // namespace

void *fovea::rt::hostAllocate(size_t bytes, size_t alignment) {
  if (alignment > kAlignment)
    return std::aligned_alloc(alignment,
                              (bytes + alignment - 1) / alignment * alignment);
  if (bytes < kPooled)
    return alignedBlock(bytes ? bytes : 1);
  HostPool &host = hostPool();
  std::lock_guard<std::mutex> lock(host.mutex);
  return host.pool.allocate(bytes);
}

void fovea::rt::hostFree(void *block) {
  if (!block)
    return;
  HostPool &host = hostPool();
  {
    std::lock_guard<std::mutex> lock(host.mutex);
    if (host.pool.release(block))
      return;
  }
  std::free(block);
}

void fovea::rt::hostTrim() {
  HostPool &host = hostPool();
  std::lock_guard<std::mutex> lock(host.mutex);
  host.pool.trim();
}

extern "C" void *_mlir_memref_to_llvm_alloc(size_t bytes) {
  return hostAllocate(bytes, kAlignment);
}

extern "C" void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment,
                                                    size_t bytes) {
  return hostAllocate(bytes, alignment);
}

extern "C" void _mlir_memref_to_llvm_free(void *block) { hostFree(block); }
