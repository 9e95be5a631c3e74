//===- ThreadPool.h - The threads a module's kernels run on -----*- C++ -*-===//
//
// One pool per loaded module (the runtime is linked into each module).
// Work is split into independent tasks; which thread runs a task never
// changes what the task computes, so results do not depend on the thread
// count.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_THREADPOOL_H
#define FOVEA_RUNTIME_THREADPOOL_H

#include <cstdint>

namespace fovea::rt {

/// The number of threads parallel work uses (the caller's included);
/// initially FOVEA_NUM_THREADS if it holds a count from 1 to 4096, else the
/// number of cores the process may run on.
int numThreads();

/// Sets the number of threads (< 1: back to the default). Takes effect at
/// the next parallel loop.
void setNumThreads(int threads);

/// The cores the process may run on (its affinity mask), at least 1.
int availableCores();

/// Runs `task(context, i)` for every i in [0, count), spread over the pool's
/// threads and the caller; returns when all have finished. Called from a
/// task, it runs the tasks on the calling thread.
void parallelFor(int64_t count, void (*task)(void *context, int64_t index),
                 void *context);

/// parallelFor over a callable.
template <typename Fn> void parallelFor(int64_t count, const Fn &fn) {
  parallelFor(
      count,
      [](void *context, int64_t index) {
        (*static_cast<const Fn *>(context))(index);
      },
      const_cast<Fn *>(&fn));
}

} // namespace fovea::rt

extern "C" {
/// The parallel loops of CPU modules (fovea-cpu-parallel-loops): runs
/// `task(context, lo, hi)` over chunks [lo, hi) that cover [0, count) once,
/// on the pool's threads and the caller. The iterations are independent, so
/// the results do not depend on how the range is split.
void fovea_parallel_for(int64_t count,
                        void (*task)(void *context, int64_t lo, int64_t hi),
                        void *context);
}

#endif // FOVEA_RUNTIME_THREADPOOL_H
