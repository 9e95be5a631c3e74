//===- Pipelines.h - Fovea's compilation pipelines --------------*- C++ -*-===//
//
// Pipelines as library functions, shared by fovea-opt (as registered
// pipelines), the driver and the Python package.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_PIPELINES_PIPELINES_H
#define FOVEA_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#ifndef FOVEA_CUDA_PATH
#define FOVEA_CUDA_PATH ""
#endif

namespace mlir::vision {

/// Options of the CPU pipeline.
struct CpuPipelineOptions : PassPipelineOptions<CpuPipelineOptions> {
  PassOptions::Option<bool> lowerToLLVM{
      *this, "lower-to-llvm",
      llvm::cl::desc("Lower to the LLVM dialect (false stops after "
                     "bufferization and loop lowering, for inspection)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> hoistWeightOnly{
      *this, "hoist-weight-only",
      llvm::cl::desc("Move computations that depend only on weights (e.g. "
                     "weight transposes, position-embedding interpolation) "
                     "into @init (vision-hoist-weight-only)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("Tile the matmul-shaped ops into register blocks and "
                     "vectorize them (fovea-cpu-tile-and-vectorize)"),
      llvm::cl::init(true)};
  PassOptions::ListOption<int64_t> tileSizes{
      *this, "tile-sizes",
      llvm::cl::desc("Register block m,n,k of the vectorized matmuls "
                     "(default 8,64,32)")};
  PassOptions::Option<bool> approximateErf{
      *this, "approximate-erf",
      llvm::cl::desc("Compute erf (exact GELU) with a vectorizable "
                     "polynomial instead of libm's erff"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> expandBf16{
      *this, "expand-bf16",
      llvm::cl::desc("Expand bf16 <-> f32 conversions to integer arithmetic "
                     "(portable); false leaves them to LLVM, which uses "
                     "native conversion instructions where the target has "
                     "them"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> fuseElementwise{
      *this, "fuse-elementwise",
      llvm::cl::desc("Fuse elementwise linalg ops with their producers "
                     "before bufferization"),
      llvm::cl::init(true)};
};

/// vision (tensors) -> linalg -> bufferized loops -> LLVM dialect, for the
/// host CPU. bf16/f16 are storage types: every op computes in f32 and
/// rounds to them (round to nearest even); by default bf16 conversions are
/// expanded to integer arithmetic so no target support is needed.
void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// One-shot bufferization (identity layouts at function boundaries) with
/// buffer deallocation, then bufferization ops to memref.
void buildBufferizationPipeline(OpPassManager &pm);

/// Bufferized loops, vectors, memrefs and arith/math to the LLVM dialect for
/// the host (the tail of the CPU pipeline).
void buildHostLoweringPipeline(OpPassManager &pm, bool expandBf16);

struct GpuPipelineOptions : PassPipelineOptions<GpuPipelineOptions> {
  PassOptions::Option<bool> lowerToLLVM{
      *this, "lower-to-llvm",
      llvm::cl::desc("Lower to NVVM/PTX and the host's LLVM dialect (false "
                     "stops after kernel outlining, for inspection)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> hoistWeightOnly{
      *this, "hoist-weight-only",
      llvm::cl::desc("Move computations that depend only on weights into "
                     "@init (vision-hoist-weight-only)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> emulateOnHost{
      *this, "emulate-on-host",
      llvm::cl::desc("Stop after mapping the loop nests to blocks and threads "
                     "and lower them for the host CPU instead of the GPU: "
                     "runs the GPU loop structure on the CPU, to test it"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> tensorCores{
      *this, "tensor-cores",
      llvm::cl::desc("Experimental: bf16 attention and matmuls as mma.sync "
                     "tensor-core kernels (fovea-gpu-flash-attention, "
                     "fovea-gpu-mma-contractions); not yet run on a GPU"),
      llvm::cl::init(false)};
  PassOptions::Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Threads per block of the elementwise/loop kernels"),
      llvm::cl::init(256)};
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("GPU architecture: sm_90a or sm_80"),
      llvm::cl::init("sm_90a")};
  PassOptions::Option<std::string> features{
      *this, "features", llvm::cl::desc("PTX features (ISA version)"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<std::string> binaryFormat{
      *this, "format",
      llvm::cl::desc("Kernel binary: isa (PTX, JIT-compiled by the driver at "
                     "load), bin (cubin) or fatbin (both need ptxas)"),
      llvm::cl::init("isa")};
  PassOptions::Option<std::string> cudaPath{
      *this, "cuda-path",
      llvm::cl::desc("CUDA toolkit (libdevice for math functions, ptxas for "
                     "bin/fatbin); default: the toolkit found at build time"),
      llvm::cl::init(FOVEA_CUDA_PATH)};
  PassOptions::Option<int> optLevel{
      *this, "opt-level", llvm::cl::desc("LLVM optimization level of kernels"),
      llvm::cl::init(3)};
};

void buildGpuPipeline(OpPassManager &pm, const GpuPipelineOptions &options);

/// Registers `fovea-cpu-pipeline` with the pass registry.
void registerFoveaPipelines();

} // namespace mlir::vision

#endif // FOVEA_PIPELINES_PIPELINES_H
