//===- Compile.h - The compiler driver as a library -------------*- C++ -*-===//
//
// What fovea-compile does, callable from other front ends (Python): a model
// config in, IR (or LLVM IR) of a requested phase, or an artifact, out.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DRIVER_COMPILE_H
#define FOVEA_DRIVER_COMPILE_H

#include "fovea/Driver/Options.h"
#include "llvm/Support/raw_ostream.h"

namespace fovea {

/// The model of `configPath` (a config.json or its directory, checked
/// against the checkpoint beside it) or of the preset `preset`: exactly one
/// of them is non-empty.
llvm::Expected<ModelConfig> loadModel(llvm::StringRef configPath,
                                      llvm::StringRef preset);

/// The metadata JSON of a module compiled with `options` (model, entry
/// point, inputs, outputs, weights, geometry) whose @init returns values of
/// `derivedTypes` and alone reads the weights at `initOnlyWeights`.
std::string moduleMetadata(const ModelConfig &config,
                           const ImportOptions &options, Target target,
                           llvm::ArrayRef<mlir::Type> derivedTypes,
                           llvm::ArrayRef<int64_t> initOnlyWeights);

/// fovea-compile: parses the command line and compiles (its whole `main`).
int compileMain(int argc, char **argv);

/// Imports `config`, runs the pipeline up to `options.phase` and prints the
/// result to `os`, or builds the module or executable of `options.emit`.
/// `options` must have been validated.
llvm::Error compileModel(const ModelConfig &config,
                         const CompileOptions &options, llvm::raw_ostream &os);

} // namespace fovea

#endif // FOVEA_DRIVER_COMPILE_H
