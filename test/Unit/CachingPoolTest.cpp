//===- CachingPoolTest.cpp - Tests of the caching pool --------------------===//
//
// The pool over a counting host allocator: size classes, reuse, foreign
// pointers, trimming and the retry after an allocation failure.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/CachingPool.h"

#include "gtest/gtest.h"
#include <cstdlib>
#include <set>

using namespace fovea::rt;

namespace {

/// Counts allocations and frees; fails allocations while `failing`.
struct CountingAllocator {
  int allocations = 0, frees = 0;
  bool failing = false;
  std::set<void *> outstanding;

  CachingPool pool() {
    return CachingPool(
        [this](size_t bytes) -> void * {
          if (failing)
            return nullptr;
          ++allocations;
          void *p = std::malloc(bytes);
          outstanding.insert(p);
          return p;
        },
        [this](void *p) {
          ++frees;
          outstanding.erase(p);
          std::free(p);
        });
  }
};

TEST(CachingPool, SizeClasses) {
  EXPECT_EQ(CachingPool::sizeClass(0), 256u);
  EXPECT_EQ(CachingPool::sizeClass(256), 256u);
  EXPECT_EQ(CachingPool::sizeClass(257), 512u);
  EXPECT_EQ(CachingPool::sizeClass(1000), 1024u);
  EXPECT_EQ(CachingPool::sizeClass(1 << 20), size_t(1) << 20);
  // Above 1 MiB: multiples of 2 MiB.
  EXPECT_EQ(CachingPool::sizeClass((1 << 20) + 1), size_t(2) << 20);
  EXPECT_EQ(CachingPool::sizeClass((5 << 20) + 7), size_t(6) << 20);
}

TEST(CachingPool, ReusesFreedBlocksOfTheSameClass) {
  CountingAllocator counter;
  CachingPool pool = counter.pool();
  void *a = pool.allocate(1000);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(pool.liveBytes(), 1024u);
  EXPECT_TRUE(pool.release(a));
  EXPECT_EQ(pool.cachedBytes(), 1024u);
  // Same class (1024): the cached block comes back, no new allocation.
  void *b = pool.allocate(600);
  EXPECT_EQ(b, a);
  EXPECT_EQ(counter.allocations, 1);
  // Another class: a new block.
  void *c = pool.allocate(3000);
  EXPECT_NE(c, a);
  EXPECT_EQ(counter.allocations, 2);
  EXPECT_TRUE(pool.release(b));
  EXPECT_TRUE(pool.release(c));
  EXPECT_FALSE(pool.release(c)); // Already released.
}

TEST(CachingPool, ForeignPointersAreNotReleased) {
  CountingAllocator counter;
  CachingPool pool = counter.pool();
  int local = 0;
  EXPECT_FALSE(pool.release(&local));
  EXPECT_EQ(counter.frees, 0);
}

TEST(CachingPool, TrimFreesEveryCachedBlock) {
  CountingAllocator counter;
  {
    CachingPool pool = counter.pool();
    void *a = pool.allocate(10), *b = pool.allocate(10),
         *c = pool.allocate(5e6);
    pool.release(a);
    pool.release(b);
    pool.trim();
    EXPECT_EQ(counter.frees, 2);
    EXPECT_EQ(pool.cachedBytes(), 0u);
    pool.release(c);
  } // The destructor trims the rest.
  EXPECT_EQ(counter.frees, 3);
  EXPECT_TRUE(counter.outstanding.empty());
}

TEST(CachingPool, RetriesAfterTrimmingWhenOutOfMemory) {
  CountingAllocator counter;
  {
    CachingPool pool = counter.pool();
    void *a = pool.allocate(4096);
    pool.release(a);
    counter.failing = true;
    // A different class fails, the cache is trimmed, the retry fails too.
    EXPECT_EQ(pool.allocate(1 << 16), nullptr);
    EXPECT_EQ(counter.frees, 1);
    EXPECT_EQ(pool.cachedBytes(), 0u);
    counter.failing = false;
    void *b = pool.allocate(1 << 16);
    EXPECT_NE(b, nullptr);
    pool.release(b);
  }
  // Every block went back to the allocator (LeakSanitizer found 64 KiB
  // here when the test kept the last one).
  EXPECT_TRUE(counter.outstanding.empty());
}

} // namespace
