//===- GpuPipeline.cpp - The NVIDIA GPU phases of the pipeline ------------===//
//
// The `bufferized`, `gpu` and `llvm` phases for NVIDIA GPUs: GPU fusion,
// bufferization, linalg to parallel loops, blocks and threads
// (fovea-gpu-tile-parallel-loops), gpu.launch, device memory for the host
// functions' buffers, kernel outlining and one asynchronous stream per run,
// then NVVM, NVPTX and the host's LLVM
// lowering with the kernels embedded as PTX (or cubin/fatbin).
//
//===----------------------------------------------------------------------===//

#include "PipelineStages.h"

#include "fovea/Codegen/Common/Passes.h"
#include "fovea/Codegen/GPU/Passes.h"
#include "fovea/Dialect/Vision/Transforms/Passes.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;

std::string fovea::resolvedGpuBinary(const PipelineOptions &options) {
  if (options.gpuBinary != "auto")
    return options.gpuBinary;
  llvm::SmallString<128> ptxas(options.cudaPath);
  llvm::sys::path::append(ptxas, "bin", "ptxas");
  return llvm::sys::fs::can_execute(ptxas) ? "cubin" : "ptx";
}

void fovea::addGpuBufferizedPhase(OpPassManager &pm,
                                  const PipelineOptions &options) {
  if (options.hoistWeightOnly)
    pm.addPass(vision::createVisionHoistWeightOnly());
  // erf as a polynomial: no libdevice call in the kernels.
  pm.addNestedPass<func::FuncOp>(vision::createExpandErf());
  // One thread per output element: parallel loops outermost.
  pm.addNestedPass<func::FuncOp>(vision::createGpuParallelDimsFirst());
  pm.addPass(createCSEPass());

  buildBufferizationPipeline(pm);
  // The loops of the fusion groups become parallel loops, mapped to blocks
  // and threads below like every other nest.
  pm.addPass(createForallToParallelLoopPass());
  // Bufferization's copies are kernels too: the host never touches a buffer.
  pm.addNestedPass<func::FuncOp>(vision::createGpuCopyKernels());
  // A row's statistics: private to the thread.
  pm.addNestedPass<func::FuncOp>(vision::createPromoteLoopBuffers());
  if (options.tensorCores) {
    vision::GpuMmaContractionsOptions mma;
    mma.emulateWarps = options.emulateOnHost;
    pm.addNestedPass<func::FuncOp>(vision::createGpuMmaContractions(mma));
  }

  // Every linalg op becomes a parallel loop nest (reductions sequential
  // inside), each nest one kernel of blocks x threads.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  vision::GpuTileParallelLoopsOptions tiling;
  tiling.blockSize = options.blockSize;
  pm.addNestedPass<func::FuncOp>(vision::createGpuTileParallelLoops(tiling));
  if (options.emulateOnHost) {
    pm.addPass(createCanonicalizerPass());
    buildHostLoweringPipeline(pm, /*expandBf16=*/true,
                              /*runtimeAllocation=*/false);
  }
}

void fovea::addGpuKernelsPhase(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  // Constants and dims move into the kernels before outlining, so they are
  // not kernel arguments: kernels fold them (and register arrays indexed by
  // constants stay in registers).
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  // Buffers in device memory, constant tables inside the kernels; the host
  // code must not touch a buffer.
  pm.addPass(vision::createGpuDeviceMemory());
  pm.addPass(createGpuKernelOutliningPass());
  // Launches, allocations and frees in one asynchronous chain: one stream
  // per run, one wait at its end.
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
  // The host's copies of the constant tables the kernels now hold.
  pm.addPass(createSymbolDCEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void fovea::addGpuLLVMPhase(OpPassManager &pm, const PipelineOptions &options) {
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
  target.chip = options.gpuArch;
  target.features = options.ptxFeatures;
  target.optLevel = options.gpuOptLevel;
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
  // gpu-module-to-binary's names of the embedded formats; any other value
  // goes through for that pass to reject.
  std::string format = resolvedGpuBinary(options);
  binary.compilationTarget = llvm::StringSwitch<std::string>(format)
                                 .Case("ptx", "isa")
                                 .Case("cubin", "bin")
                                 .Default(format);
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}
