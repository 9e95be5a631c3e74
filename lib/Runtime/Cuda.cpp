//===- Cuda.cpp - The CUDA driver, loaded at run time ---------------------===//
//
// The driver API is declared here (types and the handful of entry points
// Fovea calls) and bound with dlsym, so nothing links against libcuda.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Cuda.h"

#include "fovea/Runtime/CachingPool.h"
#include "fovea/Runtime/Symbols.h"

#include <algorithm>
#include <cstdint>
#include <dlfcn.h>
#include <memory>
#include <vector>

namespace {
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
constexpr CUresult kSuccess = 0;
constexpr unsigned kMemAttachGlobal = 1;
constexpr unsigned kStreamNonBlocking = 1;

/// The driver's entry points Fovea uses.
struct Driver {
  CUresult (*init)(unsigned);
  CUresult (*deviceGetCount)(int *);
  CUresult (*deviceGet)(CUdevice *, int);
  CUresult (*deviceGetName)(char *, int, CUdevice);
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*ctxSetCurrent)(CUcontext);
  CUresult (*ctxSynchronize)();
  CUresult (*moduleLoadData)(CUmodule *, const void *);
  CUresult (*moduleUnload)(CUmodule);
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*launchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **);
  CUresult (*streamCreate)(CUstream *, unsigned);
  CUresult (*streamDestroy)(CUstream);
  CUresult (*streamSynchronize)(CUstream);
  CUresult (*memAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*memAlloc)(CUdeviceptr *, size_t);
  CUresult (*memFree)(CUdeviceptr);
  CUresult (*memcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*memsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*getErrorString)(CUresult, const char **);
};

/// A kernel module the compiled code registered (PTX to JIT, or a
/// cubin/fatbin), loaded when the device is opened.
struct KernelModule {
  const void *data;
  CUmodule module = nullptr;
};

struct State {
  void *library = nullptr;
  Driver driver{};
  bool ready = false;
  std::string error;
  std::vector<KernelModule *> modules;
  /// Managed memory, cached across runs.
  std::unique_ptr<fovea::rt::CachingPool> pool;
  /// Streams the compiled code is done with (it synchronizes a stream
  /// before destroying it), for reuse.
  std::vector<CUstream> idleStreams;
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

/// Records the first error of compiled code; returns whether `rc` is fine.
bool check(CUresult rc, const char *what) {
  if (rc == kSuccess)
    return true;
  State &s = state();
  if (s.error.empty())
    s.error = std::string(what) + ": " + describe(rc);
  return false;
}

bool loadModule(KernelModule &m, std::string &error) {
  if (m.module)
    return true;
  CUresult rc = state().driver.moduleLoadData(&m.module, m.data);
  if (rc != kSuccess) {
    error = "cannot load a kernel module: " + describe(rc);
    return false;
  }
  return true;
}
} // namespace

bool fovea::rt::cuda::open(std::string &error) {
  State &s = state();
  if (s.ready)
    return true;
  if (!s.library) {
    s.library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!s.library) {
      const char *why = dlerror();
      error = std::string("cannot load the CUDA driver (libcuda.so.1): ") +
              (why ? why : "not found") + "; is an NVIDIA driver installed?";
      return false;
    }
    SymbolBinder binder(s.library);
    Driver &d = s.driver;
    binder.bind(d.init, "cuInit");
    binder.bind(d.deviceGetCount, "cuDeviceGetCount");
    binder.bind(d.deviceGet, "cuDeviceGet");
    binder.bind(d.deviceGetName, "cuDeviceGetName");
    binder.bind(d.primaryCtxRetain, "cuDevicePrimaryCtxRetain");
    binder.bind(d.ctxSetCurrent, "cuCtxSetCurrent");
    binder.bind(d.ctxSynchronize, "cuCtxSynchronize");
    binder.bind(d.moduleLoadData, "cuModuleLoadData");
    binder.bind(d.moduleUnload, "cuModuleUnload");
    binder.bind(d.moduleGetFunction, "cuModuleGetFunction");
    binder.bind(d.launchKernel, "cuLaunchKernel");
    binder.bind(d.streamCreate, "cuStreamCreate");
    binder.bind(d.streamDestroy, "cuStreamDestroy_v2");
    binder.bind(d.streamSynchronize, "cuStreamSynchronize");
    binder.bind(d.memAllocManaged, "cuMemAllocManaged");
    binder.bind(d.memAlloc, "cuMemAlloc_v2");
    binder.bind(d.memFree, "cuMemFree_v2");
    binder.bind(d.memcpyAsync, "cuMemcpyAsync");
    binder.bind(d.memsetD32Async, "cuMemsetD32Async");
    binder.bind(d.getErrorString, "cuGetErrorString");
    if (const char *missing = binder.missing()) {
      error = std::string("the CUDA driver lacks ") + missing +
              " (driver too old?)";
      dlclose(s.library);
      s.library = nullptr;
      return false;
    }
  }
  Driver &d = s.driver;
  CUresult rc = d.init(0);
  if (rc != kSuccess) {
    error = "cannot initialize CUDA: " + describe(rc);
    return false;
  }
  int count = 0;
  if ((rc = d.deviceGetCount(&count)) != kSuccess || count == 0) {
    error = rc != kSuccess ? "cannot count CUDA devices: " + describe(rc)
                           : "no CUDA device found";
    return false;
  }
  CUdevice device;
  CUcontext context;
  if ((rc = d.deviceGet(&device, 0)) != kSuccess ||
      (rc = d.primaryCtxRetain(&context, device)) != kSuccess ||
      (rc = d.ctxSetCurrent(context)) != kSuccess) {
    error = "cannot open CUDA device 0: " + describe(rc);
    return false;
  }
  for (KernelModule *m : s.modules)
    if (!loadModule(*m, error))
      return false;
  s.pool = std::make_unique<fovea::rt::CachingPool>(
      [](size_t bytes) -> void * {
        CUdeviceptr pointer = 0;
        if (state().driver.memAllocManaged(&pointer, bytes, kMemAttachGlobal) !=
            kSuccess)
          return nullptr;
        return reinterpret_cast<void *>(pointer);
      },
      [](void *block) {
        state().driver.memFree(reinterpret_cast<CUdeviceptr>(block));
      });
  s.ready = true;
  return true;
}

void fovea::rt::cuda::trim() {
  State &s = state();
  if (s.pool)
    s.pool->trim();
  for (CUstream stream : s.idleStreams)
    s.driver.streamDestroy(stream);
  s.idleStreams.clear();
}

void *fovea::rt::cuda::allocShared(size_t bytes, std::string &error) {
  CUdeviceptr pointer = 0;
  CUresult rc = state().driver.memAllocManaged(&pointer, bytes ? bytes : 1,
                                               kMemAttachGlobal);
  if (rc != kSuccess) {
    error = "cannot allocate " + std::to_string(bytes) +
            " bytes of CUDA managed memory: " + describe(rc);
    return nullptr;
  }
  return reinterpret_cast<void *>(pointer);
}

void fovea::rt::cuda::freeShared(void *pointer) {
  if (pointer && state().ready)
    state().driver.memFree(reinterpret_cast<CUdeviceptr>(pointer));
}

bool fovea::rt::cuda::synchronize(std::string &error) {
  CUresult rc = state().driver.ctxSynchronize();
  if (rc != kSuccess) {
    error = "CUDA: " + describe(rc);
    return false;
  }
  return true;
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
  if (!s.ready) {
    if (s.error.empty())
      s.error = "a kernel ran before the CUDA device was opened";
    return nullptr;
  }
  std::string error;
  if (!loadModule(*m, error)) {
    if (s.error.empty())
      s.error = error;
    return nullptr;
  }
  CUfunction function = nullptr;
  check(s.driver.moduleGetFunction(&function, m->module, name),
        "cuModuleGetFunction");
  return function;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void *stream,
                      void **params, void **extra, size_t /*paramsCount*/) {
  if (!function)
    return; // The error is recorded already.
  if (gridX <= 0 || gridY <= 0 || gridZ <= 0)
    return; // Nothing to do (an empty dimension).
  check(state().driver.launchKernel(
            static_cast<CUfunction>(function), static_cast<unsigned>(gridX),
            static_cast<unsigned>(gridY), static_cast<unsigned>(gridZ),
            static_cast<unsigned>(blockX), static_cast<unsigned>(blockY),
            static_cast<unsigned>(blockZ), static_cast<unsigned>(sharedBytes),
            static_cast<CUstream>(stream), params, extra),
        "cuLaunchKernel");
}

void *mgpuStreamCreate() {
  State &s = state();
  if (!s.idleStreams.empty()) {
    CUstream stream = s.idleStreams.back();
    s.idleStreams.pop_back();
    return stream;
  }
  CUstream stream = nullptr;
  if (s.ready)
    check(s.driver.streamCreate(&stream, kStreamNonBlocking), "cuStreamCreate");
  return stream;
}

void mgpuStreamDestroy(void *stream) {
  // Kept for the next launch: the compiled code synchronized it already.
  if (stream)
    state().idleStreams.push_back(static_cast<CUstream>(stream));
}

void mgpuStreamSynchronize(void *stream) {
  if (stream)
    check(state().driver.streamSynchronize(static_cast<CUstream>(stream)),
          "cuStreamSynchronize");
}

void *mgpuMemAlloc(uint64_t bytes, void * /*stream*/, bool hostShared) {
  State &s = state();
  if (!s.ready) {
    if (s.error.empty())
      s.error = "device memory requested before the CUDA device was opened";
    return nullptr;
  }
  if (hostShared) {
    void *block = s.pool->allocate(bytes);
    if (!block && s.error.empty())
      s.error = "cannot allocate " + std::to_string(bytes) +
                " bytes of CUDA managed memory";
    return block;
  }
  CUdeviceptr pointer = 0;
  check(s.driver.memAlloc(&pointer, bytes ? bytes : 1), "cuMemAlloc");
  return reinterpret_cast<void *>(pointer);
}

void mgpuMemFree(void *pointer, void * /*stream*/) {
  State &s = state();
  if (pointer && s.ready && !s.pool->release(pointer))
    check(s.driver.memFree(reinterpret_cast<CUdeviceptr>(pointer)),
          "cuMemFree");
}

void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream) {
  if (bytes && state().ready)
    check(state().driver.memcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                                     reinterpret_cast<CUdeviceptr>(src), bytes,
                                     static_cast<CUstream>(stream)),
          "cuMemcpyAsync");
}

void mgpuMemset32(void *dst, unsigned value, size_t count, void *stream) {
  if (count && state().ready)
    check(state().driver.memsetD32Async(reinterpret_cast<CUdeviceptr>(dst),
                                        value, count,
                                        static_cast<CUstream>(stream)),
          "cuMemsetD32Async");
}

} // extern "C"
