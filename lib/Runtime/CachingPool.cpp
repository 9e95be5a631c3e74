//===- CachingPool.cpp - A caching allocator for device memory ------------===//

#include "fovea/Runtime/CachingPool.h"

using namespace fovea::rt;

size_t CachingPool::sizeClass(size_t bytes) {
  constexpr size_t kSmallest = 256, kLarge = size_t(1) << 20,
                   kLargeStep = size_t(2) << 20;
  if (bytes <= kSmallest)
    return kSmallest;
  if (bytes > kLarge)
    return (bytes + kLargeStep - 1) / kLargeStep * kLargeStep;
  size_t size = kSmallest;
  while (size < bytes)
    size *= 2;
  return size;
}

void *CachingPool::allocate(size_t bytes) {
  size_t size = sizeClass(bytes);
  void *block = nullptr;
  auto it = freeBlocks.find(size);
  if (it != freeBlocks.end() && !it->second.empty()) {
    block = it->second.back();
    it->second.pop_back();
    cached -= size;
  } else {
    block = allocateBlock(size);
    if (!block && cached) {
      // Out of memory with blocks cached: give them back and retry.
      trim();
      block = allocateBlock(size);
    }
    if (!block)
      return nullptr;
  }
  liveBlocks[block] = size;
  live += size;
  return block;
}

bool CachingPool::release(void *block) {
  auto it = liveBlocks.find(block);
  if (it == liveBlocks.end())
    return false;
  size_t size = it->second;
  liveBlocks.erase(it);
  live -= size;
  freeBlocks[size].push_back(block);
  cached += size;
  return true;
}

void CachingPool::trim() {
  for (auto &[size, blocks] : freeBlocks)
    for (void *block : blocks)
      freeBlock(block);
  freeBlocks.clear();
  cached = 0;
}
