//===- Microkernels.cpp - Matmuls as calls to the runtime's kernels -------===//
//
// Three passes, in pipeline order:
//
//   fovea-cpu-pack-matmuls      (tensors) packs B of the matmul-shaped ops
//                               into the panels the microkernels stream and
//                               marks the op with the kernel's name;
//   fovea-cpu-fuse-elementwise  (tensors) elementwise fusion that leaves the
//                               marked ops as they are;
//   fovea-cpu-call-microkernels (buffers) replaces each marked op by a call.
//
// A marked op is an ordinary linalg.generic over the packed B: if it is not
// replaced, it still computes the matmul (as loops).
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/CPU/Passes.h"

#include "Contractions.h"

#include "fovea/Runtime/Matmul.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::vision {
#define GEN_PASS_DEF_CPUPACKMATMULS
#define GEN_PASS_DEF_CPUFUSEELEMENTWISE
#define GEN_PASS_DEF_CPUCALLMICROKERNELS
#include "fovea/Codegen/CPU/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

/// Columns of one packed panel: the runtime's layout.
static constexpr int64_t kPanel = fovea::rt::kMatmulPanel;

namespace {
/// The element types a microkernel takes.
enum class KernelKind { F32, Bf16 };
} // namespace

/// The runtime's copy that packs B (Matmul.h).
static constexpr llvm::StringLiteral kPackSymbol = "fovea_pack_copy";

static StringRef kernelSymbol(KernelKind kind) {
  return kind == KernelKind::F32 ? "fovea_matmul_f32" : "fovea_matmul_bf16";
}

/// The kernel for `op`'s body: acc += x * w with f32 operands, or with bf16
/// operands extended to f32; none for anything else.
static std::optional<KernelKind> matchKernel(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  Value acc = body.getArgument(2);
  Value product = add.getLhs() == acc ? add.getRhs() : add.getLhs();
  if (add.getLhs() != acc && add.getRhs() != acc)
    return std::nullopt;
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return std::nullopt;
  unsigned extensions = 0;
  auto source = [&](Value v) {
    if (auto ext = v.getDefiningOp<arith::ExtFOp>()) {
      ++extensions;
      return ext.getIn();
    }
    return v;
  };
  Value lhs = source(mul.getLhs()), rhs = source(mul.getRhs());
  if (!((lhs == body.getArgument(0) && rhs == body.getArgument(1)) ||
        (lhs == body.getArgument(1) && rhs == body.getArgument(0))))
    return std::nullopt;
  // Nothing else in the body: extensions, multiply, add, yield.
  if (body.getOperations().size() != 3 + extensions)
    return std::nullopt;
  Type a = getElementTypeOrSelf(op.getDpsInputOperand(0)->get().getType());
  Type b = getElementTypeOrSelf(op.getDpsInputOperand(1)->get().getType());
  Type c = getElementTypeOrSelf(op.getDpsInitOperand(0)->get().getType());
  if (!c.isF32())
    return std::nullopt;
  if (a.isF32() && b.isF32() && extensions == 0)
    return KernelKind::F32;
  if (a.isBF16() && b.isBF16() && extensions == 2)
    return KernelKind::Bf16;
  return std::nullopt;
}

/// B[k, n] packed into panels: f32 [ceil(N/32), K, 32], bf16
/// [ceil(N/32), ceil(K/2), 32, 2] (zero-padded). When B is the transpose of
/// a [N, K] weight (the layout of linear layers), the panels are cut from
/// the weight's rows directly: one transposition instead of two.
static Value packWeights(OpBuilder &b, Location loc, Value weights,
                         KernelKind kind) {
  auto type = cast<RankedTensorType>(weights.getType());
  int64_t k = type.getDimSize(0), n = type.getDimSize(1);
  int64_t panels = llvm::divideCeil(n, kPanel);
  int64_t depth = kind == KernelKind::Bf16 ? llvm::divideCeil(k, 2) * 2 : k;
  Type element = type.getElementType();
  Value source = weights;
  bool rows = false;
  if (auto transpose = weights.getDefiningOp<linalg::TransposeOp>();
      transpose && transpose.getPermutation() == ArrayRef<int64_t>{1, 0}) {
    source = transpose.getInput();
    rows = true;
  }
  SmallVector<int64_t> paddedShape = {depth, panels * kPanel};
  if (rows)
    std::swap(paddedShape[0], paddedShape[1]);
  Value padded = source;
  if (depth != k || panels * kPanel != n) {
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(element));
    padded = tensor::createPadHighOp(
        RankedTensorType::get(paddedShape, element), source, zero,
        /*nofold=*/false, loc, b);
  }
  SmallVector<int64_t> expandedShape, packedShape, permutation;
  SmallVector<ReassociationIndices> groups;
  if (kind == KernelKind::F32) {
    packedShape = {panels, k, kPanel};
    if (rows) {
      // [N, K] -> [panels, 32, K] -> [panels, K, 32].
      expandedShape = {panels, kPanel, k};
      groups = {{0, 1}, {2}};
      permutation = {0, 2, 1};
    } else {
      // [K, N] -> [K, panels, 32] -> [panels, K, 32].
      expandedShape = {k, panels, kPanel};
      groups = {{0}, {1, 2}};
      permutation = {1, 0, 2};
    }
  } else {
    packedShape = {panels, depth / 2, kPanel, 2};
    if (rows) {
      // [N, K] -> [panels, 32, K/2, 2] -> [panels, K/2, 32, 2].
      expandedShape = {panels, kPanel, depth / 2, 2};
      groups = {{0, 1}, {2, 3}};
      permutation = {0, 2, 1, 3};
    } else {
      // [K, N] -> [K/2, 2, panels, 32] -> [panels, K/2, 32, 2].
      expandedShape = {depth / 2, 2, panels, kPanel};
      groups = {{0, 1}, {2, 3}};
      permutation = {2, 0, 3, 1};
    }
  }
  Value expanded = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(expandedShape, element), padded, groups);
  Value init = tensor::EmptyOp::create(b, loc, packedShape, element);
  auto pack = linalg::TransposeOp::create(b, loc, expanded, init, permutation);
  // Bufferized, the transposition becomes one call of the runtime's
  // threaded copy (fovea-cpu-call-microkernels).
  pack->setAttr(vision::kMicrokernelAttr, b.getStringAttr(kPackSymbol));
  return pack.getResult()[0];
}

/// w(k, n) read from the packed panels.
static AffineMap packedMap(MLIRContext *ctx, KernelKind kind) {
  AffineExpr m, k, n;
  bindDims(ctx, m, k, n);
  if (kind == KernelKind::F32)
    return AffineMap::get(3, 0, {n.floorDiv(kPanel), k, n % kPanel}, ctx);
  return AffineMap::get(
      3, 0, {n.floorDiv(kPanel), k.floorDiv(2), n % kPanel, k % 2}, ctx);
}

/// The loops of a patch contraction (`vision.patch_embed`,
/// `vision.tubelet_embed` lowered): `np` parallel loops then `nr` reduction
/// loops, the output indexed by the parallel loops in order, the weight by
/// the last parallel loop (the output channel o) and then the reductions in
/// order, the input by anything that does not involve o (patch
/// coordinates: `row * P + y`). nullopt for anything else, matmul-shaped
/// ops included (they are packed as they are).
static std::optional<std::pair<unsigned, unsigned>>
matchPatchContraction(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !op.hasPureTensorSemantics() || vision::isMatmulShaped(op) ||
      !matchKernel(op))
    return std::nullopt;
  SmallVector<utils::IteratorType> types = op.getIteratorTypesArray();
  unsigned loops = types.size(), parallel = 0;
  while (parallel < loops && types[parallel] == utils::IteratorType::parallel)
    ++parallel;
  unsigned reductions = loops - parallel;
  if (parallel < 2 || reductions < 1 ||
      llvm::any_of(
          ArrayRef(types).drop_front(parallel),
          [](auto t) { return t != utils::IteratorType::reduction; }))
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  MLIRContext *ctx = op.getContext();
  SmallVector<AffineExpr> outputs, weights;
  for (unsigned i = 0; i < parallel; ++i)
    outputs.push_back(getAffineDimExpr(i, ctx));
  weights.push_back(getAffineDimExpr(parallel - 1, ctx));
  for (unsigned i = parallel; i < loops; ++i)
    weights.push_back(getAffineDimExpr(i, ctx));
  if (maps[2] != AffineMap::get(loops, 0, outputs, ctx) ||
      maps[1] != AffineMap::get(loops, 0, weights, ctx) ||
      maps[0].isFunctionOfDim(parallel - 1))
    return std::nullopt;
  auto weight =
      cast<RankedTensorType>(op.getDpsInputOperand(1)->get().getType());
  if (!weight.hasStaticShape())
    return std::nullopt;
  return std::make_pair(parallel, reductions);
}

/// Rewrites a patch contraction as im2col + a matmul-shaped op: the patches
/// are copied into X [M, K] (M = the output's positions, K = a patch's
/// elements, in the weight's order), the weight [O, ...] is collapsed to
/// [O, K] and transposed to B [K, O], and acc [M, O] += X B is the op the
/// packing takes; the result is expanded back. The copy is a small part of
/// the work (K multiply-adds per element copied), and the weight's
/// reshaping is weight-only (hoisted to @init with its packing).
static linalg::GenericOp rewritePatchContraction(RewriterBase &rewriter,
                                                 linalg::GenericOp op,
                                                 unsigned parallel,
                                                 unsigned reductions) {
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  Value input = op.getDpsInputOperand(0)->get();
  Value weight = op.getDpsInputOperand(1)->get();
  Value init = op.getDpsInitOperand(0)->get();
  auto inputType = cast<RankedTensorType>(input.getType());
  auto weightType = cast<RankedTensorType>(weight.getType());
  auto initType = cast<RankedTensorType>(init.getType());
  unsigned loops = parallel + reductions, o = parallel - 1;

  // im2col over every loop but o: patches[p..., r...] = input[map(p, r)].
  SmallVector<AffineExpr> replacements;
  for (unsigned i = 0; i < loops; ++i)
    replacements.push_back(i == o ? getAffineConstantExpr(0, ctx)
                                  : getAffineDimExpr(i < o ? i : i - 1, ctx));
  AffineMap inputMap = op.getIndexingMapsArray()[0].replaceDimsAndSymbols(
      replacements, {}, loops - 1, 0);
  SmallVector<int64_t> patchShape;
  SmallVector<Value> dynamicSizes;
  for (unsigned i = 0; i < o; ++i) {
    patchShape.push_back(initType.getDimSize(i));
    if (initType.isDynamicDim(i))
      dynamicSizes.push_back(tensor::DimOp::create(rewriter, loc, init, i));
  }
  for (unsigned i = 1; i <= reductions; ++i)
    patchShape.push_back(weightType.getDimSize(i));
  Type element = inputType.getElementType();
  Value empty =
      tensor::EmptyOp::create(rewriter, loc, patchShape, element, dynamicSizes);
  SmallVector<utils::IteratorType> copyTypes(loops - 1,
                                             utils::IteratorType::parallel);
  auto patches = linalg::GenericOp::create(
      rewriter, loc, TypeRange{empty.getType()}, ValueRange{input},
      ValueRange{empty},
      ArrayRef<AffineMap>{inputMap,
                          AffineMap::getMultiDimIdentityMap(loops - 1, ctx)},
      copyTypes, [](OpBuilder &b, Location l, ValueRange args) {
        linalg::YieldOp::create(b, l, args[0]);
      });

  auto group = [](unsigned from, unsigned to) {
    ReassociationIndices indices;
    for (unsigned i = from; i < to; ++i)
      indices.push_back(i);
    return indices;
  };
  // X [M, K], W [O, K] -> B [K, O], acc [M, O].
  Value x = tensor::CollapseShapeOp::create(
      rewriter, loc, patches.getResult(0),
      SmallVector<ReassociationIndices>{group(0, o), group(o, loops - 1)});
  Value w = tensor::CollapseShapeOp::create(
      rewriter, loc, weight,
      SmallVector<ReassociationIndices>{group(0, 1), group(1, reductions + 1)});
  auto wType = cast<RankedTensorType>(w.getType());
  Value transposedInit = tensor::EmptyOp::create(
      rewriter, loc,
      ArrayRef<int64_t>{wType.getDimSize(1), wType.getDimSize(0)},
      wType.getElementType());
  Value b = linalg::TransposeOp::create(rewriter, loc, w, transposedInit,
                                        ArrayRef<int64_t>{1, 0})
                .getResult()[0];
  SmallVector<ReassociationIndices> outputGroups = {group(0, o),
                                                    group(o, parallel)};
  Value acc =
      tensor::CollapseShapeOp::create(rewriter, loc, init, outputGroups);
  AffineExpr m, k, n;
  bindDims(ctx, m, k, n);
  auto matmul = linalg::GenericOp::create(
      rewriter, loc, TypeRange{acc.getType()}, ValueRange{x, b},
      ValueRange{acc},
      ArrayRef<AffineMap>{AffineMap::get(3, 0, {m, k}, ctx),
                          AffineMap::get(3, 0, {k, n}, ctx),
                          AffineMap::get(3, 0, {m, n}, ctx)},
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                    utils::IteratorType::reduction,
                                    utils::IteratorType::parallel});
  rewriter.inlineRegionBefore(op.getRegion(), matmul.getRegion(),
                              matmul.getRegion().begin());
  Value result = tensor::ExpandShapeOp::create(
      rewriter, loc, initType, matmul.getResult(0), outputGroups);
  rewriter.replaceOp(op, result);
  return matmul;
}

namespace {
struct CpuPackMatmulsPass
    : vision::impl::CpuPackMatmulsBase<CpuPackMatmulsPass> {
  void runOnOperation() override {
    // Patch contractions first: they become matmul-shaped ops, which the
    // walk below packs.
    SmallVector<std::tuple<linalg::GenericOp, unsigned, unsigned>> patches;
    getOperation().walk([&](linalg::GenericOp op) {
      if (auto loops = matchPatchContraction(op))
        patches.push_back({op, loops->first, loops->second});
    });
    IRRewriter patchRewriter(&getContext());
    for (auto [op, parallel, reductions] : patches) {
      patchRewriter.setInsertionPoint(op);
      rewritePatchContraction(patchRewriter, op, parallel, reductions);
    }
    SmallVector<std::pair<linalg::GenericOp, KernelKind>> targets;
    getOperation().walk([&](linalg::GenericOp op) {
      if (!vision::isMatmulShaped(op))
        return;
      auto weights =
          cast<RankedTensorType>(op.getDpsInputOperand(1)->get().getType());
      if (!weights.hasStaticShape())
        return;
      if (std::optional<KernelKind> kind = matchKernel(op))
        targets.push_back({op, *kind});
    });
    IRRewriter rewriter(&getContext());
    for (auto [op, kind] : targets) {
      rewriter.setInsertionPoint(op);
      Location loc = op.getLoc();
      Value packed =
          packWeights(rewriter, loc, op.getDpsInputOperand(1)->get(), kind);
      SmallVector<AffineMap> maps = op.getIndexingMapsArray();
      maps[1] = packedMap(&getContext(), kind);
      auto packedOp = linalg::GenericOp::create(
          rewriter, loc, op.getResultTypes(),
          ValueRange{op.getDpsInputOperand(0)->get(), packed}, op.getDpsInits(),
          maps, op.getIteratorTypesArray());
      rewriter.inlineRegionBefore(op.getRegion(), packedOp.getRegion(),
                                  packedOp.getRegion().begin());
      packedOp->setAttr(vision::kMicrokernelAttr,
                        rewriter.getStringAttr(kernelSymbol(kind)));
      rewriter.replaceOp(op, packedOp.getResults());
    }
  }
};

struct CpuFuseElementwisePass
    : vision::impl::CpuFuseElementwiseBase<CpuFuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    // As linalg-fuse-elementwise-ops, but ops that call a microkernel keep
    // their operands.
    linalg::ControlFusionFn control = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      Operation *consumer = fused->getOwner();
      return producer && producer->hasOneUse() &&
             !consumer->hasAttr(vision::kMicrokernelAttr) &&
             !producer->hasAttr(vision::kMicrokernelAttr);
    };
    RewritePatternSet patterns(ctx);
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, control);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(
        patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, control);
    if (failed(applyPatternsGreedily(
            getOperation(), std::move(patterns),
            GreedyRewriteConfig().setUseTopDownTraversal())))
      return signalPassFailure();
  }
};

/// The address of a buffer's first element and its row stride; none when
/// its last dimension is not contiguous.
static std::optional<std::pair<Value, Value>>
rowMajorView(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<int64_t> staticStrides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(staticStrides, offset)) ||
      staticStrides.back() != 1)
    return std::nullopt;
  SmallVector<Value> strides;
  Value address = vision::bufferAddress(b, loc, buffer, strides);
  return std::make_pair(address, strides[0]);
}

/// Replaces a marked packing transposition of buffers by
/// fovea_pack_copy(src, dst, element bytes, sizes[4], strides[4]): the
/// destination's sizes, and for each of its dimensions the source's stride
/// along it. Ranks above 4 and non-contiguous destinations stay loops.
static void callPackCopy(OpBuilder &b, ModuleOp module,
                         linalg::TransposeOp op) {
  Value input = op.getInput(), init = op.getInit();
  auto initType = cast<MemRefType>(init.getType());
  int64_t rank = initType.getRank();
  if (rank > 4 || !initType.getLayout().isIdentity())
    return;
  Location loc = op.getLoc();
  b.setInsertionPoint(op);
  Type i64 = b.getI64Type();
  SmallVector<Value> inputStrides, initStrides;
  Value src = vision::bufferAddress(b, loc, input, inputStrides);
  Value dst = vision::bufferAddress(b, loc, init, initStrides);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> sizes, strides;
  for (int64_t i = 0; i < 4; ++i) {
    sizes.push_back(i < rank ? memref::DimOp::create(b, loc, init, i) : one);
    strides.push_back(i < rank ? inputStrides[op.getPermutation()[i]] : zero);
  }
  SmallVector<Value> args = {
      src, dst,
      arith::ConstantIndexOp::create(b, loc,
                                     initType.getElementTypeBitWidth() / 8)};
  llvm::append_range(args, sizes);
  llvm::append_range(args, strides);
  for (Value &arg : args)
    arg = arith::IndexCastOp::create(b, loc, i64, arg);
  func::FuncOp callee = vision::declareRuntimeFunction(
      b, module, kPackSymbol, SmallVector<Type>(args.size(), i64));
  func::CallOp::create(b, loc, callee, args);
  op.erase();
}

struct CpuCallMicrokernelsPass
    : vision::impl::CpuCallMicrokernelsBase<CpuCallMicrokernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::TransposeOp> packs;
    module.walk([&](linalg::TransposeOp op) {
      if (op->hasAttr(vision::kMicrokernelAttr) && op.hasPureBufferSemantics())
        packs.push_back(op);
    });
    OpBuilder packBuilder(&getContext());
    for (linalg::TransposeOp op : packs)
      callPackCopy(packBuilder, module, op);
    SmallVector<linalg::GenericOp> targets;
    module.walk([&](linalg::GenericOp op) {
      if (op->hasAttr(vision::kMicrokernelAttr) && op.hasPureBufferSemantics())
        targets.push_back(op);
    });
    OpBuilder b(&getContext());
    Type i64 = b.getI64Type();
    for (linalg::GenericOp op : targets) {
      auto symbol = op->getAttrOfType<StringAttr>(vision::kMicrokernelAttr);
      Location loc = op.getLoc();
      b.setInsertionPoint(op);
      Value a = op.getDpsInputOperand(0)->get();
      Value w = op.getDpsInputOperand(1)->get();
      Value c = op.getDpsInitOperand(0)->get();
      auto av = rowMajorView(b, loc, a);
      auto wv = rowMajorView(b, loc, w);
      auto cv = rowMajorView(b, loc, c);
      // A packed B is a whole, contiguous buffer.
      // Otherwise the op stays loops (a packed B is a whole buffer).
      if (!av || !wv || !cv ||
          !cast<MemRefType>(w.getType()).getLayout().isIdentity())
        continue;
      Value m = memref::DimOp::create(b, loc, c, 0);
      Value n = memref::DimOp::create(b, loc, c, 1);
      Value k = memref::DimOp::create(b, loc, a, 1);
      SmallVector<Value> args;
      for (Value v :
           {av->first, av->second, wv->first, cv->first, cv->second, m, n, k})
        args.push_back(arith::IndexCastOp::create(b, loc, i64, v));
      func::FuncOp callee = vision::declareRuntimeFunction(
          b, module, symbol, SmallVector<Type>(args.size(), i64));
      func::CallOp::create(b, loc, callee, args);
      op.erase();
    }
  }
};
} // namespace
