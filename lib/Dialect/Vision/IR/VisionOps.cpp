//===- VisionOps.cpp - Vision dialect operations --------------------------===//
//
// Result-type inference and verifiers of the `vision` ops. Both call the
// shape functions of VisionShapeInference.cpp, through `computeResultType`,
// which reads operands and attributes from the op or from its adaptor; the
// verifier also checks the declared result types against the inferred ones.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/IR/VisionOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::vision;

/// Checks a declared result type against the inferred one, citing the
/// constraint that fixes it.
static LogicalResult verifyResultType(Operation *op, StringRef name,
                                      Type declared, Type inferred,
                                      StringRef constraint) {
  if (declared == inferred)
    return success();
  return op->emitOpError() << "expects " << name << " of type " << inferred
                           << ", got " << declared << " (" << constraint << ")";
}

/// Runs `fn(emitError)` with an emitter that reports on `location` (when set)
/// in the verifier's words, so builder misuse reads like invalid IR.
template <typename Fn>
static auto withInferenceErrors(std::optional<Location> location,
                                StringRef opName, Fn fn) {
  auto emit = [&] {
    return mlir::emitError(*location) << "'" << opName << "' op ";
  };
  return fn(location ? EmitErrorFn(emit) : EmitErrorFn());
}

/// `inferReturnTypes` of an op with one result.
template <typename OpTy>
static LogicalResult inferSingleResult(std::optional<Location> location,
                                       typename OpTy::Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> type = withInferenceErrors(
      location, OpTy::getOperationName(), [&](EmitErrorFn emitError) {
        return OpTy::computeResultType(emitError, adaptor);
      });
  if (failed(type))
    return failure();
  types.push_back(*type);
  return success();
}

/// `verify` of an op with one result whose type is fixed by `constraint`.
template <typename OpTy>
static LogicalResult verifySingleResult(OpTy op, StringRef constraint) {
  auto emitError = [&] { return op.emitOpError(); };
  FailureOr<RankedTensorType> type = OpTy::computeResultType(emitError, op);
  if (failed(type))
    return failure();
  return verifyResultType(op, "result", op.getType(), *type, constraint);
}

/// The type of an optional operand, or null.
static Type typeOrNull(Value value) { return value ? value.getType() : Type(); }

/// Defines `inferReturnTypes` and `verify` of a single-result op.
#define VISION_SINGLE_RESULT_OP(OP, RESULT_CONSTRAINT)                         \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *, std::optional<Location> location, Adaptor adaptor,        \
      SmallVectorImpl<Type> &types) {                                          \
    return inferSingleResult<OP>(location, adaptor, types);                    \
  }                                                                            \
  LogicalResult OP::verify() {                                                 \
    return verifySingleResult(*this, RESULT_CONSTRAINT);                       \
  }

//===----------------------------------------------------------------------===//
// Shape functions per op
//===----------------------------------------------------------------------===//

template <typename View>
FailureOr<RankedTensorType> NormalizeOp::computeResultType(EmitErrorFn e,
                                                           View view) {
  return inferNormalizeType(e, view.getInput().getType(), view.getMean(),
                            view.getStd());
}
VISION_SINGLE_RESULT_OP(NormalizeOp, "normalize_c4")

template <typename View>
FailureOr<RankedTensorType> ResizeOp::computeResultType(EmitErrorFn e,
                                                        View view) {
  return inferResizeType(e, view.getInput().getType(), view.getSize(),
                         view.getDomain());
}
VISION_SINGLE_RESULT_OP(ResizeOp, "resize_c4")

template <typename View>
FailureOr<RankedTensorType> PatchEmbedOp::computeResultType(EmitErrorFn e,
                                                            View view) {
  return inferPatchEmbedType(
      e, view.getInput().getType(), view.getWeight().getType(),
      static_cast<int64_t>(view.getPatchSize()), typeOrNull(view.getBias()));
}
VISION_SINGLE_RESULT_OP(PatchEmbedOp, "patch_embed_c5")

template <typename View>
FailureOr<RankedTensorType> TubeletEmbedOp::computeResultType(EmitErrorFn e,
                                                              View view) {
  return inferTubeletEmbedType(
      e, view.getFrames().getType(), view.getWeight().getType(),
      static_cast<int64_t>(view.getPatchSize()),
      static_cast<int64_t>(view.getTemporalPatchSize()),
      typeOrNull(view.getBias()));
}
VISION_SINGLE_RESULT_OP(TubeletEmbedOp, "tubelet_embed_c5")

template <typename View>
FailureOr<RankedTensorType> InterpPosEmbedOp::computeResultType(EmitErrorFn e,
                                                                View view) {
  return inferInterpPosEmbedType(e, view.getTable().getType(), view.getGrid());
}
VISION_SINGLE_RESULT_OP(InterpPosEmbedOp, "interp_pos_embed_c3")

template <typename View>
FailureOr<RankedTensorType> PrependTokensOp::computeResultType(EmitErrorFn e,
                                                               View view) {
  return inferPrependTokensType(e, view.getPrefix().getType(),
                                view.getInput().getType(),
                                view.getSegmentSizes());
}
VISION_SINGLE_RESULT_OP(PrependTokensOp, "prepend_tokens_c5")

template <typename View>
FailureOr<RankedTensorType> StripPrefixOp::computeResultType(EmitErrorFn e,
                                                             View view) {
  return inferStripPrefixType(e, view.getInput().getType(),
                              static_cast<int64_t>(view.getNumPrefix()),
                              view.getSegmentSizes());
}
VISION_SINGLE_RESULT_OP(StripPrefixOp, "strip_prefix_c4")

template <typename View>
FailureOr<RankedTensorType> LayerNormOp::computeResultType(EmitErrorFn e,
                                                           View view) {
  return inferLayerNormType(
      e, view.getInput().getType(), view.getWeight().getType(),
      view.getBias().getType(), view.getEpsilon().convertToDouble());
}
VISION_SINGLE_RESULT_OP(LayerNormOp, "layer_norm_c4")

template <typename View>
FailureOr<RankedTensorType> RmsNormOp::computeResultType(EmitErrorFn e,
                                                         View view) {
  return inferRmsNormType(e, view.getInput().getType(),
                          view.getWeight().getType(),
                          view.getEpsilon().convertToDouble());
}
VISION_SINGLE_RESULT_OP(RmsNormOp, "rms_norm_c4")

template <typename View>
FailureOr<RankedTensorType> LinearOp::computeResultType(EmitErrorFn e,
                                                        View view) {
  return inferLinearType(e, view.getInput().getType(),
                         view.getWeight().getType(),
                         typeOrNull(view.getBias()));
}
VISION_SINGLE_RESULT_OP(LinearOp, "linear_c5")

template <typename View>
FailureOr<RankedTensorType> AttentionOp::computeResultType(EmitErrorFn e,
                                                           View view) {
  return inferAttentionType(
      e, view.getQ().getType(), view.getK().getType(), view.getV().getType(),
      typeOrNull(view.getCuSeqlens()), static_cast<int64_t>(view.getNumHeads()),
      view.getScale().convertToDouble());
}
VISION_SINGLE_RESULT_OP(AttentionOp, "attention_c5")

template <typename View>
FailureOr<RankedTensorType> PixelShuffleOp::computeResultType(EmitErrorFn e,
                                                              View view) {
  return inferPixelShuffleType(e, view.getInput().getType(), view.getGrid());
}
VISION_SINGLE_RESULT_OP(PixelShuffleOp, "pixel_shuffle_c5")

//===----------------------------------------------------------------------===//
// EvsPruneOp
//===----------------------------------------------------------------------===//

LogicalResult EvsPruneOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> location,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  FailureOr<EvsPruneTypes> inferred = withInferenceErrors(
      location, getOperationName(), [&](EmitErrorFn emitError) {
        return inferEvsPruneTypes(emitError, adaptor.getInput().getType(),
                                  adaptor.getRate().convertToDouble());
      });
  if (failed(inferred))
    return failure();
  types.append({inferred->kept, inferred->counts});
  return success();
}

LogicalResult EvsPruneOp::verify() {
  auto emitError = [&] { return emitOpError(); };
  FailureOr<EvsPruneTypes> inferred = inferEvsPruneTypes(
      emitError, getInput().getType(), getRate().convertToDouble());
  if (failed(inferred) ||
      failed(verifyResultType(*this, "kept", getKept().getType(),
                              inferred->kept, "evs_prune_c3")))
    return failure();
  return verifyResultType(*this, "counts", getCounts().getType(),
                          inferred->counts, "evs_prune_c4");
}

#define GET_OP_CLASSES
#include "fovea/Dialect/Vision/IR/VisionOps.cpp.inc"

//===----------------------------------------------------------------------===//
// FusionGroupOp
//===----------------------------------------------------------------------===//

void FusionGroupOp::build(OpBuilder &builder, OperationState &state,
                          TypeRange resultTypes, StringRef name,
                          FusionRule rule) {
  state.addTypes(resultTypes);
  state.addAttribute(getNameAttrName(state.name), builder.getStringAttr(name));
  state.addAttribute(getRuleAttrName(state.name),
                     FusionRuleAttr::get(builder.getContext(), rule));
  Region *body = state.addRegion();
  body->push_back(new Block);
}

YieldOp FusionGroupOp::getYield() {
  return cast<YieldOp>(getBody().front().getTerminator());
}

LogicalResult FusionGroupOp::verify() {
  if (getName().empty())
    return emitOpError() << "expects a non-empty name (fusion_group_c1)";
  Block &body = getBody().front();
  if (body.getOperations().size() < 2)
    return emitOpError() << "expects at least one op besides the terminator "
                            "(fusion_group_c2)";
  if (getYield().getValues().getTypes() != getResultTypes())
    return emitOpError() << "expects the yielded types "
                         << getYield().getValues().getTypes()
                         << " to be the result types " << getResultTypes()
                         << " (fusion_group_c2)";
  if ((*this)->getParentOfType<FusionGroupOp>())
    return emitOpError() << "expects no enclosing fusion group, got '"
                         << (*this)->getParentOfType<FusionGroupOp>().getName()
                         << "' (fusion_group_c3)";
  for (Operation &op : body.without_terminator()) {
    if (isa<FusionGroupOp>(op))
      continue; // reported by the nested group (fusion_group_c3)
    if (!isMemoryEffectFree(&op))
      return emitOpError() << "expects ops free of memory effects, got '"
                           << op.getName() << "' (fusion_group_c4)";
  }
  return success();
}
