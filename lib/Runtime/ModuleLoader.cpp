//===- ModuleLoader.cpp - Opening runtime modules with dlopen -------------===//
//
// Shared by fovea-run and the Python extension.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/RunTool.h"

#include "fovea/Runtime/Geometry.h"
#include "fovea/Runtime/Json.h"
#include "fovea/Runtime/Symbols.h"

#include <dlfcn.h>

void *fovea::rt::openModuleApi(const std::string &path, ModuleApi &api,
                               std::string &error) {
  std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  void *handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    error = "cannot load module " + path + ": " + dlerror();
    return nullptr;
  }
  // A module of another ABI version is refused before anything else is
  // read or bound (its entry points may differ).
  SymbolBinder binder(handle);
  binder.bind(api.metadata, "fovea_module_metadata");
  if (binder.missing()) {
    dlclose(handle);
    error = path + " is not a Fovea module (missing fovea_module_metadata)";
    return nullptr;
  }
  std::optional<JsonValue> metadata = parseJson(api.metadata(), error);
  if (!metadata || !checkAbiVersion(*metadata, error)) {
    dlclose(handle);
    error = path + ": " + (metadata ? error : "module metadata: " + error);
    return nullptr;
  }
  binder.bind(api.create, "fovea_module_create");
  binder.bind(api.run, "fovea_module_run_inputs");
  binder.bind(api.destroy, "fovea_module_destroy");
  binder.bind(api.release, "fovea_tensor_release");
  binder.bind(api.freeError, "fovea_free_error");
  binder.bind(api.geometry, "fovea_module_geometry");
  binder.bind(api.freeString, "fovea_free_string");
  binder.bind(api.setThreads, "fovea_module_set_threads");
  binder.bind(api.setStream, "fovea_module_set_stream");
  binder.bind(api.setCudaGraphs, "fovea_module_set_cuda_graphs");
  binder.bind(api.setCpuKernels, "fovea_module_set_cpu_kernels");
  binder.bind(api.cpuKernels, "fovea_module_cpu_kernels");
  binder.bind(api.runDevice, "fovea_module_run_device");
  binder.bind(api.releaseDevice, "fovea_tensor_release_device");
  if (const char *missing = binder.missing()) {
    dlclose(handle);
    error = path + " is not a Fovea module (missing " + missing + ")";
    return nullptr;
  }
  return handle;
}

std::optional<std::string>
fovea::rt::moduleGeometry(const ModuleApi &api, int64_t count,
                          const std::vector<int64_t> &frameIndices,
                          double sourceFps, const std::vector<int64_t> *counts,
                          std::string &error) {
  char *json = nullptr, *cerror = nullptr;
  int rc = api.geometry(
      count, frameIndices.empty() ? nullptr : frameIndices.data(), sourceFps,
      counts ? counts->data() : nullptr,
      counts ? static_cast<int64_t>(counts->size()) : 0, &json, &cerror);
  if (rc != 0) {
    error = cerror ? cerror : "geometry failed";
    api.freeError(cerror);
    return std::nullopt;
  }
  std::string text = json;
  api.freeString(json);
  return text;
}
