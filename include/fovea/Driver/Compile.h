//===- Compile.h - The compiler driver as a library -------------*- C++ -*-===//
//
// What fovea-compile does, callable from other front ends (Python): a model
// config in, IR (or LLVM IR) of a requested phase out.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DRIVER_COMPILE_H
#define FOVEA_DRIVER_COMPILE_H

#include "fovea/Driver/Import.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"
#include <functional>

namespace fovea {

/// The phases `--compile-to` can stop after.
enum class Phase {
  /// The imported vision IR, canonicalized.
  Vision,
  /// After convert-vision-to-linalg (linalg/tensor/arith/math/scf).
  Linalg,
  /// GPU target: after kernel outlining (host functions launching
  /// gpu.module kernels, before NVVM).
  GPU,
  /// After the target's pipeline (LLVM dialect; for GPUs with the kernels
  /// embedded as gpu.binary).
  LLVM,
  /// GPU target: the PTX of every kernel module.
  PTX,
  /// LLVM IR text.
  LLVMIR,
};

/// Parses a phase name (`vision`, `linalg`, `llvm`, `llvm-ir`).
std::optional<Phase> parsePhase(llvm::StringRef name);

/// What `compileModel` writes.
enum class Emit {
  /// The IR of `phase`, as text.
  IR,
  /// A runtime module (a shared object exporting the C ABI of
  /// fovea_runtime.h, with its metadata).
  Module,
  /// A standalone executable (the module linked with a command-line main).
  Executable,
};

enum class Target { CPU, CUDA };

struct CompileOptions {
  ImportOptions import;
  Target target = Target::CPU;
  /// CUDA: the GPU architecture (sm_90a, sm_90, sm_89, sm_86, sm_80).
  std::string gpuArch = "sm_90a";
  /// CUDA: how kernels are embedded: "isa" (PTX, JIT-compiled at load),
  /// "bin" (cubin) or "fatbin" (both need ptxas at compile time).
  std::string gpuBinary = "isa";
  /// CUDA, experimental: bf16 matmuls on tensor cores (mma.sync).
  bool gpuTensorCores = false;
  Phase phase = Phase::LLVMIR;
  Emit emit = Emit::IR;
  /// Where a module or executable is written (IR goes to the stream).
  std::string outputPath;
  /// Move weight-only computations into @init (run once at load).
  bool hoistWeightOnly = true;
  /// Applied to every pass manager the driver runs (MLIR's command-line
  /// instrumentation: --mlir-print-ir-after-all, --mlir-timing, ...).
  std::function<mlir::LogicalResult(mlir::PassManager &)> configurePassManager;
};

/// The metadata JSON of a module compiled with `options` (model, entry
/// point, inputs, outputs, weights, geometry) whose @init returns values of
/// `derivedTypes` and alone reads the weights at `initOnlyWeights`.
std::string moduleMetadata(const ModelConfig &config,
                           const ImportOptions &options, Target target,
                           llvm::ArrayRef<mlir::Type> derivedTypes,
                           llvm::ArrayRef<int64_t> initOnlyWeights);

/// Imports `config`, runs the pipeline up to `options.phase` and prints the
/// result to `os`, or builds the module or executable of `options.emit`.
llvm::Error compileModel(const ModelConfig &config,
                         const CompileOptions &options, llvm::raw_ostream &os);

} // namespace fovea

#endif // FOVEA_DRIVER_COMPILE_H
