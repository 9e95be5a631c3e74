//===- ThreadPool.cpp - The threads a module's kernels run on -------------===//

#include "fovea/Runtime/ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <sched.h>
#include <thread>
#include <vector>

using namespace fovea::rt;

int fovea::rt::availableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0)
      return count;
  }
  unsigned hardware = std::thread::hardware_concurrency();
  return hardware ? static_cast<int>(hardware) : 1;
}

/// FOVEA_NUM_THREADS when it holds a positive count, else every core.
static int defaultThreads() {
  if (const char *text = std::getenv("FOVEA_NUM_THREADS")) {
    char *end = nullptr;
    long count = std::strtol(text, &end, 10);
    if (end != text && *end == 0 && count >= 1 && count <= 4096)
      return static_cast<int>(count);
  }
  return availableCores();
}

namespace {
/// Workers wait for a generation number to change, claim task indices from
/// a shared counter until none is left, and report back.
class Pool {
public:
  ~Pool() { resize(0); }

  int threads() {
    std::lock_guard<std::mutex> lock(configMutex);
    if (requested == 0)
      requested = defaultThreads();
    return requested;
  }

  void setThreads(int count) {
    std::lock_guard<std::mutex> lock(configMutex);
    requested = count < 1 ? defaultThreads() : count;
  }

  void run(int64_t count, void (*fn)(void *, int64_t), void *context) {
    int wanted = threads();
    if (insideTask || wanted == 1 || count <= 1) {
      for (int64_t i = 0; i < count; ++i)
        fn(context, i);
      return;
    }
    std::lock_guard<std::mutex> runLock(runMutex);
    if (static_cast<int>(workers.size()) != wanted - 1)
      resize(wanted - 1);
    {
      std::lock_guard<std::mutex> lock(mutex);
      task = fn;
      taskContext = context;
      taskCount = count;
      next.store(0, std::memory_order_relaxed);
      busy = static_cast<int>(workers.size());
      ++generation;
    }
    wake.notify_all();
    claim();
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [&] { return busy == 0; });
  }

private:
  /// Runs tasks until the counter passes the count.
  void claim() {
    insideTask = true;
    for (int64_t i = next.fetch_add(1); i < taskCount; i = next.fetch_add(1))
      task(taskContext, i);
    insideTask = false;
  }

  /// `seen`: the generation when the worker was started.
  void work(uint64_t seen) {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [&] { return stopping || generation != seen; });
        if (stopping)
          return;
        seen = generation;
      }
      claim();
      std::lock_guard<std::mutex> lock(mutex);
      if (--busy == 0)
        done.notify_one();
    }
  }

  /// Stops the workers and starts `count` new ones (runMutex held, or the
  /// pool being destroyed).
  void resize(int count) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (std::thread &worker : workers)
      worker.join();
    workers.clear();
    stopping = false;
    // A worker waits for the loop after the last one, however late its
    // thread starts.
    uint64_t current = generation;
    for (int i = 0; i < count; ++i)
      workers.emplace_back([this, current] { work(current); });
  }

  std::mutex configMutex;
  int requested = 0;

  std::mutex runMutex;
  std::vector<std::thread> workers;

  std::mutex mutex;
  std::condition_variable wake, done;
  uint64_t generation = 0;
  bool stopping = false;
  int busy = 0;
  void (*task)(void *, int64_t) = nullptr;
  void *taskContext = nullptr;
  int64_t taskCount = 0;
  std::atomic<int64_t> next{0};

  static thread_local bool insideTask;
};

thread_local bool Pool::insideTask = false;

Pool &pool() {
  static Pool instance;
  return instance;
}
} // namespace

int fovea::rt::numThreads() { return pool().threads(); }

void fovea::rt::setNumThreads(int threads) { pool().setThreads(threads); }

void fovea::rt::parallelFor(int64_t count, void (*task)(void *, int64_t),
                            void *context) {
  pool().run(count, task, context);
}

extern "C" void fovea_parallel_for(int64_t count,
                                   void (*task)(void *, int64_t, int64_t),
                                   void *context) {
  if (count <= 0)
    return;
  // A few chunks per thread: the rows of one loop take about the same time,
  // and a thread that finishes early takes the next chunk.
  int64_t chunks = std::min<int64_t>(count, int64_t(numThreads()) * 4);
  int64_t size = (count + chunks - 1) / chunks;
  chunks = (count + size - 1) / size;
  parallelFor(chunks, [&](int64_t chunk) {
    task(context, chunk * size, std::min(count, (chunk + 1) * size));
  });
}
