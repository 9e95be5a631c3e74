//===- Compile.cpp - The compiler driver as a library ---------------------===//
//
// Imports a model, runs the phases up to the requested one, prints the IR.
//
//===----------------------------------------------------------------------===//

#include "fovea/Driver/Compile.h"

#include "fovea/Conversion/Passes.h"
#include "fovea/InitFovea.h"
#include "fovea/Pipelines/Pipelines.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

using namespace fovea;
using namespace mlir;

std::optional<Phase> fovea::parsePhase(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<Phase>>(name)
      .Case("vision", Phase::Vision)
      .Case("linalg", Phase::Linalg)
      .Case("llvm", Phase::LLVM)
      .Case("llvm-ir", Phase::LLVMIR)
      .Default(std::nullopt);
}

llvm::Error fovea::compileModel(const ModelConfig &config,
                                const CompileOptions &options,
                                llvm::raw_ostream &os) {
  DialectRegistry registry;
  vision::registerFoveaDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  MLIRContext context(registry);

  // Diagnostics become one error message.
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (!diagnostics.empty())
      diagnostics += "; ";
    diagnostics += diag.str();
    return success();
  });

  llvm::Expected<OwningOpRef<ModuleOp>> module =
      importModel(context, config, options.import);
  if (!module)
    return module.takeError();

  PassManager pm(&context);
  if (options.configurePassManager && failed(options.configurePassManager(pm)))
    return llvm::createStringError("invalid pass manager options");
  pm.addPass(createCanonicalizerPass());
  if (options.phase == Phase::Linalg) {
    pm.addPass(vision::createConvertVisionToLinalg());
    pm.addPass(createConvertElementwiseToLinalgPass());
    pm.addPass(createCanonicalizerPass());
  } else if (options.phase == Phase::LLVM || options.phase == Phase::LLVMIR) {
    vision::buildCpuPipeline(pm, vision::CpuPipelineOptions());
  }
  if (failed(pm.run(**module)))
    return llvm::createStringError(
        ("compilation failed: " + diagnostics).c_str());

  if (options.phase != Phase::LLVMIR) {
    (*module)->print(os);
    return llvm::Error::success();
  }
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(**module, llvmContext, "fovea");
  if (!llvmModule)
    return llvm::createStringError(
        ("translation to LLVM IR failed: " + diagnostics).c_str());
  llvmModule->print(os, nullptr);
  return llvm::Error::success();
}
