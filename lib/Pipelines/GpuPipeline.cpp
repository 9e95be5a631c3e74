//===- GpuPipeline.cpp - The NVIDIA GPU compilation pipeline --------------===//
//
// Builds fovea-gpu-pipeline: the vision-to-linalg lowering and fusion of the
// CPU pipeline, bufferization, linalg to parallel loops, blocks and threads
// (fovea-gpu-tile-parallel-loops), gpu.launch and kernel outlining, managed
// memory for host-side buffers, then NVVM, NVPTX and the host's LLVM
// lowering with the kernels embedded as PTX (or cubin/fatbin).
//
//===----------------------------------------------------------------------===//

#include "fovea/Pipelines/Pipelines.h"

#include "fovea/Conversion/Passes.h"
#include "fovea/Dialect/Vision/Transforms/Passes.h"
#include "fovea/Target/CPU/Passes.h"
#include "fovea/Target/GPU/Passes.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void vision::buildGpuPipeline(OpPassManager &pm,
                              const GpuPipelineOptions &options) {
  // Attention leaves vision IR as one flash kernel, before it would become
  // separate linalg contractions and softmax reductions.
  if (options.tensorCores) {
    GpuFlashAttentionOptions flash;
    flash.emulateWarps = options.emulateOnHost;
    pm.addNestedPass<func::FuncOp>(createGpuFlashAttention(flash));
  }
  pm.addPass(createConvertVisionToLinalg());
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  if (options.hoistWeightOnly)
    pm.addPass(createVisionHoistWeightOnly());
  pm.addNestedPass<func::FuncOp>(createGpuFuseElementwise());
  // erf as a polynomial: no libdevice call in the kernels.
  pm.addNestedPass<func::FuncOp>(createCpuExpandErf());
  // One thread per output element: parallel loops outermost.
  pm.addNestedPass<func::FuncOp>(createGpuParallelDimsFirst());
  pm.addPass(createCSEPass());

  buildBufferizationPipeline(pm);
  if (options.tensorCores) {
    GpuMmaContractionsOptions mma;
    mma.emulateWarps = options.emulateOnHost;
    pm.addNestedPass<func::FuncOp>(createGpuMmaContractions(mma));
  }

  // Every linalg op becomes a parallel loop nest (reductions sequential
  // inside), each nest one kernel of blocks x threads.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  GpuTileParallelLoopsOptions tiling;
  tiling.blockSize = options.blockSize;
  pm.addNestedPass<func::FuncOp>(createGpuTileParallelLoops(tiling));
  if (options.emulateOnHost) {
    pm.addPass(createCanonicalizerPass());
    buildHostLoweringPipeline(pm, /*expandBf16=*/true);
    return;
  }
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  // Constants and dims move into the kernels before outlining, so they are
  // not kernel arguments: kernels fold them (and register arrays indexed by
  // constants stay in registers).
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createGpuHostSharedMemory());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (!options.lowerToLLVM)
    return;

  // Host and kernels to LLVM; kernels through NVVM to PTX (upstream's
  // gpu-lower-to-nvvm-pipeline, with the CUDA toolkit named so libdevice is
  // linked whatever the environment says).
  pm.addPass(createConvertNVGPUToNVVMPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps());
  pm.addNestedPass<gpu::GPUModuleOp>(createCanonicalizerPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCSEPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createReconcileUnrealizedCastsPass());
  pm.addPass(createGpuToLLVMConversionPass());
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = options.cudaPath;
  binary.compilationTarget = options.binaryFormat;
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}
