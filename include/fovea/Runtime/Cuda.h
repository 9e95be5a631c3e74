//===- Cuda.h - The CUDA driver, loaded at run time -------------*- C++ -*-===//
//
// Fovea's GPU runtime uses the CUDA driver API through
// dlopen("libcuda.so.1"), so artifacts load and run on the CPU, and report
// a clear error for CUDA, on machines without an NVIDIA driver. It also
// implements the `mgpu*` entry points that MLIR's GPU-to-LLVM lowering
// calls from compiled host code (module loading, launches, streams,
// memory); kernel modules are registered when the artifact is loaded and
// JIT-compiled or loaded when the device is opened.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_CUDA_H
#define FOVEA_RUNTIME_CUDA_H

#include <cstddef>
#include <string>

namespace fovea::rt::cuda {

/// Loads the driver, initializes it, makes device 0's primary context
/// current and loads every registered kernel module. False with `error`
/// (one line) when there is no driver, no device, or a module does not
/// load.
bool open(std::string &error);

/// Memory both the host and the device reach (cuMemAllocManaged, through
/// a caching pool that compiled code's allocations share); nullptr with
/// `error` on failure. Zero bytes gives a valid block.
void *allocShared(size_t bytes, std::string &error);
void freeShared(void *pointer);

/// Gives the pool's cached blocks and the idle streams back to the driver.
void trim();

/// Waits for the device; false with `error` when it reports one.
bool synchronize(std::string &error);

/// The first error a compiled-code entry point (`mgpu*`) hit since the last
/// call, cleared by the call; empty when there was none.
std::string takeError();

} // namespace fovea::rt::cuda

#endif // FOVEA_RUNTIME_CUDA_H
