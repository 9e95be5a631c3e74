//===- ModuleLoader.cpp - Opening runtime modules with dlopen -------------===//
//
// Shared by fovea-run and the Python extension.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/RunTool.h"

#include <dlfcn.h>
#include <type_traits>

void *fovea::rt::openModuleApi(const std::string &path, ModuleApi &api,
                               std::string &error) {
  std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  void *handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    error = "cannot load module " + path + ": " + dlerror();
    return nullptr;
  }
  const char *missing = nullptr;
  auto bind = [&](auto &slot, const char *name) {
    void *symbol = dlsym(handle, name);
    if (!symbol && !missing)
      missing = name;
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(symbol);
  };
  bind(api.metadata, "fovea_module_metadata");
  bind(api.create, "fovea_module_create");
  bind(api.run, "fovea_module_run");
  bind(api.destroy, "fovea_module_destroy");
  bind(api.release, "fovea_tensor_release");
  bind(api.freeError, "fovea_free_error");
  bind(api.geometry, "fovea_module_geometry");
  bind(api.freeString, "fovea_free_string");
  if (missing) {
    dlclose(handle);
    error = path + " is not a Fovea module (missing " + missing + ")";
    return nullptr;
  }
  return handle;
}
