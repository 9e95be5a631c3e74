//===- VisionShapeInference.cpp - Result types of vision ops --------------===//
//
// The shape functions of the `vision` ops. Each checks the op's numbered
// constraints (IDs as in VisionOps.td) and computes the result type(s); the
// verifiers and `inferReturnTypes` both call them.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/IR/VisionShapeInference.h"

#include "fovea/Support/TokenGeometry.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>
#include <numeric>

using namespace mlir;
using namespace mlir::vision;

namespace {
/// Reports a violated constraint `id` (when diagnostics are wanted) and
/// returns failure: `fail("op_c1") << "expects ..."`.
class ConstraintError {
public:
  ConstraintError(EmitErrorFn emitError, StringRef id) : id(id) {
    if (emitError)
      diag.emplace(emitError());
  }
  ConstraintError(ConstraintError &&) = default;
  ~ConstraintError() {
    if (diag)
      *diag << " (" << id << ")";
  }
  template <typename T> ConstraintError &&operator<<(T &&value) && {
    if (diag)
      *diag << std::forward<T>(value);
    return std::move(*this);
  }
  operator LogicalResult() const { return failure(); }
  template <typename T> operator FailureOr<T>() const { return failure(); }

private:
  std::optional<InFlightDiagnostic> diag;
  StringRef id;
};
} // namespace

/// Formats a list of integers as `[a, b, c]` for diagnostics.
static std::string formatList(ArrayRef<int64_t> values) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << '[';
  llvm::interleaveComma(values, os);
  os << ']';
  return text;
}

/// True when every dimension of `type` from `firstStatic` on is static.
static bool hasStaticTail(RankedTensorType type, unsigned firstStatic) {
  return llvm::none_of(type.getShape().drop_front(firstStatic),
                       ShapedType::isDynamic);
}

FailureOr<RankedTensorType> vision::inferNormalizeType(EmitErrorFn emitError,
                                                       Type input,
                                                       ArrayRef<float> mean,
                                                       ArrayRef<float> std) {
  auto type = dyn_cast<RankedTensorType>(input);
  if (!type)
    return failure();
  if (type.getRank() != 4 || !hasStaticTail(type, 1))
    return ConstraintError(emitError, "normalize_c1")
           << "expects input of rank 4 (N, C, H, W) with static C, H and W, "
              "got "
           << input;
  int64_t channels = type.getDimSize(1);
  if (static_cast<int64_t>(mean.size()) != channels ||
      static_cast<int64_t>(std.size()) != channels)
    return ConstraintError(emitError, "normalize_c2")
           << "expects one mean and one std entry per channel (" << channels
           << "), got " << mean.size() << " mean and " << std.size()
           << " std entries";
  for (auto [index, value] : llvm::enumerate(std))
    if (!std::isfinite(value) || value == 0.0f)
      return ConstraintError(emitError, "normalize_c3")
             << "expects finite non-zero std entries, got std[" << index
             << "] = " << value;
  return RankedTensorType::get(type.getShape(),
                               Float32Type::get(input.getContext()));
}

FailureOr<RankedTensorType> vision::inferResizeType(EmitErrorFn emitError,
                                                    Type input,
                                                    ArrayRef<int64_t> size,
                                                    ResizeDomain domain) {
  auto type = dyn_cast<RankedTensorType>(input);
  if (!type)
    return failure();
  if (type.getRank() != 4 || !hasStaticTail(type, 1) ||
      type.getDimSize(2) <= 0 || type.getDimSize(3) <= 0)
    return ConstraintError(emitError, "resize_c1")
           << "expects input of rank 4 (N, C, H, W) with static C and "
              "positive static H and W, got "
           << input;
  if (size.size() != 2 || size[0] <= 0 || size[1] <= 0)
    return ConstraintError(emitError, "resize_c2")
           << "expects size to be two positive entries [H, W], got "
           << formatList(size);
  Type element = type.getElementType();
  bool domainMatches = domain == ResizeDomain::u8 ? element.isUnsignedInteger(8)
                                                  : element.isF32();
  if (!domainMatches)
    return ConstraintError(emitError, "resize_c3")
           << "expects " << (domain == ResizeDomain::u8 ? "ui8" : "f32")
           << " pixels for domain '" << stringifyResizeDomain(domain)
           << "', got " << element;
  return RankedTensorType::get(
      {type.getDimSize(0), type.getDimSize(1), size[0], size[1]}, element);
}

/// Checks the (N|F, C, H, W) input and [D, K] weight of the patch and tubelet
/// embeddings (constraints c1 to c4 of both ops, with `op` naming them).
/// Returns {H/P * W/P, D}.
static FailureOr<std::pair<int64_t, int64_t>>
checkEmbedding(EmitErrorFn emitError, StringRef op, RankedTensorType input,
               RankedTensorType weight, int64_t patchSize,
               int64_t temporalPatchSize) {
  std::string c1 = (op + "_c1").str(), c2 = (op + "_c2").str(),
              c3 = (op + "_c3").str(), c4 = (op + "_c4").str();
  if (input.getRank() != 4 || !hasStaticTail(input, 1))
    return ConstraintError(emitError, c1)
           << "expects input of rank 4 with static channel and spatial "
              "dimensions, got "
           << input;
  if (weight.getRank() != 2 || !weight.hasStaticShape())
    return ConstraintError(emitError, c1)
           << "expects a static weight of rank 2 [D, K], got " << weight;
  if (patchSize <= 0)
    return ConstraintError(emitError, c2)
           << "expects a positive patch_size, got " << patchSize;
  if (temporalPatchSize <= 0)
    return ConstraintError(emitError, c2)
           << "expects a positive temporal_patch_size, got "
           << temporalPatchSize;
  int64_t height = input.getDimSize(2), width = input.getDimSize(3);
  if (height % patchSize != 0 || width % patchSize != 0)
    return ConstraintError(emitError, c2)
           << "expects patch_size " << patchSize
           << " to divide the spatial size " << height << "x" << width;
  int64_t columns =
      temporalPatchSize * input.getDimSize(1) * patchSize * patchSize;
  if (weight.getDimSize(1) != columns)
    return ConstraintError(emitError, c3)
           << "expects a weight with " << columns << " columns, got " << weight;
  if (input.getElementType() != weight.getElementType())
    return ConstraintError(emitError, c4)
           << "expects input and weight of one element type, got "
           << input.getElementType() << " and " << weight.getElementType();
  return std::make_pair((height / patchSize) * (width / patchSize),
                        weight.getDimSize(0));
}

/// Checks the optional bias of the embeddings (constraint c6): [D], of the
/// input's element type.
static LogicalResult checkEmbeddingBias(EmitErrorFn emitError, StringRef op,
                                        RankedTensorType input, Type bias,
                                        int64_t width) {
  if (!bias)
    return success();
  std::string c6 = (op + "_c6").str();
  auto type = dyn_cast<RankedTensorType>(bias);
  if (!type)
    return failure();
  if (type.getRank() != 1 || type.getDimSize(0) != width)
    return ConstraintError(emitError, c6)
           << "expects bias of shape [" << width << "], got " << bias;
  if (type.getElementType() != input.getElementType())
    return ConstraintError(emitError, c6)
           << "expects a bias of element type " << input.getElementType()
           << ", got " << type.getElementType();
  return success();
}

FailureOr<RankedTensorType> vision::inferPatchEmbedType(EmitErrorFn emitError,
                                                        Type input, Type weight,
                                                        int64_t patchSize,
                                                        Type bias) {
  auto inputType = dyn_cast<RankedTensorType>(input);
  auto weightType = dyn_cast<RankedTensorType>(weight);
  if (!inputType || !weightType)
    return failure();
  auto dims = checkEmbedding(emitError, "patch_embed", inputType, weightType,
                             patchSize, /*temporalPatchSize=*/1);
  if (failed(dims) || failed(checkEmbeddingBias(emitError, "patch_embed",
                                                inputType, bias, dims->second)))
    return failure();
  return RankedTensorType::get(
      {inputType.getDimSize(0), dims->first, dims->second},
      inputType.getElementType());
}

FailureOr<RankedTensorType>
vision::inferTubeletEmbedType(EmitErrorFn emitError, Type frames, Type weight,
                              int64_t patchSize, int64_t temporalPatchSize,
                              Type bias) {
  auto framesType = dyn_cast<RankedTensorType>(frames);
  auto weightType = dyn_cast<RankedTensorType>(weight);
  if (!framesType || !weightType)
    return failure();
  int64_t numFrames = framesType.getRank() > 0 ? framesType.getDimSize(0) : 0;
  if (framesType.getRank() == 4 && !ShapedType::isDynamic(numFrames) &&
      numFrames <= 0)
    return ConstraintError(emitError, "tubelet_embed_c1")
           << "expects at least one frame, got " << frames;
  auto dims = checkEmbedding(emitError, "tubelet_embed", framesType, weightType,
                             patchSize, temporalPatchSize);
  if (failed(dims) ||
      failed(checkEmbeddingBias(emitError, "tubelet_embed", framesType, bias,
                                dims->second)))
    return failure();
  int64_t numTubelets = ShapedType::isDynamic(numFrames)
                            ? ShapedType::kDynamic
                            : llvm::divideCeil(numFrames, temporalPatchSize);
  return RankedTensorType::get({numTubelets, dims->first, dims->second},
                               framesType.getElementType());
}

FailureOr<RankedTensorType>
vision::inferInterpPosEmbedType(EmitErrorFn emitError, Type table,
                                ArrayRef<int64_t> grid) {
  auto type = dyn_cast<RankedTensorType>(table);
  if (!type)
    return failure();
  if (type.getRank() != 3 || !type.hasStaticShape() || type.getDimSize(0) != 1)
    return ConstraintError(emitError, "interp_pos_embed_c1")
           << "expects a static table of shape [1, R*R, C], got " << table;
  int64_t rows = type.getDimSize(1);
  auto side = static_cast<int64_t>(std::llround(std::sqrt(rows)));
  if (rows <= 0 || side * side != rows)
    return ConstraintError(emitError, "interp_pos_embed_c1")
           << "expects the table's row count to be a positive perfect square, "
              "got "
           << rows;
  if (grid.size() != 2 || grid[0] <= 0 || grid[1] <= 0)
    return ConstraintError(emitError, "interp_pos_embed_c2")
           << "expects grid to be two positive entries [h, w], got "
           << formatList(grid);
  return RankedTensorType::get({1, grid[0] * grid[1], type.getDimSize(2)},
                               type.getElementType());
}

/// Checks optional `segment_sizes` against a token count `tokens` (after
/// removing `prefixPerSegment` rows per segment): entries positive and
/// summing to it. Returns the number of segments.
static FailureOr<int64_t>
checkSegments(EmitErrorFn emitError, StringRef id,
              std::optional<ArrayRef<int64_t>> segmentSizes, int64_t tokens,
              int64_t prefixPerSegment) {
  if (!segmentSizes)
    return 1;
  ArrayRef<int64_t> sizes = *segmentSizes;
  if (sizes.empty() || llvm::any_of(sizes, [](int64_t s) { return s <= 0; }))
    return ConstraintError(emitError, id)
           << "expects non-empty positive segment_sizes, got "
           << formatList(sizes);
  int64_t sum = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
  int64_t expected =
      sum + prefixPerSegment * static_cast<int64_t>(sizes.size());
  if (expected != tokens)
    return ConstraintError(emitError, id)
           << "expects segment_sizes " << formatList(sizes)
           << (prefixPerSegment ? " plus the prefix of each segment" : "")
           << " to cover the " << tokens << " tokens, got " << expected;
  return static_cast<int64_t>(sizes.size());
}

FailureOr<RankedTensorType>
vision::inferPrependTokensType(EmitErrorFn emitError, Type prefix, Type input,
                               std::optional<ArrayRef<int64_t>> segmentSizes) {
  auto prefixType = dyn_cast<RankedTensorType>(prefix);
  auto inputType = dyn_cast<RankedTensorType>(input);
  if (!prefixType || !inputType)
    return failure();
  if (prefixType.getRank() != 2 || !prefixType.hasStaticShape())
    return ConstraintError(emitError, "prepend_tokens_c1")
           << "expects a static prefix of rank 2 [S, C], got " << prefix;
  if (inputType.getRank() != 3 || !hasStaticTail(inputType, 1))
    return ConstraintError(emitError, "prepend_tokens_c1")
           << "expects input of rank 3 [B, L, C] with static L and C, got "
           << input;
  if (prefixType.getDimSize(1) != inputType.getDimSize(2))
    return ConstraintError(emitError, "prepend_tokens_c2")
           << "expects prefix and input with the same channel count, got "
           << prefixType.getDimSize(1) << " and " << inputType.getDimSize(2);
  if (prefixType.getElementType() != inputType.getElementType())
    return ConstraintError(emitError, "prepend_tokens_c3")
           << "expects prefix and input of one element type, got "
           << prefixType.getElementType() << " and "
           << inputType.getElementType();
  FailureOr<int64_t> numSegments =
      checkSegments(emitError, "prepend_tokens_c4", segmentSizes,
                    inputType.getDimSize(1), /*prefixPerSegment=*/0);
  if (failed(numSegments))
    return failure();
  return RankedTensorType::get(
      {inputType.getDimSize(0),
       inputType.getDimSize(1) + *numSegments * prefixType.getDimSize(0),
       inputType.getDimSize(2)},
      inputType.getElementType());
}

FailureOr<RankedTensorType>
vision::inferStripPrefixType(EmitErrorFn emitError, Type input,
                             int64_t numPrefix,
                             std::optional<ArrayRef<int64_t>> segmentSizes) {
  auto type = dyn_cast<RankedTensorType>(input);
  if (!type)
    return failure();
  if (type.getRank() != 3 || !hasStaticTail(type, 1))
    return ConstraintError(emitError, "strip_prefix_c1")
           << "expects input of rank 3 [B, L, C] with static L and C, got "
           << input;
  if (numPrefix < 0)
    return ConstraintError(emitError, "strip_prefix_c2")
           << "expects a non-negative num_prefix, got " << numPrefix;
  int64_t tokens = type.getDimSize(1);
  if (!segmentSizes && tokens < numPrefix)
    return ConstraintError(emitError, "strip_prefix_c3")
           << "expects at least num_prefix = " << numPrefix << " tokens, got "
           << tokens;
  FailureOr<int64_t> numSegments = checkSegments(
      emitError, "strip_prefix_c3", segmentSizes, tokens, numPrefix);
  if (failed(numSegments))
    return failure();
  return RankedTensorType::get({type.getDimSize(0),
                                tokens - *numSegments * numPrefix,
                                type.getDimSize(2)},
                               type.getElementType());
}

/// Checks an activation [.., D] with only the leading dimension dynamic and
/// returns D.
static FailureOr<int64_t> checkActivation(EmitErrorFn emitError, StringRef id,
                                          RankedTensorType type) {
  if (type.getRank() < 2 || !hasStaticTail(type, 1))
    return ConstraintError(emitError, id)
           << "expects input of rank >= 2 with only the leading dimension "
              "dynamic, got "
           << Type(type);
  return type.getShape().back();
}

/// Checks that `param` (a norm weight or bias, or a linear bias) is [size].
static LogicalResult checkVector(EmitErrorFn emitError, StringRef id,
                                 StringRef name, Type param, int64_t size) {
  auto type = dyn_cast<RankedTensorType>(param);
  if (!type)
    return failure();
  if (type.getRank() != 1 || type.getDimSize(0) != size)
    return ConstraintError(emitError, id)
           << "expects " << name << " of shape [" << size << "], got " << param;
  return success();
}

/// Checks that all `types` have the element type of the first.
static LogicalResult checkSameElementType(EmitErrorFn emitError, StringRef id,
                                          ArrayRef<Type> types) {
  Type element = getElementTypeOrSelf(types.front());
  for (Type type : types.drop_front())
    if (getElementTypeOrSelf(type) != element)
      return ConstraintError(emitError, id)
             << "expects operands of one element type, got " << element
             << " and " << getElementTypeOrSelf(type);
  return success();
}

static LogicalResult checkEpsilon(EmitErrorFn emitError, StringRef id,
                                  double epsilon) {
  if (!std::isfinite(epsilon) || epsilon <= 0.0)
    return ConstraintError(emitError, id)
           << "expects a finite positive epsilon, got " << epsilon;
  return success();
}

FailureOr<RankedTensorType> vision::inferLayerNormType(EmitErrorFn emitError,
                                                       Type input, Type weight,
                                                       Type bias,
                                                       double epsilon) {
  auto type = dyn_cast<RankedTensorType>(input);
  if (!type)
    return failure();
  FailureOr<int64_t> dim = checkActivation(emitError, "layer_norm_c1", type);
  if (failed(dim) ||
      failed(checkVector(emitError, "layer_norm_c2", "weight", weight, *dim)) ||
      failed(checkVector(emitError, "layer_norm_c2", "bias", bias, *dim)) ||
      failed(checkEpsilon(emitError, "layer_norm_c3", epsilon)) ||
      failed(checkSameElementType(emitError, "layer_norm_c4",
                                  {input, weight, bias})))
    return failure();
  return type;
}

FailureOr<RankedTensorType> vision::inferRmsNormType(EmitErrorFn emitError,
                                                     Type input, Type weight,
                                                     double epsilon) {
  auto type = dyn_cast<RankedTensorType>(input);
  if (!type)
    return failure();
  FailureOr<int64_t> dim = checkActivation(emitError, "rms_norm_c1", type);
  if (failed(dim) ||
      failed(checkVector(emitError, "rms_norm_c2", "weight", weight, *dim)) ||
      failed(checkEpsilon(emitError, "rms_norm_c3", epsilon)) ||
      failed(checkSameElementType(emitError, "rms_norm_c4", {input, weight})))
    return failure();
  return type;
}

FailureOr<RankedTensorType> vision::inferLinearType(EmitErrorFn emitError,
                                                    Type input, Type weight,
                                                    Type bias) {
  auto type = dyn_cast<RankedTensorType>(input);
  auto weightType = dyn_cast<RankedTensorType>(weight);
  if (!type || !weightType)
    return failure();
  FailureOr<int64_t> inFeatures = checkActivation(emitError, "linear_c1", type);
  if (failed(inFeatures))
    return failure();
  if (weightType.getRank() != 2 || !weightType.hasStaticShape())
    return ConstraintError(emitError, "linear_c1")
           << "expects a static weight of rank 2 [N, K], got " << weight;
  if (weightType.getDimSize(1) != *inFeatures)
    return ConstraintError(emitError, "linear_c2")
           << "expects a weight with " << *inFeatures
           << " columns (the input's last dimension), got " << weight;
  int64_t outFeatures = weightType.getDimSize(0);
  SmallVector<Type, 3> operands = {input, weight};
  if (bias) {
    if (failed(checkVector(emitError, "linear_c3", "bias", bias, outFeatures)))
      return failure();
    operands.push_back(bias);
  }
  if (failed(checkSameElementType(emitError, "linear_c4", operands)))
    return failure();
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = outFeatures;
  return RankedTensorType::get(shape, type.getElementType());
}

FailureOr<RankedTensorType>
vision::inferAttentionType(EmitErrorFn emitError, Type q, Type k, Type v,
                           Type cuSeqlens, int64_t numHeads, double scale) {
  auto type = dyn_cast<RankedTensorType>(q);
  if (!type)
    return failure();
  if (k != q || v != q)
    return ConstraintError(emitError, "attention_c1")
           << "expects q, k and v of the same type, got " << q << ", " << k
           << " and " << v;
  if (type.getRank() != 3 || !hasStaticTail(type, 1))
    return ConstraintError(emitError, "attention_c1")
           << "expects q, k and v of rank 3 [B, L, E] with static L and E, "
              "got "
           << q;
  int64_t width = type.getDimSize(2);
  if (numHeads <= 0 || width % numHeads != 0)
    return ConstraintError(emitError, "attention_c2")
           << "expects num_heads to be positive and divide the width " << width
           << ", got " << numHeads;
  if (!std::isfinite(scale) || scale <= 0.0)
    return ConstraintError(emitError, "attention_c3")
           << "expects a finite positive scale, got " << scale;
  if (cuSeqlens) {
    auto segType = dyn_cast<RankedTensorType>(cuSeqlens);
    if (!segType)
      return failure();
    if (segType.getRank() != 1 ||
        (!segType.isDynamicDim(0) && segType.getDimSize(0) < 2))
      return ConstraintError(emitError, "attention_c4")
             << "expects cu_seqlens of rank 1 with at least 2 entries, got "
             << cuSeqlens;
  }
  return type;
}

FailureOr<RankedTensorType>
vision::inferPixelShuffleType(EmitErrorFn emitError, Type input,
                              ArrayRef<int64_t> grid) {
  auto type = dyn_cast<RankedTensorType>(input);
  if (!type)
    return failure();
  if (type.getRank() != 3 || !hasStaticTail(type, 1))
    return ConstraintError(emitError, "pixel_shuffle_c1")
           << "expects input of rank 3 [N, L, C] with static L and C, got "
           << input;
  if (grid.empty() || grid.size() % 2 != 0 ||
      llvm::any_of(grid, [](int64_t s) { return s <= 0; }))
    return ConstraintError(emitError, "pixel_shuffle_c2")
           << "expects grid to be a non-empty list of positive [h, w] pairs, "
              "got "
           << formatList(grid);
  int64_t tokens = 0;
  for (size_t i = 0; i < grid.size(); i += 2) {
    int64_t height = grid[i], width = grid[i + 1];
    if (height % 2 != 0 || width % 2 != 0)
      return ConstraintError(emitError, "pixel_shuffle_c3")
             << "expects even grid sizes, got " << height << "x" << width
             << " for image " << i / 2;
    tokens += height * width;
  }
  if (tokens != type.getDimSize(1))
    return ConstraintError(emitError, "pixel_shuffle_c4")
           << "expects the grid " << formatList(grid) << " to cover the "
           << type.getDimSize(1) << " tokens, got " << tokens;
  return RankedTensorType::get(
      {type.getDimSize(0), type.getDimSize(1) / 4, type.getDimSize(2) * 4},
      type.getElementType());
}

FailureOr<EvsPruneTypes> vision::inferEvsPruneTypes(EmitErrorFn emitError,
                                                    Type input, double rate) {
  auto type = dyn_cast<RankedTensorType>(input);
  if (!type)
    return failure();
  if (type.getRank() != 3 || !hasStaticTail(type, 1) ||
      (!type.isDynamicDim(0) && type.getDimSize(0) <= 0) ||
      type.getDimSize(1) <= 0)
    return ConstraintError(emitError, "evs_prune_c1")
           << "expects input of rank 3 [nt, L, D] with static L > 0 and D and "
              "nt > 0, got "
           << input;
  if (!(rate >= 0.0 && rate < 1.0))
    return ConstraintError(emitError, "evs_prune_c2")
           << "expects a rate in [0, 1), got " << rate;
  int64_t numTubelets = type.getDimSize(0);
  int64_t tokensPerTubelet = type.getDimSize(1);
  int64_t kept = ShapedType::kDynamic;
  if (!type.isDynamicDim(0)) {
    std::optional<int64_t> count =
        fovea::evsRetainedTokenCount(tokensPerTubelet, numTubelets, rate);
    if (!count)
      return ConstraintError(emitError, "evs_prune_c1")
             << "expects a token count that fits in 64 bits, got "
             << numTubelets << " x " << tokensPerTubelet;
    kept = *count;
  }
  MLIRContext *ctx = input.getContext();
  return EvsPruneTypes{
      RankedTensorType::get({kept, type.getDimSize(2)}, type.getElementType()),
      RankedTensorType::get({numTubelets}, IntegerType::get(ctx, 64))};
}
