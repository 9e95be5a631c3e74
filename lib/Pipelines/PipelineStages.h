//===- PipelineStages.h - The target phases of the pipeline -----*- C++ -*-===//
//
// The passes each target adds for its phases; buildPipeline (Pipelines.cpp)
// calls them in phase order.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_LIB_PIPELINES_PIPELINESTAGES_H
#define FOVEA_LIB_PIPELINES_PIPELINESTAGES_H

#include "fovea/Pipelines/Pipelines.h"

namespace fovea {

/// CPU `bufferized`: weight-only hoisting, register tiling and
/// vectorization of the matmuls, elementwise fusion, polynomial erf,
/// bufferization and loops.
void addCpuBufferizedPhase(mlir::OpPassManager &pm,
                           const PipelineOptions &options);
/// CPU `llvm`: the host lowering to the LLVM dialect.
void addCpuLLVMPhase(mlir::OpPassManager &pm, const PipelineOptions &options);

/// GPU `bufferized`: weight-only hoisting, GPU fusion, parallel dimensions
/// first, bufferization, tensor-core contractions, parallel loops mapped to
/// blocks and threads (with `emulateOnHost`: lowered for the host).
void addGpuBufferizedPhase(mlir::OpPassManager &pm,
                           const PipelineOptions &options);
/// GPU `gpu`: gpu.launch from the mapped loops and kernel outlining.
void addGpuKernelsPhase(mlir::OpPassManager &pm);
/// GPU `llvm`: kernels through NVVM to PTX (or cubin/fatbin), host to LLVM.
void addGpuLLVMPhase(mlir::OpPassManager &pm, const PipelineOptions &options);

} // namespace fovea

#endif // FOVEA_LIB_PIPELINES_PIPELINESTAGES_H
