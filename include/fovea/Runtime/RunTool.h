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

#include <string>

namespace fovea::rt {

/// The C ABI entry points of one module.
struct ModuleApi {
  const char *(*metadata)(void);
  fovea_module *(*create)(const char *, const char *, char **);
  int (*run)(fovea_module *, const fovea_tensor *, fovea_tensor *, int32_t,
             int32_t *, char **);
  void (*destroy)(fovea_module *);
  void (*release)(fovea_tensor *);
  void (*freeError)(char *);
  int (*geometry)(int64_t, const int64_t *, double, const int64_t *, int64_t,
                  char **, char **);
  void (*freeString)(char *);
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
int runTool(const char *tool, int argc, char **argv, int first,
            const ModuleApi &api);

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_RUNTOOL_H
