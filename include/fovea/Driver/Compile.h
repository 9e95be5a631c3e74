//===- Compile.h - The compiler driver as a library -------------*- C++ -*-===//
//
// What fovea-compile does, callable from other front ends (Python): a model
// config in, IR (or LLVM IR) of a requested phase, or an artifact, out.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DRIVER_COMPILE_H
#define FOVEA_DRIVER_COMPILE_H

#include "fovea/Driver/Options.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/Support/raw_ostream.h"

namespace fovea {

/// The model of `configPath` (a config.json or its directory, checked
/// against the checkpoint beside it) or of the preset `preset`: exactly one
/// of them is non-empty.
llvm::Expected<ModelConfig> loadModel(llvm::StringRef configPath,
                                      llvm::StringRef preset);

/// The tensors `@run` takes and returns, as the metadata lists them: its
/// inputs (pixels or frames, one per packed image), its outputs and its
/// weights (named by `vision.weight`), each with dtype and shape (-1:
/// dynamic), in argument and result order.
struct ModuleSignature {
  struct Tensor {
    std::string name, dtype;
    std::vector<int64_t> shape;
  };
  std::vector<Tensor> inputs, outputs, weights;
};

/// Lets the translation to LLVM IR drop the vision dialect's argument
/// attributes (`vision.weight`, `vision.derived`) silently: without it every
/// one is a warning, and each warning prints the whole function it is on.
void registerVisionToLLVMIRTranslation(mlir::DialectRegistry &registry);

/// Reads the signature of `@run` in `module` (vision IR, before lowering).
llvm::Expected<ModuleSignature> readSignature(mlir::ModuleOp module,
                                              const ImportOptions &options);

/// The CPU an artifact's host code is built for: the `-march` value, the
/// CPU's name and the features of fovea/Support/CpuFeatures.h it has.
struct HostCpu {
  std::string march, name;
  std::vector<std::string> features;
};

/// `--target-cpu` resolved (default: native for the CPU target, x86-64 for
/// host code of the CUDA target); an unknown CPU name is an error.
llvm::Expected<HostCpu> resolveHostCpu(const CompileOptions &options);

/// The metadata JSON of a module compiled with `options` (model, entry
/// point, inputs, outputs, weights, geometry, host CPU; for CUDA the GPU
/// architecture and the kernels' embedded format from `pipeline`): the tensors
/// of `signature`, @init returning values of `derivedTypes` and alone reading
/// the weights at `initOnlyWeights`, the geometry of `config`.
std::string moduleMetadata(const ModelConfig &config,
                           const ImportOptions &options, Target target,
                           const PipelineOptions &pipeline,
                           const ModuleSignature &signature,
                           llvm::ArrayRef<mlir::Type> derivedTypes,
                           llvm::ArrayRef<int64_t> initOnlyWeights,
                           const HostCpu &cpu);

/// fovea-compile: parses the command line and compiles (its whole `main`).
int compileMain(int argc, char **argv);

/// Imports `config`, runs the pipeline up to `options.phase` and prints the
/// result to `os`, or builds the module or executable of `options.emit`.
/// `options` must have been validated.
llvm::Error compileModel(const ModelConfig &config,
                         const CompileOptions &options, llvm::raw_ostream &os);

} // namespace fovea

#endif // FOVEA_DRIVER_COMPILE_H
