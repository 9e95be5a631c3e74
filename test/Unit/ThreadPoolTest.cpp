//===- ThreadPoolTest.cpp - Tests of the parallel loops of CPU modules ----===//
//
// fovea_parallel_for covers [0, count) exactly once in chunks [lo, hi), for
// counts below, at and above the thread count, on 1 and 3 threads; an empty
// range calls nothing.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/ThreadPool.h"

#include "gtest/gtest.h"
#include <atomic>
#include <vector>

using namespace fovea::rt;

namespace {
struct Visits {
  std::vector<std::atomic<int>> counts;
  std::atomic<int> calls{0};
  explicit Visits(int64_t n) : counts(n) {}
};

void visit(void *context, int64_t lo, int64_t hi) {
  auto *visits = static_cast<Visits *>(context);
  ASSERT_LT(lo, hi);
  visits->calls++;
  for (int64_t i = lo; i < hi; ++i)
    visits->counts[i]++;
}

TEST(ThreadPoolTest, ParallelForCoversTheRangeOnce) {
  for (int threads : {1, 3}) {
    setNumThreads(threads);
    for (int64_t count : {1, 2, 3, 7, 12, 13, 1032}) {
      Visits visits(count);
      fovea_parallel_for(count, visit, &visits);
      for (int64_t i = 0; i < count; ++i)
        EXPECT_EQ(visits.counts[i].load(), 1)
            << "index " << i << " of " << count << ", " << threads
            << " threads";
      EXPECT_LE(visits.calls.load(), std::max<int64_t>(count, 1));
    }
    Visits none(1);
    fovea_parallel_for(0, visit, &none);
    fovea_parallel_for(-4, visit, &none);
    EXPECT_EQ(none.calls.load(), 0);
  }
  setNumThreads(0);
}
} // namespace
