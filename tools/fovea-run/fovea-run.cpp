//===- fovea-run.cpp - Runs a Fovea runtime module ------------------------===//
//
// fovea-run MODULE.so --weights DIR --input X.npy|IMAGE...|VIDEO
//   [--output Y.npy] [--expected-output R.npy --rtol R --atol A]
//   [--fps F --max-frames N] [--geometry] [--save-input P.npy]
//   [--benchmark N --warmup M]
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/RunTool.h"

#include <cstdio>
#include <string>

int main(int argc, char **argv) {
  if (argc >= 2 && std::string(argv[1]) == "--help") {
    fovea::rt::printRunToolHelp("fovea-run", "MODULE.so");
    return 0;
  }
  if (argc >= 2 && std::string(argv[1]) == "--version") {
    fovea::rt::printRunToolVersion("fovea-run");
    return 0;
  }
  if (argc < 2 || argv[1][0] == '-') {
    std::fprintf(stderr, "fovea-run: error: expected a module first: "
                         "fovea-run MODULE.so --weights PATH --input FILE... "
                         "(--help lists the options)\n");
    return 1;
  }
  fovea::rt::ModuleApi api{};
  std::string error;
  if (!fovea::rt::openModuleApi(argv[1], api, error)) {
    std::fprintf(stderr, "fovea-run: error: %s\n", error.c_str());
    return 1;
  }
  return fovea::rt::runTool("fovea-run", argc, argv, 2, api);
}
