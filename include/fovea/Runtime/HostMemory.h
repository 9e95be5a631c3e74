//===- HostMemory.h - The buffers of CPU code -------------------*- C++ -*-===//
//
// Where the buffers of compiled CPU code come from: the compiled code calls
// `_mlir_memref_to_llvm_alloc` / `_aligned_alloc` / `_free` (defined by the
// runtime), which use these. Large buffers are cached for reuse across
// layers and runs; the runtime frees what the compiled code returns with
// hostFree.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_HOSTMEMORY_H
#define FOVEA_RUNTIME_HOSTMEMORY_H

#include <cstddef>

namespace fovea::rt {

/// A buffer of at least `bytes`, aligned to `alignment` (at least 64).
void *hostAllocate(size_t bytes, size_t alignment);

/// Returns a buffer of hostAllocate (or of malloc) for reuse.
void hostFree(void *block);

/// Frees the cached buffers.
void hostTrim();

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_HOSTMEMORY_H
