//===- fovea-opt.cpp - Fovea optimizer driver -----------------------------===//
//
// mlir-opt for Fovea: the `vision` dialect, Fovea's passes and pipelines, and
// the upstream dialects and passes they are built from.
//
//===----------------------------------------------------------------------===//

#include "fovea/InitFovea.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  fovea::registerFoveaDialects(registry);
  fovea::registerFoveaPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Fovea optimizer driver\n", registry));
}
