//===- Cuda.h - The CUDA driver, loaded at run time -------------*- C++ -*-===//
//
// Fovea's GPU runtime uses the CUDA driver API through
// dlopen("libcuda.so.1"), so artifacts load and run on the CPU, and report
// a clear error for CUDA, on machines without an NVIDIA driver. It also
// implements the `mgpu*` entry points that MLIR's GPU-to-LLVM lowering
// calls from compiled host code (module loading, launches, streams,
// memory); kernel modules are registered when the artifact is loaded and
// loaded (cubin) or JIT-compiled (PTX) when the device is opened.
//
// Memory: buffers of a run come from the device's stream-ordered pool
// (cuMemAllocAsync, kept across runs), weights from cuMemAlloc; the host
// reaches device memory only through pinned staging buffers. Every
// launch, copy, allocation and free of a run goes to one stream, the run
// stream (the runtime's own, or one the caller gives), and the host waits
// once, at the end of the run (`finish`).
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_CUDA_H
#define FOVEA_RUNTIME_CUDA_H

#include <cstddef>
#include <string>

namespace fovea::rt::cuda {

/// Loads the driver, initializes it, makes device 0's primary context
/// current, creates the runtime's stream and loads every registered kernel
/// module. False with `error` (one line) when there is no driver, no
/// device, or a module does not load.
bool open(std::string &error);

/// Long-lived device memory (weights): cuMemAlloc / cuMemFree.
void *allocDevice(size_t bytes, std::string &error);
void freeDevice(void *pointer);

/// Copies host memory to device memory through pinned staging buffers, on
/// the run stream (weights, once at load). `host` may be reused on return;
/// the copy is complete after `finish`.
bool upload(void *device, const void *host, size_t bytes, std::string &error);

/// The stream the next runs use: the caller's (a CUstream), or the
/// runtime's own for nullptr.
void setRunStream(void *stream);

/// Stream-ordered device memory on the run stream (cuMemAllocAsync /
/// cuMemFreeAsync); nullptr with `error` when the device is out of memory.
void *allocAsync(size_t bytes, std::string &error);
void freeAsync(void *pointer);

/// Enqueues a device-to-device copy on the run stream.
bool copyDevice(void *dst, const void *src, size_t bytes);

/// A run's inputs and outputs. `stageInputs` copies `bytes` of host memory
/// into the run's pinned input buffer at `offset` and enqueues its copy to
/// `device`; `stageOutput` enqueues a device-to-host copy into the pinned
/// output buffer at `offset`, whose contents `stagedOutput` gives after
/// `finish`. Both buffers grow to the largest run.
bool reserveStaging(size_t inputBytes, size_t outputBytes, std::string &error);
bool stageInput(void *device, const void *host, size_t offset, size_t bytes);
bool stageOutput(const void *device, size_t offset, size_t bytes);
const void *stagedOutput(size_t offset);

/// Waits for the run stream: the one synchronization of a run. False with
/// `error` holding the first error of the run (a failed launch, copy or
/// allocation, or one the device reports); clears it.
bool finish(std::string &error);

/// CUDA graphs. `beginCapture` starts capturing the run stream's work
/// (nothing runs meanwhile); `endCapture` ends it and returns the
/// instantiated graph, or nullptr with `error` when the capture failed (the
/// first error a call hit while capturing, which it clears). Allocations the
/// graph makes keep their addresses across launches; what it does not free
/// is freed with `freeAsync` after each launch.
bool beginCapture();
void *endCapture(std::string &error);
bool launchGraph(void *graph);
void destroyGraph(void *graph);

/// Gives the pool's cached memory back to the driver.
void trim();

/// The first error a compiled-code entry point (`mgpu*`) hit since the last
/// call, cleared by the call; empty when there was none.
std::string takeError();

} // namespace fovea::rt::cuda

#endif // FOVEA_RUNTIME_CUDA_H
