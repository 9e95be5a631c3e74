//===- CachingPool.h - A caching allocator of large blocks ------*- C++ -*-===//
//
// Keeps freed blocks for reuse so repeated allocations do not pay the
// allocator's cost again (for the CPU code's large buffers: fresh pages
// zeroed by the kernel on every first touch).
// Sizes are rounded up to a size class: powers of two up to 1 MiB, then
// multiples of 2 MiB, so a freed block serves any later request of its
// class. Not thread-safe; the runtime runs one module call at a time.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_CACHINGPOOL_H
#define FOVEA_RUNTIME_CACHINGPOOL_H

#include <cstddef>
#include <functional>
#include <map>
#include <unordered_map>
#include <vector>

namespace fovea::rt {

class CachingPool {
public:
  /// `allocate(bytes)` returns a new block or nullptr; `free` returns one.
  CachingPool(std::function<void *(size_t)> allocate,
              std::function<void(void *)> free)
      : allocateBlock(std::move(allocate)), freeBlock(std::move(free)) {}
  CachingPool(const CachingPool &) = delete;
  CachingPool &operator=(const CachingPool &) = delete;
  ~CachingPool() { trim(); }

  /// The size class of a request (at least 256 bytes).
  static size_t sizeClass(size_t bytes);

  /// A block of at least `bytes`: a cached one of the same class, else a
  /// new one (nullptr when the allocator fails, after trimming the cache
  /// and trying once more).
  void *allocate(size_t bytes);

  /// Returns a block to the cache; false when the pool did not allocate it
  /// (the caller frees it some other way).
  bool release(void *block);

  /// Frees every cached block.
  void trim();

  size_t cachedBytes() const { return cached; }
  size_t liveBytes() const { return live; }

private:
  std::function<void *(size_t)> allocateBlock;
  std::function<void(void *)> freeBlock;
  /// Free blocks by size class.
  std::map<size_t, std::vector<void *>> freeBlocks;
  /// Live blocks and their size class.
  std::unordered_map<void *, size_t> liveBlocks;
  size_t cached = 0, live = 0;
};

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_CACHINGPOOL_H
