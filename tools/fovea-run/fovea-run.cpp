//===- fovea-run.cpp - Runs a Fovea runtime module ------------------------===//
//
// fovea-run MODULE.so --weights DIR --input X.npy --output Y.npy
//   [--expected-output R.npy --rtol R --atol A] [--benchmark N --warmup M]
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/RunTool.h"

#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <string>

int main(int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::fprintf(stderr,
                 "usage: fovea-run MODULE.so --weights PATH --input X.npy "
                 "[--output Y.npy]... [--expected-output R.npy]... [--rtol R] "
                 "[--atol A] [--benchmark N] [--warmup M] [--device cpu] "
                 "[--print-metadata]\n");
    return 1;
  }
  // A bare file name means the file, not a library search.
  std::string path = argv[1];
  if (path.find('/') == std::string::npos)
    path = "./" + path;
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    std::fprintf(stderr, "fovea-run: error: cannot load module %s: %s\n",
                 argv[1], dlerror());
    return 1;
  }
  fovea::rt::ModuleApi api{};
  bool complete = true;
  auto bind = [&](auto &slot, const char *name) {
    void *symbol = dlsym(handle, name);
    if (!symbol)
      complete = false;
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(symbol);
  };
  bind(api.metadata, "fovea_module_metadata");
  bind(api.create, "fovea_module_create");
  bind(api.run, "fovea_module_run");
  bind(api.destroy, "fovea_module_destroy");
  bind(api.release, "fovea_tensor_release");
  bind(api.freeError, "fovea_free_error");
  if (!complete) {
    std::fprintf(stderr,
                 "fovea-run: error: %s is not a Fovea module (missing the "
                 "fovea_module_* C ABI)\n",
                 argv[1]);
    return 1;
  }
  return fovea::rt::runTool("fovea-run", argc, argv, 2, api);
}
