//===- VisionShapeInference.h - Result types of vision ops ------*- C++ -*-===//
//
// One shape function per `vision` op: it checks the op's numbered constraints
// on operand types and attribute values and returns the result type(s). The
// functions are shared by the ops' `inferReturnTypes` and their verifiers, so
// what a builder infers and what the verifier accepts cannot drift apart.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DIALECT_VISION_IR_VISIONSHAPEINFERENCE_H
#define FOVEA_DIALECT_VISION_IR_VISIONSHAPEINFERENCE_H

#include "fovea/Dialect/Vision/IR/VisionDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LLVM.h"
#include <optional>

namespace mlir::vision {

/// Produces the diagnostic a violated constraint is reported on; null means
/// "report nothing" (the caller only wants to know whether inference works).
using EmitErrorFn = function_ref<InFlightDiagnostic()>;

FailureOr<RankedTensorType> inferNormalizeType(EmitErrorFn emitError,
                                               Type input, ArrayRef<float> mean,
                                               ArrayRef<float> std);

FailureOr<RankedTensorType> inferResizeType(EmitErrorFn emitError, Type input,
                                            ArrayRef<int64_t> size,
                                            ResizeDomain domain);

FailureOr<RankedTensorType> inferPatchEmbedType(EmitErrorFn emitError,
                                                Type input, Type weight,
                                                int64_t patchSize,
                                                Type bias = {});

FailureOr<RankedTensorType> inferTubeletEmbedType(EmitErrorFn emitError,
                                                  Type frames, Type weight,
                                                  int64_t patchSize,
                                                  int64_t temporalPatchSize,
                                                  Type bias = {});

FailureOr<RankedTensorType> inferInterpPosEmbedType(EmitErrorFn emitError,
                                                    Type table,
                                                    ArrayRef<int64_t> grid);

FailureOr<RankedTensorType>
inferPrependTokensType(EmitErrorFn emitError, Type prefix, Type input,
                       std::optional<ArrayRef<int64_t>> segmentSizes);

FailureOr<RankedTensorType>
inferStripPrefixType(EmitErrorFn emitError, Type input, int64_t numPrefix,
                     std::optional<ArrayRef<int64_t>> segmentSizes);

FailureOr<RankedTensorType> inferLayerNormType(EmitErrorFn emitError,
                                               Type input, Type weight,
                                               Type bias, double epsilon);

FailureOr<RankedTensorType> inferRmsNormType(EmitErrorFn emitError, Type input,
                                             Type weight, double epsilon);

/// `bias` is null when the op has none.
FailureOr<RankedTensorType> inferLinearType(EmitErrorFn emitError, Type input,
                                            Type weight, Type bias);

/// `cuSeqlens` is null when the op has none.
FailureOr<RankedTensorType> inferAttentionType(EmitErrorFn emitError, Type q,
                                               Type k, Type v, Type cuSeqlens,
                                               int64_t numHeads, double scale);

FailureOr<RankedTensorType> inferPixelShuffleType(EmitErrorFn emitError,
                                                  Type input,
                                                  ArrayRef<int64_t> grid);

/// Result types of `vision.evs_prune`: the kept rows and the per-tubelet
/// counts.
struct EvsPruneTypes {
  RankedTensorType kept;
  RankedTensorType counts;
};
FailureOr<EvsPruneTypes> inferEvsPruneTypes(EmitErrorFn emitError, Type input,
                                            double rate);

} // namespace mlir::vision

#endif // FOVEA_DIALECT_VISION_IR_VISIONSHAPEINFERENCE_H
