//===- FakeCuda.cpp - A CUDA driver that checks the runtime's protocol ----===//
//
// A test double of libcuda.so.1 for machines without a GPU: it implements
// the driver entry points Fovea's GPU runtime binds on the host and runs
// no kernel, but checks how the runtime drives the device:
//
//  - device memory is a separate mapping; every pointer-sized kernel
//    argument that is not a small integer must point into a live device
//    allocation (no host pointer, no freed block), and copies must go
//    between pinned host memory and live device memory;
//  - the trace (FAKE_CUDA_TRACE, a file) lists every launch, copy,
//    allocation, free and synchronization, for the test to count;
//  - stream capture records allocations, frees and launches into a graph;
//    each graph launch replays them (allocations at their captured
//    addresses, arguments checked then);
//  - FAKE_CUDA_DEVICE_BYTES caps device memory (allocations beyond it fail
//    with CUDA_ERROR_OUT_OF_MEMORY), FAKE_CUDA_FAIL_LAUNCH=k fails the k-th
//    launch (1-based) with CUDA_ERROR_LAUNCH_FAILED.
//
// Kernel parameter sizes come from the PTX the runtime loads.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <sys/mman.h>
#include <vector>

namespace {
constexpr int kSuccess = 0;
constexpr int kInvalidValue = 1;
constexpr int kOutOfMemory = 2;
constexpr int kNotFound = 500;
constexpr int kLaunchFailed = 719;
constexpr size_t kDeviceSpan = size_t(8) << 30;

struct Function {
  std::string name;
  std::vector<int> paramBytes;
};

/// What a captured stream did, replayed by each launch of the graph.
struct Node {
  enum Kind { Alloc, Free, Launch } kind;
  uintptr_t pointer = 0;
  size_t bytes = 0;
  Function *function = nullptr;
  std::vector<uint64_t> params;
};

struct Graph {
  std::vector<Node> nodes;
};

/// A loaded kernel module: its kernels by name.
struct Module {
  std::map<std::string, Function *> functions;
};

struct Fake {
  std::mutex mutex;
  FILE *trace = nullptr;
  char *device = nullptr;
  size_t next = 0, live = 0, limit = kDeviceSpan;
  /// Live device blocks: start -> size.
  std::map<uintptr_t, size_t> blocks;
  /// Pinned host blocks: start -> size.
  std::map<uintptr_t, size_t> pinned;
  long launches = 0, failLaunch = 0;
  /// The graph the stream is being captured into, if any.
  Graph *capturing = nullptr;

  Fake() {
    if (const char *path = std::getenv("FAKE_CUDA_TRACE"))
      trace = std::fopen(path, "w");
    if (const char *cap = std::getenv("FAKE_CUDA_DEVICE_BYTES"))
      limit = std::strtoull(cap, nullptr, 10);
    if (const char *fail = std::getenv("FAKE_CUDA_FAIL_LAUNCH"))
      failLaunch = std::strtol(fail, nullptr, 10);
    void *span = mmap(nullptr, kDeviceSpan, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    device = span == MAP_FAILED ? nullptr : static_cast<char *>(span);
  }
  /// The trace's last line: the device blocks still allocated at exit.
  void close() {
    std::lock_guard<std::mutex> lock(mutex);
    log("exit live=%zu", blocks.size());
    if (trace)
      std::fclose(trace);
    trace = nullptr;
  }

  void log(const char *line) {
    if (!trace)
      return;
    std::fputs(line, trace);
    std::fputc('\n', trace);
    std::fflush(trace);
  }
  template <typename... Args> void log(const char *format, Args... args) {
    if (!trace)
      return;
    std::fprintf(trace, format, args...);
    std::fputc('\n', trace);
    std::fflush(trace);
  }

  static bool within(const std::map<uintptr_t, size_t> &ranges, uintptr_t p,
                     size_t bytes) {
    auto it = ranges.upper_bound(p);
    if (it == ranges.begin())
      return false;
    --it;
    return p >= it->first && p + bytes <= it->first + it->second;
  }
  bool isDevice(uintptr_t p, size_t bytes) { return within(blocks, p, bytes); }
  bool inDeviceSpan(uintptr_t p) {
    auto base = reinterpret_cast<uintptr_t>(device);
    return p >= base && p < base + kDeviceSpan;
  }

  int allocate(unsigned long long *out, size_t bytes, const char *how) {
    size_t rounded = (bytes + 255) / 256 * 256;
    if (capturing && std::strcmp(how, "async") == 0) {
      // A graph allocation: its address is reserved now and fixed; it is
      // live from each launch's allocation node on.
      if (next + rounded > kDeviceSpan)
        return kOutOfMemory;
      uintptr_t p = reinterpret_cast<uintptr_t>(device) + next;
      next += rounded;
      capturing->nodes.push_back({Node::Alloc, p, rounded, nullptr, {}});
      *out = p;
      log("capture-alloc %zu", bytes);
      return kSuccess;
    }
    if (!device || live + rounded > limit || next + rounded > kDeviceSpan) {
      log("oom %s %zu", how, bytes);
      return kOutOfMemory;
    }
    uintptr_t p = reinterpret_cast<uintptr_t>(device) + next;
    next += rounded;
    live += rounded;
    blocks[p] = rounded;
    *out = p;
    log("alloc %s %zu", how, bytes);
    return kSuccess;
  }

  int release(unsigned long long p, const char *how) {
    if (capturing && std::strcmp(how, "async") == 0) {
      capturing->nodes.push_back({Node::Free, p, 0, nullptr, {}});
      log("capture-free");
      return kSuccess;
    }
    auto it = blocks.find(p);
    if (it == blocks.end()) {
      log("violation: %s of 0x%llx, not a live device block", how, p);
      return kInvalidValue;
    }
    live -= it->second;
    blocks.erase(it);
    log("free %s", how);
    return kSuccess;
  }

  /// Every pointer-sized argument that is not a small integer must point
  /// into a live device block.
  void checkArguments(Function *fn, const std::vector<uint64_t> &values) {
    for (size_t i = 0; i < values.size(); ++i) {
      uint64_t value = values[i];
      // Sizes, strides and offsets are small; anything else is an address.
      if (fn->paramBytes[i] != 8 || value < (uint64_t(1) << 32))
        continue;
      if (!inDeviceSpan(value))
        log("violation: %s argument %zu is not device memory (0x%llx)",
            fn->name.c_str(), i, static_cast<unsigned long long>(value));
      else if (!isDevice(value, 1))
        log("violation: %s argument %zu is a freed device block (0x%llx)",
            fn->name.c_str(), i, static_cast<unsigned long long>(value));
    }
  }

  /// One launch of a graph: its nodes in capture order.
  int replay(Graph &graph) {
    for (Node &node : graph.nodes) {
      switch (node.kind) {
      case Node::Alloc:
        if (blocks.count(node.pointer))
          log("violation: a graph relaunched before its allocation 0x%llx "
              "was freed",
              static_cast<unsigned long long>(node.pointer));
        if (live + node.bytes > limit)
          return kOutOfMemory;
        blocks[node.pointer] = node.bytes;
        live += node.bytes;
        log("alloc graph %zu", node.bytes);
        break;
      case Node::Free:
        if (release(node.pointer, "graph") != kSuccess)
          return kInvalidValue;
        break;
      case Node::Launch: {
        long index = ++launches;
        log("launch %s graph", node.function->name.c_str());
        if (index == failLaunch)
          return kLaunchFailed;
        checkArguments(node.function, node.params);
        break;
      }
      }
    }
    return kSuccess;
  }

  /// Parses `.entry name( .param .u64 name_param_0, ... )` of PTX text.
  static void parsePtx(const char *ptx, Module &module) {
    const char *at = ptx;
    while ((at = std::strstr(at, ".entry "))) {
      at += 7;
      const char *open = std::strchr(at, '(');
      if (!open)
        break;
      auto *f = new Function;
      f->name.assign(at, open - at);
      while (!f->name.empty() && f->name.back() == ' ')
        f->name.pop_back();
      const char *close = std::strchr(open, ')');
      for (const char *p = open;
           close && (p = std::strstr(p, ".param ")) && p < close; p += 7) {
        const char *type = p + 7;
        int bytes = std::strncmp(type, ".u64", 4) == 0 ||
                            std::strncmp(type, ".b64", 4) == 0 ||
                            std::strncmp(type, ".f64", 4) == 0 ||
                            std::strncmp(type, ".s64", 4) == 0
                        ? 8
                    : std::strncmp(type + 2, "16", 2) == 0 ? 2
                    : std::strncmp(type + 2, "8", 1) == 0  ? 1
                                                           : 4;
        f->paramBytes.push_back(bytes);
      }
      module.functions[f->name] = f;
    }
  }
};

Fake &fake() {
  static Fake *instance = new Fake;
  return *instance;
}

/// Closes the trace at exit (the state itself lives on: the runtime may
/// still unload modules from later destructors).
struct Finalizer {
  ~Finalizer() { fake().close(); }
} finalizer;
} // namespace

extern "C" {

int cuInit(unsigned) { return kSuccess; }
int cuDeviceGetCount(int *count) {
  *count = 1;
  return kSuccess;
}
int cuDeviceGet(int *device, int) {
  *device = 0;
  return kSuccess;
}
int cuDeviceGetAttribute(int *value, int, int) {
  *value = 1;
  return kSuccess;
}
int cuDeviceGetDefaultMemPool(void **pool, int) {
  static int thePool;
  *pool = &thePool;
  return kSuccess;
}
int cuDevicePrimaryCtxRetain(void **context, int) {
  static int theContext;
  *context = &theContext;
  return kSuccess;
}
int cuCtxSetCurrent(void *) { return kSuccess; }

int cuModuleLoadData(void **module, const void *image) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  auto *loaded = new Module;
  Fake::parsePtx(static_cast<const char *>(image), *loaded);
  *module = loaded;
  f.log("module");
  return kSuccess;
}
int cuModuleUnload(void *) { return kSuccess; }
int cuModuleGetFunction(void **function, void *module, const char *name) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  auto &functions = static_cast<Module *>(module)->functions;
  auto it = functions.find(name);
  if (it == functions.end())
    return kNotFound;
  *function = it->second;
  return kSuccess;
}
int cuFuncSetAttribute(void *, int, int value) {
  fake().log("shared-opt-in %d", value);
  return kSuccess;
}

int cuLaunchKernel(void *function, unsigned, unsigned, unsigned, unsigned,
                   unsigned, unsigned, unsigned shared, void *stream,
                   void **params, void **) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  auto *fn = static_cast<Function *>(function);
  if (f.capturing) {
    // Parameters are captured by value, as the driver does.
    std::vector<uint64_t> values;
    for (size_t i = 0; i < fn->paramBytes.size(); ++i) {
      uint64_t value = 0;
      if (fn->paramBytes[i] == 8)
        std::memcpy(&value, params[i], 8);
      values.push_back(value);
    }
    f.capturing->nodes.push_back({Node::Launch, 0, 0, fn, values});
    f.log("capture-launch %s", fn->name.c_str());
    return kSuccess;
  }
  long index = ++f.launches;
  f.log("launch %s shared=%u stream=%p", fn->name.c_str(), shared, stream);
  if (index == f.failLaunch)
    return kLaunchFailed;
  std::vector<uint64_t> values;
  for (size_t i = 0; i < fn->paramBytes.size(); ++i) {
    uint64_t value = 0;
    if (fn->paramBytes[i] == 8)
      std::memcpy(&value, params[i], 8);
    values.push_back(value);
  }
  f.checkArguments(fn, values);
  return kSuccess;
}

int cuStreamCreate(void **stream, unsigned) {
  static int theStream;
  *stream = &theStream;
  fake().log("stream-create");
  return kSuccess;
}
int cuStreamSynchronize(void *stream) {
  if (fake().capturing) {
    fake().log("violation: a synchronization while capturing");
    return 900; // CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED
  }
  fake().log("sync %p", stream);
  return kSuccess;
}
int cuStreamBeginCapture_v2(void *, int) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  if (f.capturing)
    return kInvalidValue;
  f.capturing = new Graph;
  f.log("capture-begin");
  return kSuccess;
}
int cuStreamEndCapture(void *, void **graph) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  if (!f.capturing)
    return kInvalidValue;
  *graph = f.capturing;
  f.capturing = nullptr;
  f.log("capture-end");
  return kSuccess;
}
int cuGraphInstantiateWithFlags(void **exec, void *graph, unsigned long long) {
  *exec = new Graph(*static_cast<Graph *>(graph));
  return kSuccess;
}
int cuGraphLaunch(void *exec, void *stream) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  if (f.capturing)
    return kInvalidValue;
  f.log("graph-launch stream=%p", stream);
  return f.replay(*static_cast<Graph *>(exec));
}
int cuGraphExecDestroy(void *exec) {
  delete static_cast<Graph *>(exec);
  fake().log("graph-destroy");
  return kSuccess;
}
int cuGraphDestroy(void *graph) {
  delete static_cast<Graph *>(graph);
  return kSuccess;
}

int cuEventCreate(void **event, unsigned) {
  *event = new int(0);
  return kSuccess;
}
int cuEventRecord(void *, void *) { return kSuccess; }
/// Every launch "takes" 10 microseconds.
int cuEventElapsedTime(float *ms, void *, void *) {
  *ms = 0.01f;
  return kSuccess;
}
int cuEventSynchronize(void *) { return kSuccess; }

int cuMemAlloc_v2(unsigned long long *p, size_t bytes) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  return f.allocate(p, bytes, "sync");
}
int cuMemFree_v2(unsigned long long p) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  return f.release(p, "sync");
}
int cuMemAllocAsync(unsigned long long *p, size_t bytes, void *) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  return f.allocate(p, bytes, "async");
}
int cuMemFreeAsync(unsigned long long p, void *) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  return f.release(p, "async");
}
int cuMemPoolSetAttribute(void *, int, void *) { return kSuccess; }
int cuMemPoolTrimTo(void *, size_t) { return kSuccess; }
int cuMemAllocManaged(unsigned long long *, size_t, unsigned) {
  fake().log("violation: managed memory");
  return kOutOfMemory;
}

int cuMemHostAlloc(void **p, size_t bytes, unsigned) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  *p = std::malloc(bytes);
  f.pinned[reinterpret_cast<uintptr_t>(*p)] = bytes;
  f.log("pinned %zu", bytes);
  return kSuccess;
}
int cuMemFreeHost(void *p) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  f.pinned.erase(reinterpret_cast<uintptr_t>(p));
  std::free(p);
  return kSuccess;
}

int cuMemcpyHtoDAsync_v2(unsigned long long dst, const void *src, size_t bytes,
                         void *) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  if (f.capturing)
    f.log("violation: a host-to-device copy while capturing");
  if (!f.isDevice(dst, bytes))
    f.log("violation: host-to-device copy into 0x%llx, not live device memory",
          dst);
  else if (!Fake::within(f.pinned, reinterpret_cast<uintptr_t>(src), bytes))
    f.log("violation: host-to-device copy from pageable memory");
  else
    std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
  f.log("htod %zu", bytes);
  return kSuccess;
}
int cuMemcpyDtoHAsync_v2(void *dst, unsigned long long src, size_t bytes,
                         void *) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  if (!f.isDevice(src, bytes))
    f.log("violation: device-to-host copy from 0x%llx, not live device memory",
          src);
  else if (!Fake::within(f.pinned, reinterpret_cast<uintptr_t>(dst), bytes))
    f.log("violation: device-to-host copy into pageable memory");
  else
    std::memcpy(dst, reinterpret_cast<void *>(src), bytes);
  f.log("dtoh %zu", bytes);
  return kSuccess;
}
int cuMemcpyAsync(unsigned long long dst, unsigned long long src, size_t bytes,
                  void *) {
  Fake &f = fake();
  std::lock_guard<std::mutex> lock(f.mutex);
  if (!f.isDevice(dst, bytes) || !f.isDevice(src, bytes))
    f.log("violation: device copy outside live device memory");
  f.log("dtod %zu", bytes);
  return kSuccess;
}
int cuMemsetD32Async(unsigned long long, unsigned, size_t, void *) {
  return kSuccess;
}

int cuGetErrorString(int rc, const char **text) {
  switch (rc) {
  case kOutOfMemory:
    *text = "out of memory";
    return kSuccess;
  case kLaunchFailed:
    *text = "unspecified launch failure";
    return kSuccess;
  case kNotFound:
    *text = "named symbol not found";
    return kSuccess;
  default:
    *text = "fake CUDA error";
    return kSuccess;
  }
}

} // extern "C"
