//===- TranslationTest.cpp - The vision dialect in the LLVM IR export ----===//

#include "fovea/Driver/Compile.h"
#include "fovea/InitFovea.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <gtest/gtest.h>

namespace {

constexpr const char *kModule = R"mlir(
llvm.func @run(%w: !llvm.ptr {vision.weight = "blocks.0.norm1.weight"},
               %d: !llvm.ptr {vision.derived = 0 : i64}) {
  llvm.return
}
)mlir";

/// The diagnostics the export of kModule reports.
int exportDiagnostics(bool registerVision) {
  mlir::DialectRegistry registry;
  fovea::registerFoveaDialects(registry);
  if (registerVision)
    fovea::registerVisionToLLVMIRTranslation(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  int diagnostics = 0;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &) {
    ++diagnostics;
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(kModule, &context);
  EXPECT_TRUE(module);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(*module, llvmContext, "test");
  EXPECT_TRUE(llvmModule);
  EXPECT_NE(llvmModule->getFunction("run"), nullptr);
  return diagnostics;
}

TEST(Translation, VisionArgumentAttributesExportSilently) {
  EXPECT_EQ(exportDiagnostics(/*registerVision=*/true), 0);
}

TEST(Translation, WithoutTheInterfaceEachAttributeWarns) {
  // What the registration saves: a warning (which prints @run) per weight.
  EXPECT_EQ(exportDiagnostics(/*registerVision=*/false), 2);
}

} // namespace
