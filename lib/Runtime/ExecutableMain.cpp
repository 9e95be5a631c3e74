//===- ExecutableMain.cpp - main of standalone executables ----------------===//
//
// A module linked with this file is a program with fovea-run's options.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/RunTool.h"

int main(int argc, char **argv) {
  fovea::rt::ModuleApi api{
      fovea_module_metadata,        fovea_module_create,
      fovea_module_run_inputs,      fovea_module_destroy,
      fovea_tensor_release,         fovea_free_error,
      fovea_module_geometry,        fovea_free_string,
      fovea_module_set_threads,     fovea_module_set_stream,
      fovea_module_set_cuda_graphs, fovea_module_set_cpu_kernels,
      fovea_module_cpu_kernels,     fovea_module_run_device,
      fovea_tensor_release_device};
  return fovea::rt::runTool(argv[0], argc, argv, 1, api);
}
