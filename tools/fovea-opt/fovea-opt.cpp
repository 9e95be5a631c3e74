//===- fovea-opt.cpp - Fovea optimizer driver -----------------------------===//
//
// mlir-opt for Fovea: the `vision` dialect, Fovea's passes and pipelines, and
// the upstream dialects and passes they are built from.
//
//===----------------------------------------------------------------------===//

#include "fovea/InitFovea.h"
#include "fovea/Support/Version.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  fovea::registerFoveaDialects(registry);
  fovea::registerFoveaPasses();
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "fovea-opt (Fovea " FOVEA_VERSION_STRING ", LLVM " LLVM_VERSION_STRING
          ")\n";
  });
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Fovea optimizer driver\n", registry));
}
