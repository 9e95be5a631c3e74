//===- CpuPipeline.cpp - The CPU phases of the pipeline -------------------===//
//
// The `bufferized` and `llvm` phases for the host CPU: weight-only hoisting,
// tiling and vectorization of the matmuls, elementwise fusion, one-shot
// bufferization with buffer deallocation, loops, and the LLVM dialect
// conversions for the host.
//
//===----------------------------------------------------------------------===//

#include "PipelineStages.h"

#include "fovea/Codegen/CPU/Passes.h"
#include "fovea/Codegen/Common/Passes.h"
#include "fovea/Dialect/Vision/Transforms/Passes.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void fovea::buildBufferizationPipeline(OpPassManager &pm) {
  // Fills CSE merged would be copied for each reader.
  pm.addNestedPass<func::FuncOp>(vision::createUnshareFills());
  // Ops whose result is inserted into a larger tensor (a row of a fusion
  // group's loop, the patch tokens after the prefix tokens) write into it
  // in place instead of into a new buffer that is then copied.
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::buildBufferDeallocationPipeline(pm);
  // Clones the deallocation pipeline keeps (returned buffers) become
  // alloc + copy.
  pm.addPass(createConvertBufferizationToMemRefPass());
}

void fovea::buildHostLoweringPipeline(OpPassManager &pm, bool expandBf16,
                                      bool runtimeAllocation) {
  // n-D transfers become unrolled 1-D ones; contractions become outer
  // products (an FMA per row of the accumulator block) in the LLVM lowering.
  VectorTransferToSCFOptions transfers;
  transfers.enableFullUnroll();
  pm.addPass(createConvertVectorToSCFPass(transfers));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = expandBf16;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  // LLVM intrinsics first (exp, sqrt, rsqrt as 1/sqrt), libm for the rest
  // (erf).
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  // Buffers through the runtime's _mlir_memref_to_llvm_* (a caching pool).
  memrefToLLVM.useGenericFunctions = runtimeAllocation;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.vectorContractLowering =
      vector::VectorContractLowering::OuterProduct;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  // Padding values of vector transfers.
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void fovea::addCpuBufferizedPhase(OpPassManager &pm,
                                  const PipelineOptions &options) {
  // Packing comes before hoisting, which moves it to @init.
  if (options.microkernels)
    pm.addNestedPass<func::FuncOp>(vision::createCpuPackMatmuls());
  if (options.hoistWeightOnly)
    pm.addPass(vision::createVisionHoistWeightOnly());
  // Tiling comes before elementwise fusion, which would fold the reshapes
  // around the matmuls into them and change their shape.
  if (options.vectorize) {
    vision::CpuTileAndVectorizeOptions tiling;
    tiling.tileSizes.assign(options.tileSizes.begin(), options.tileSizes.end());
    pm.addNestedPass<func::FuncOp>(vision::createCpuTileAndVectorize(tiling));
    pm.addPass(createCanonicalizerPass());
  }
  if (options.fuseElementwise)
    pm.addPass(vision::createCpuFuseElementwise());
  if (options.approximateErf)
    pm.addNestedPass<func::FuncOp>(vision::createExpandErf());
  pm.addPass(createCSEPass());

  buildBufferizationPipeline(pm);
  if (options.microkernels)
    pm.addPass(vision::createCpuCallMicrokernels());
  // The loops of the fusion groups: with parallel-loops, the outermost stay
  // scf.forall until fovea-cpu-parallel-loops below; the others run in
  // order on the host, reusing one stack slot for a row's statistics.
  if (!options.parallelLoops)
    pm.addPass(createForallToForLoopPass());
  vision::PromoteLoopBuffersOptions promote;
  promote.hoist = true;
  pm.addNestedPass<func::FuncOp>(vision::createPromoteLoopBuffers(promote));
  // With parallel-loops, the parallel dimensions of the ops outside the
  // fusion groups' loops (matmul epilogues, fills, copies) become
  // scf.parallel, which fovea-cpu-parallel-loops spreads too.
  if (options.parallelLoops)
    pm.addPass(createConvertLinalgToParallelLoopsPass());
  else
    pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createCanonicalizerPass());
  // Each buffer is allocated at its first use and freed after its last,
  // not at the ends of @run: the next layer's buffers reuse its memory (the
  // runtime's caching pool).
  pm.addNestedPass<func::FuncOp>(vision::createShrinkBufferLifetimes());
  // LLVM then compiles one ViT block instead of 32.
  if (options.outlineLayers)
    pm.addPass(vision::createOutlineLayers());
  // After the deallocations are placed: a task's buffers outlive its call.
  // The tasks' (and the sequential loops') row statistics: one stack slot
  // at the entry of the function running them.
  if (options.parallelLoops) {
    pm.addPass(vision::createCpuParallelLoops());
    pm.addPass(createForallToForLoopPass());
    pm.addNestedPass<func::FuncOp>(vision::createPromoteLoopBuffers(promote));
  }
}

void fovea::addCpuLLVMPhase(OpPassManager &pm, const PipelineOptions &options) {
  buildHostLoweringPipeline(pm, options.expandBf16,
                            /*runtimeAllocation=*/true);
}
