//===- Cuda.cpp - The CUDA driver, loaded at run time ---------------------===//
//
// The driver API is declared here (types and the entry points Fovea calls)
// and bound with dlsym, so nothing links against libcuda. Every driver call
// is checked, and its error names the call.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Cuda.h"

#include "fovea/Runtime/Symbols.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <limits>
#include <map>
#include <set>
#include <vector>

namespace {
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;
using CUmemoryPool = struct CUmemPoolHandle_st *;
using CUgraph = struct CUgraph_st *;
using CUgraphExec = struct CUgraphExec_st *;
constexpr CUresult kSuccess = 0;
constexpr unsigned kStreamNonBlocking = 1;
constexpr unsigned kEventDisableTiming = 2;
constexpr int kAttributeMemoryPoolsSupported = 115;
constexpr int kMemPoolReleaseThreshold = 4;
constexpr int kFuncMaxDynamicSharedBytes = 8;
/// Only this thread's CUDA calls can break a capture (another thread of
/// the caller's, say PyTorch's, may go on using CUDA meanwhile).
constexpr int kCaptureModeThreadLocal = 1;
/// Launches up to this much dynamic shared memory need no opt-in.
constexpr int32_t kDefaultSharedLimit = 48 * 1024;
/// Each of the two halves of the weights' pinned staging buffer.
constexpr size_t kUploadChunk = 32u << 20;

/// The driver's entry points Fovea uses.
struct Driver {
  CUresult (*init)(unsigned);
  CUresult (*deviceGetCount)(int *);
  CUresult (*deviceGet)(CUdevice *, int);
  CUresult (*deviceGetAttribute)(int *, int, CUdevice);
  CUresult (*deviceGetDefaultMemPool)(CUmemoryPool *, CUdevice);
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*ctxSetCurrent)(CUcontext);
  CUresult (*moduleLoadData)(CUmodule *, const void *);
  CUresult (*moduleUnload)(CUmodule);
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*funcSetAttribute)(CUfunction, int, int);
  CUresult (*launchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **);
  CUresult (*streamCreate)(CUstream *, unsigned);
  CUresult (*streamSynchronize)(CUstream);
  CUresult (*eventCreate)(CUevent *, unsigned);
  CUresult (*eventRecord)(CUevent, CUstream);
  CUresult (*eventSynchronize)(CUevent);
  CUresult (*eventElapsedTime)(float *, CUevent, CUevent);
  CUresult (*memAlloc)(CUdeviceptr *, size_t);
  CUresult (*memFree)(CUdeviceptr);
  CUresult (*memAllocAsync)(CUdeviceptr *, size_t, CUstream);
  CUresult (*memFreeAsync)(CUdeviceptr, CUstream);
  CUresult (*memPoolSetAttribute)(CUmemoryPool, int, void *);
  CUresult (*memPoolTrimTo)(CUmemoryPool, size_t);
  CUresult (*memHostAlloc)(void **, size_t, unsigned);
  CUresult (*memFreeHost)(void *);
  CUresult (*memcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*memcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*memcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*memsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*streamBeginCapture)(CUstream, int);
  CUresult (*streamEndCapture)(CUstream, CUgraph *);
  CUresult (*graphInstantiate)(CUgraphExec *, CUgraph, unsigned long long);
  CUresult (*graphLaunch)(CUgraphExec, CUstream);
  CUresult (*graphExecDestroy)(CUgraphExec);
  CUresult (*graphDestroy)(CUgraph);
  CUresult (*getErrorString)(CUresult, const char **);
};

/// A kernel module the compiled code registered (PTX to JIT, or a
/// cubin/fatbin), loaded when the device is opened.
struct KernelModule {
  const void *data;
  CUmodule module = nullptr;
};

/// Page-locked host memory that grows to the largest request.
struct PinnedBuffer {
  void *data = nullptr;
  size_t size = 0;
};

struct State {
  void *library = nullptr;
  Driver driver{};
  bool ready = false;
  std::string error;
  std::vector<KernelModule *> modules;
  CUmemoryPool pool = nullptr;
  /// The runtime's stream, and the one runs use (the caller's, or ours).
  CUstream ownStream = nullptr;
  CUstream runStream = nullptr;
  PinnedBuffer inputs, outputs, upload[2];
  CUevent uploaded[2] = {nullptr, nullptr};
  /// FOVEA_CUDA_PROFILE: per-kernel device time of eager launches, written
  /// as JSON to that file when the device is trimmed (a module destroyed).
  std::string profilePath;
  struct Launch {
    CUfunction function;
    CUevent start, end;
  };
  std::vector<Launch> pendingLaunches;
  std::vector<CUevent> idleEvents;
  struct KernelTime {
    std::string label;
    int64_t launches = 0;
    double ms = 0;
  };
  std::map<CUfunction, KernelTime> kernelTimes;
  /// Kernels' labels: the kernel module's registration number and name.
  std::map<CUfunction, std::string> labels;
  /// Whether the run stream is being captured into a graph.
  bool capturing = false;
  /// Kernels opted in to more than 48 KB of dynamic shared memory.
  std::set<std::pair<CUfunction, int32_t>> sharedOptIns;
};

/// Function-local, so compiled code can register modules from global
/// constructors that run before this file's; never destroyed, because the
/// compiled code unloads its modules from global destructors that may run
/// after this file's.
State &state() {
  static State *s = new State;
  return *s;
}

std::string describe(CUresult rc) {
  const char *text = nullptr;
  if (state().driver.getErrorString)
    state().driver.getErrorString(rc, &text);
  return text ? std::string(text) + " (" + std::to_string(rc) + ")"
              : "CUDA error " + std::to_string(rc);
}

/// Records the first error of a run; returns whether `rc` is fine.
bool check(CUresult rc, const char *call, const std::string &what = "") {
  if (rc == kSuccess)
    return true;
  State &s = state();
  if (s.error.empty())
    s.error = std::string(call) + (what.empty() ? "" : " (" + what + ")") +
              ": " + describe(rc);
  return false;
}

/// Whether the run can go on: the device is open and nothing failed yet
/// (after a failure, launches and copies are skipped: their pointers may
/// be null).
bool healthy() {
  State &s = state();
  if (!s.ready && s.error.empty())
    s.error = "the compiled code used the GPU before the CUDA device was "
              "opened";
  return s.ready && s.error.empty();
}

bool loadModule(KernelModule &m, std::string &error) {
  if (m.module)
    return true;
  CUresult rc = state().driver.moduleLoadData(&m.module, m.data);
  if (rc != kSuccess) {
    error = "cuModuleLoadData: cannot load a kernel module: " + describe(rc);
    return false;
  }
  return true;
}

bool reservePinned(PinnedBuffer &buffer, size_t bytes, std::string &error) {
  if (buffer.size >= bytes)
    return true;
  Driver &d = state().driver;
  if (buffer.data)
    d.memFreeHost(buffer.data);
  buffer = PinnedBuffer();
  size_t size = std::max<size_t>(bytes, 1u << 20);
  CUresult rc = d.memHostAlloc(&buffer.data, size, 0);
  if (rc != kSuccess) {
    buffer.data = nullptr;
    error = "cuMemHostAlloc (" + std::to_string(size) +
            " bytes of pinned staging memory): " + describe(rc);
    return false;
  }
  buffer.size = size;
  return true;
}

bool bindDriver(State &s, std::string &error) {
  s.library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!s.library) {
    const char *why = dlerror();
    error = std::string("cannot load the CUDA driver (libcuda.so.1): ") +
            (why ? why : "not found") + "; is an NVIDIA driver installed?";
    return false;
  }
  fovea::rt::SymbolBinder binder(s.library);
  Driver &d = s.driver;
  binder.bind(d.init, "cuInit");
  binder.bind(d.deviceGetCount, "cuDeviceGetCount");
  binder.bind(d.deviceGet, "cuDeviceGet");
  binder.bind(d.deviceGetAttribute, "cuDeviceGetAttribute");
  binder.bind(d.deviceGetDefaultMemPool, "cuDeviceGetDefaultMemPool");
  binder.bind(d.primaryCtxRetain, "cuDevicePrimaryCtxRetain");
  binder.bind(d.ctxSetCurrent, "cuCtxSetCurrent");
  binder.bind(d.moduleLoadData, "cuModuleLoadData");
  binder.bind(d.moduleUnload, "cuModuleUnload");
  binder.bind(d.moduleGetFunction, "cuModuleGetFunction");
  binder.bind(d.funcSetAttribute, "cuFuncSetAttribute");
  binder.bind(d.launchKernel, "cuLaunchKernel");
  binder.bind(d.streamCreate, "cuStreamCreate");
  binder.bind(d.streamSynchronize, "cuStreamSynchronize");
  binder.bind(d.eventCreate, "cuEventCreate");
  binder.bind(d.eventRecord, "cuEventRecord");
  binder.bind(d.eventSynchronize, "cuEventSynchronize");
  binder.bind(d.memAlloc, "cuMemAlloc_v2");
  binder.bind(d.memFree, "cuMemFree_v2");
  binder.bind(d.memAllocAsync, "cuMemAllocAsync");
  binder.bind(d.memFreeAsync, "cuMemFreeAsync");
  binder.bind(d.memPoolSetAttribute, "cuMemPoolSetAttribute");
  binder.bind(d.memPoolTrimTo, "cuMemPoolTrimTo");
  binder.bind(d.memHostAlloc, "cuMemHostAlloc");
  binder.bind(d.memFreeHost, "cuMemFreeHost");
  binder.bind(d.memcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
  binder.bind(d.memcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
  binder.bind(d.memcpyAsync, "cuMemcpyAsync");
  binder.bind(d.memsetD32Async, "cuMemsetD32Async");
  binder.bind(d.streamBeginCapture, "cuStreamBeginCapture_v2");
  binder.bind(d.streamEndCapture, "cuStreamEndCapture");
  binder.bind(d.graphInstantiate, "cuGraphInstantiateWithFlags");
  binder.bind(d.graphLaunch, "cuGraphLaunch");
  binder.bind(d.graphExecDestroy, "cuGraphExecDestroy");
  binder.bind(d.graphDestroy, "cuGraphDestroy");
  binder.bind(d.getErrorString, "cuGetErrorString");
  if (const char *missing = binder.missing()) {
    error =
        std::string("the CUDA driver lacks ") + missing + " (driver too old?)";
    dlclose(s.library);
    s.library = nullptr;
    return false;
  }
  return true;
}

CUevent takeEvent() {
  State &s = state();
  CUevent event = nullptr;
  if (!s.idleEvents.empty()) {
    event = s.idleEvents.back();
    s.idleEvents.pop_back();
  } else if (!check(s.driver.eventCreate(&event, 0), "cuEventCreate")) {
    return nullptr;
  }
  return event;
}

/// Adds the finished launches' device times to the per-kernel totals.
void collectLaunchTimes() {
  State &s = state();
  for (const State::Launch &l : s.pendingLaunches) {
    float ms = 0;
    if (s.driver.eventElapsedTime(&ms, l.start, l.end) == kSuccess) {
      State::KernelTime &k = s.kernelTimes[l.function];
      k.label = s.labels[l.function];
      ++k.launches;
      k.ms += ms;
    }
    s.idleEvents.push_back(l.start);
    s.idleEvents.push_back(l.end);
  }
  s.pendingLaunches.clear();
}

/// Writes the per-kernel totals, most time first.
void writeProfile() {
  State &s = state();
  if (s.profilePath.empty())
    return;
  std::vector<const State::KernelTime *> kernels;
  for (const auto &[function, k] : s.kernelTimes)
    kernels.push_back(&k);
  std::sort(kernels.begin(), kernels.end(),
            [](auto *a, auto *b) { return a->ms > b->ms; });
  FILE *f = std::fopen(s.profilePath.c_str(), "w");
  if (!f)
    return;
  std::fprintf(f, "{\"kernels\": [");
  for (size_t i = 0; i < kernels.size(); ++i)
    std::fprintf(f,
                 "%s\n {\"kernel\": \"%s\", \"launches\": %lld, \"ms\": %.6f}",
                 i ? "," : "", kernels[i]->label.c_str(),
                 static_cast<long long>(kernels[i]->launches), kernels[i]->ms);
  std::fprintf(f, "\n]}\n");
  std::fclose(f);
}

/// The first error of a failing call during open, as one line.
bool openStep(CUresult rc, const char *call, std::string &error) {
  if (rc == kSuccess)
    return true;
  error = std::string(call) + ": " + describe(rc);
  return false;
}
} // namespace

bool fovea::rt::cuda::open(std::string &error) {
  State &s = state();
  if (s.ready)
    return true;
  if (!s.library && !bindDriver(s, error))
    return false;
  Driver &d = s.driver;
  CUresult rc = d.init(0);
  if (rc != kSuccess) {
    error = "cuInit: cannot initialize CUDA: " + describe(rc);
    return false;
  }
  int count = 0;
  if (!openStep(d.deviceGetCount(&count), "cuDeviceGetCount", error))
    return false;
  if (count == 0) {
    error = "no CUDA device found";
    return false;
  }
  CUdevice device;
  CUcontext context;
  int pools = 0;
  if (!openStep(d.deviceGet(&device, 0), "cuDeviceGet", error) ||
      !openStep(d.primaryCtxRetain(&context, device),
                "cuDevicePrimaryCtxRetain", error) ||
      !openStep(d.ctxSetCurrent(context), "cuCtxSetCurrent", error) ||
      !openStep(
          d.deviceGetAttribute(&pools, kAttributeMemoryPoolsSupported, device),
          "cuDeviceGetAttribute", error))
    return false;
  if (!pools) {
    error = "CUDA device 0 has no stream-ordered memory pools "
            "(cuMemAllocAsync), which Fovea's GPU runtime needs";
    return false;
  }
  // The pool keeps freed memory for the next run instead of giving it back
  // at every synchronization.
  uint64_t keep = std::numeric_limits<uint64_t>::max();
  if (!openStep(d.deviceGetDefaultMemPool(&s.pool, device),
                "cuDeviceGetDefaultMemPool", error) ||
      !openStep(d.memPoolSetAttribute(s.pool, kMemPoolReleaseThreshold, &keep),
                "cuMemPoolSetAttribute", error) ||
      !openStep(d.streamCreate(&s.ownStream, kStreamNonBlocking),
                "cuStreamCreate", error))
    return false;
  for (CUevent &event : s.uploaded)
    if (!openStep(d.eventCreate(&event, kEventDisableTiming), "cuEventCreate",
                  error))
      return false;
  s.runStream = s.ownStream;
  if (const char *profile = std::getenv("FOVEA_CUDA_PROFILE")) {
    s.profilePath = profile;
    // The timing query, by either of the names drivers export it under.
    for (const char *name : {"cuEventElapsedTime_v2", "cuEventElapsedTime"})
      if (!d.eventElapsedTime)
        d.eventElapsedTime = reinterpret_cast<decltype(d.eventElapsedTime)>(
            dlsym(s.library, name));
    if (!d.eventElapsedTime) {
      error = "FOVEA_CUDA_PROFILE: the CUDA driver lacks cuEventElapsedTime";
      return false;
    }
  }
  for (KernelModule *m : s.modules)
    if (!loadModule(*m, error))
      return false;
  s.ready = true;
  return true;
}

void *fovea::rt::cuda::allocDevice(size_t bytes, std::string &error) {
  CUdeviceptr pointer = 0;
  CUresult rc = state().driver.memAlloc(&pointer, bytes ? bytes : 1);
  if (rc != kSuccess) {
    error = "cuMemAlloc (" + std::to_string(bytes) +
            " bytes of device memory): " + describe(rc);
    return nullptr;
  }
  return reinterpret_cast<void *>(pointer);
}

void fovea::rt::cuda::freeDevice(void *pointer) {
  if (pointer && state().ready)
    state().driver.memFree(reinterpret_cast<CUdeviceptr>(pointer));
}

bool fovea::rt::cuda::upload(void *device, const void *host, size_t bytes,
                             std::string &error) {
  State &s = state();
  Driver &d = s.driver;
  // Two pinned halves: one is filled while the other's copy runs.
  for (size_t done = 0, chunk = 0; done < bytes; ++chunk) {
    size_t half = chunk % 2;
    size_t size = std::min(kUploadChunk, bytes - done);
    if (!reservePinned(s.upload[half], kUploadChunk, error))
      return false;
    if (!openStep(d.eventSynchronize(s.uploaded[half]), "cuEventSynchronize",
                  error))
      return false;
    std::memcpy(s.upload[half].data, static_cast<const char *>(host) + done,
                size);
    if (!openStep(
            d.memcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(device) + done,
                              s.upload[half].data, size, s.runStream),
            "cuMemcpyHtoDAsync", error) ||
        !openStep(d.eventRecord(s.uploaded[half], s.runStream), "cuEventRecord",
                  error))
      return false;
    done += size;
  }
  return true;
}

void fovea::rt::cuda::setRunStream(void *stream) {
  State &s = state();
  s.runStream = stream ? static_cast<CUstream>(stream) : s.ownStream;
}

/// Stream-ordered memory on the run stream (the compiled code's streams are
/// all the run stream). When the device has none left, memory the pool
/// keeps but no run holds goes back, and it tries once more (not while
/// capturing: a capture records the allocation, made at each launch).
static CUresult allocateOnRunStream(size_t bytes, CUdeviceptr &pointer) {
  State &s = state();
  CUresult rc =
      s.driver.memAllocAsync(&pointer, bytes ? bytes : 1, s.runStream);
  if (rc != kSuccess && !s.capturing) {
    s.driver.memPoolTrimTo(s.pool, 0);
    rc = s.driver.memAllocAsync(&pointer, bytes ? bytes : 1, s.runStream);
  }
  return rc;
}

void *fovea::rt::cuda::allocAsync(size_t bytes, std::string &error) {
  CUdeviceptr pointer = 0;
  if (CUresult rc = allocateOnRunStream(bytes, pointer); rc != kSuccess) {
    error = "cuMemAllocAsync (" + std::to_string(bytes) +
            " bytes of device memory): " + describe(rc);
    return nullptr;
  }
  return reinterpret_cast<void *>(pointer);
}

void fovea::rt::cuda::freeAsync(void *pointer) {
  State &s = state();
  if (pointer && s.ready)
    check(s.driver.memFreeAsync(reinterpret_cast<CUdeviceptr>(pointer),
                                s.runStream),
          "cuMemFreeAsync");
}

bool fovea::rt::cuda::copyDevice(void *dst, const void *src, size_t bytes) {
  State &s = state();
  return !bytes || !healthy() ||
         check(s.driver.memcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                                    reinterpret_cast<CUdeviceptr>(src), bytes,
                                    s.runStream),
               "cuMemcpyAsync", "a result");
}

bool fovea::rt::cuda::reserveStaging(size_t inputBytes, size_t outputBytes,
                                     std::string &error) {
  State &s = state();
  return reservePinned(s.inputs, inputBytes, error) &&
         reservePinned(s.outputs, outputBytes, error);
}

bool fovea::rt::cuda::stageInput(void *device, const void *host, size_t offset,
                                 size_t bytes) {
  State &s = state();
  char *staged = static_cast<char *>(s.inputs.data) + offset;
  std::memcpy(staged, host, bytes);
  return !bytes ||
         check(s.driver.memcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(device),
                                        staged, bytes, s.runStream),
               "cuMemcpyHtoDAsync", "an input");
}

bool fovea::rt::cuda::stageOutput(const void *device, size_t offset,
                                  size_t bytes) {
  State &s = state();
  return !bytes || !healthy() ||
         check(s.driver.memcpyDtoHAsync(
                   static_cast<char *>(s.outputs.data) + offset,
                   reinterpret_cast<CUdeviceptr>(device), bytes, s.runStream),
               "cuMemcpyDtoHAsync", "an output");
}

const void *fovea::rt::cuda::stagedOutput(size_t offset) {
  return static_cast<const char *>(state().outputs.data) + offset;
}

bool fovea::rt::cuda::finish(std::string &error) {
  State &s = state();
  if (!s.ready) {
    error = takeError();
    return error.empty();
  }
  check(s.driver.streamSynchronize(s.runStream), "cuStreamSynchronize",
        "the end of the run");
  if (!s.pendingLaunches.empty())
    collectLaunchTimes();
  error.swap(s.error);
  s.error.clear();
  return error.empty();
}

bool fovea::rt::cuda::beginCapture() {
  State &s = state();
  if (!check(s.driver.streamBeginCapture(s.runStream, kCaptureModeThreadLocal),
             "cuStreamBeginCapture"))
    return false;
  s.capturing = true;
  return true;
}

void *fovea::rt::cuda::endCapture(std::string &error) {
  State &s = state();
  s.capturing = false;
  CUgraph graph = nullptr;
  CUresult rc = s.driver.streamEndCapture(s.runStream, &graph);
  // A call that failed while capturing explains a failed capture best.
  error = takeError();
  if (rc != kSuccess && error.empty())
    error = "cuStreamEndCapture: " + describe(rc);
  CUgraphExec exec = nullptr;
  if (error.empty()) {
    rc = s.driver.graphInstantiate(&exec, graph, 0);
    if (rc != kSuccess) {
      error = "cuGraphInstantiateWithFlags: " + describe(rc);
      exec = nullptr;
    }
  }
  if (graph)
    s.driver.graphDestroy(graph);
  return exec;
}

bool fovea::rt::cuda::launchGraph(void *graph) {
  State &s = state();
  return check(
      s.driver.graphLaunch(static_cast<CUgraphExec>(graph), s.runStream),
      "cuGraphLaunch");
}

void fovea::rt::cuda::destroyGraph(void *graph) {
  if (graph && state().ready)
    state().driver.graphExecDestroy(static_cast<CUgraphExec>(graph));
}

void fovea::rt::cuda::trim() {
  State &s = state();
  writeProfile();
  if (s.ready)
    s.driver.memPoolTrimTo(s.pool, 0);
}

std::string fovea::rt::cuda::takeError() {
  std::string error;
  error.swap(state().error);
  return error;
}

//===----------------------------------------------------------------------===//
// Entry points of compiled host code (MLIR's gpu-to-llvm calling
// convention). Errors are recorded, not fatal; the run reports them.
//===----------------------------------------------------------------------===//

extern "C" {

void *mgpuModuleLoad(void *data, size_t /*size*/) {
  auto *m = new KernelModule{data};
  state().modules.push_back(m);
  return m;
}

void *mgpuModuleLoadJIT(void *data, int /*optLevel*/) {
  return mgpuModuleLoad(data, 0);
}

void mgpuModuleUnload(void *handle) {
  auto *m = static_cast<KernelModule *>(handle);
  State &s = state();
  if (m->module && s.ready)
    s.driver.moduleUnload(m->module);
  s.modules.erase(std::remove(s.modules.begin(), s.modules.end(), m),
                  s.modules.end());
  delete m;
}

void *mgpuModuleGetFunction(void *handle, const char *name) {
  auto *m = static_cast<KernelModule *>(handle);
  State &s = state();
  if (!healthy())
    return nullptr;
  std::string error;
  if (!loadModule(*m, error)) {
    s.error = error;
    return nullptr;
  }
  CUfunction function = nullptr;
  if (check(s.driver.moduleGetFunction(&function, m->module, name),
            "cuModuleGetFunction", name) &&
      !s.profilePath.empty() && !s.labels.count(function)) {
    // The k-th kernel module registered is the k-th gpu.binary of the
    // module's `llvm` phase (@run_kernel, @run_kernel_0, ... then @init's).
    size_t index =
        std::find(s.modules.begin(), s.modules.end(), m) - s.modules.begin();
    s.labels[function] = "#" + std::to_string(index) + " " + name;
  }
  return function;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void *stream,
                      void **params, void **extra, size_t /*paramsCount*/) {
  if (!function || !healthy())
    return; // The error is recorded already.
  if (gridX <= 0 || gridY <= 0 || gridZ <= 0)
    return; // Nothing to do (an empty dimension).
  State &s = state();
  auto kernel = static_cast<CUfunction>(function);
  if (sharedBytes > kDefaultSharedLimit &&
      s.sharedOptIns.insert({kernel, sharedBytes}).second &&
      !check(s.driver.funcSetAttribute(kernel, kFuncMaxDynamicSharedBytes,
                                       sharedBytes),
             "cuFuncSetAttribute",
             std::to_string(sharedBytes) + " bytes of dynamic shared memory"))
    return;
  // Profiling: events around each launch outside a capture.
  CUevent start = nullptr, end = nullptr;
  if (!s.profilePath.empty() && !s.capturing && (start = takeEvent()) &&
      (end = takeEvent()))
    s.driver.eventRecord(start, static_cast<CUstream>(stream));
  check(s.driver.launchKernel(
            kernel, static_cast<unsigned>(gridX), static_cast<unsigned>(gridY),
            static_cast<unsigned>(gridZ), static_cast<unsigned>(blockX),
            static_cast<unsigned>(blockY), static_cast<unsigned>(blockZ),
            static_cast<unsigned>(sharedBytes), static_cast<CUstream>(stream),
            params, extra),
        "cuLaunchKernel");
  if (end) {
    s.driver.eventRecord(end, static_cast<CUstream>(stream));
    s.pendingLaunches.push_back({kernel, start, end});
  } else if (start) {
    s.idleEvents.push_back(start);
  }
}

/// Every stream the compiled code asks for is the run stream: its work is
/// one ordered sequence, and the host waits once, in `finish`.
void *mgpuStreamCreate() { return state().runStream; }

void mgpuStreamDestroy(void * /*stream*/) {}

/// The compiled code never reads device memory on the host (the GPU
/// pipeline checks it), so its waits are left to `finish`.
void mgpuStreamSynchronize(void * /*stream*/) {}

void *mgpuMemAlloc(uint64_t bytes, void * /*stream*/, bool hostShared) {
  State &s = state();
  if (!healthy())
    return nullptr;
  if (hostShared) {
    s.error = "the compiled code asked for managed memory, which Fovea's GPU "
              "runtime does not provide";
    return nullptr;
  }
  CUdeviceptr pointer = 0;
  if (!check(allocateOnRunStream(bytes, pointer), "cuMemAllocAsync",
             std::to_string(bytes) + " bytes of device memory"))
    return nullptr;
  return reinterpret_cast<void *>(pointer);
}

void mgpuMemFree(void *pointer, void * /*stream*/) {
  fovea::rt::cuda::freeAsync(pointer);
}

void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream) {
  if (bytes && healthy())
    check(state().driver.memcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                                     reinterpret_cast<CUdeviceptr>(src), bytes,
                                     static_cast<CUstream>(stream)),
          "cuMemcpyAsync");
}

void mgpuMemset32(void *dst, unsigned value, size_t count, void *stream) {
  if (count && healthy())
    check(state().driver.memsetD32Async(reinterpret_cast<CUdeviceptr>(dst),
                                        value, count,
                                        static_cast<CUstream>(stream)),
          "cuMemsetD32Async");
}

} // extern "C"
