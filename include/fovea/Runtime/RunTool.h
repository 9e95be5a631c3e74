//===- RunTool.h - The command line of fovea-run and executables -*- C++
//-*-===//
//
// One command-line front end over the C ABI of a module, shared by
// fovea-run (which loads a module with dlopen) and standalone executables
// (which link one in).
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_RUNTOOL_H
#define FOVEA_RUNTIME_RUNTOOL_H

#include "fovea/Runtime/fovea_runtime.h"

#include <optional>
#include <string>
#include <vector>

namespace fovea::rt {

/// The C ABI entry points of one module.
struct ModuleApi {
  const char *(*metadata)(void);
  fovea_module *(*create)(const char *, const char *, char **);
  /// fovea_module_run_inputs.
  int (*run)(fovea_module *, const fovea_tensor *, int32_t, fovea_tensor *,
             int32_t, int32_t *, char **);
  void (*destroy)(fovea_module *);
  void (*release)(fovea_tensor *);
  void (*freeError)(char *);
  int (*geometry)(int64_t, const int64_t *, double, const int64_t *, int64_t,
                  char **, char **);
  void (*freeString)(char *);
  int (*setThreads)(fovea_module *, int32_t, char **);
  int (*setStream)(fovea_module *, void *, char **);
  int (*setCudaGraphs)(fovea_module *, int32_t, char **);
  int (*setCpuKernels)(fovea_module *, const char *, char **);
  const char *(*cpuKernels)(const fovea_module *);
  /// fovea_module_run_device and fovea_tensor_release_device.
  int (*runDevice)(fovea_module *, const fovea_tensor *, int32_t,
                   fovea_tensor *, int32_t, int32_t *, char **);
  void (*releaseDevice)(fovea_tensor *);
};

/// Opens the module file at `path` (a bare name means the file in the
/// current directory) and binds its C ABI into `api`. Returns the dlopen
/// handle, or null with `error` set (cannot load, or not a Fovea module).
void *openModuleApi(const std::string &path, ModuleApi &api,
                    std::string &error);

/// `--weights PATH --input X.npy [--output Y.npy]... [--expected-output
/// R.npy]... [--rtol R --atol A] [--benchmark N --warmup M] [--device cpu]
/// [--print-metadata]` over `api`, arguments from `argv[first]` on. Errors
/// are one line prefixed by `tool`; returns the exit code.
/// The module's token geometry as JSON (`fovea_module_geometry`) for
/// `count` images or frames taken at `frameIndices` (empty: 0, 1, ...) of a
/// source at `sourceFps`, with the per-tubelet `counts` of a run when given;
/// nullopt with `error` when the module rejects the request.
std::optional<std::string>
moduleGeometry(const ModuleApi &api, int64_t count,
               const std::vector<int64_t> &frameIndices, double sourceFps,
               const std::vector<int64_t> *counts, std::string &error);

/// Prints `tool (Fovea VERSION, module ABI N)` (`--version`).
void printRunToolVersion(const char *tool);

/// Prints the usage of `tool` and one line per flag (`--help`); `module`
/// names the module argument fovea-run takes first (empty for executables).
void printRunToolHelp(const char *tool, const char *module);

int runTool(const char *tool, int argc, char **argv, int first,
            const ModuleApi &api);

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_RUNTOOL_H
