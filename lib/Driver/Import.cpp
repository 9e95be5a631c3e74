//===- Import.cpp - Building vision IR from a model config ----------------===//
//
// normalize -> patch/tubelet embedding -> + position embedding -> prefix
// tokens -> N pre-norm ViT blocks -> strip prefix -> pixel shuffle ->
// projector (RMSNorm, linear, ReLU^2, linear) -> optional EVS.
//
//===----------------------------------------------------------------------===//

#include "fovea/Driver/Import.h"

#include "fovea/Dialect/Vision/IR/VisionOps.h"
#include "fovea/Runtime/Checkpoint.h"
#include "fovea/Support/TokenGeometry.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/ErrorHandling.h"
#include <cmath>
#include <limits>

using namespace fovea;
using namespace mlir;
namespace rt = fovea::rt;

static constexpr llvm::StringLiteral kTower = "vision_model.radio_model.";

namespace {
/// A weight argument: its checkpoint name and shape.
struct WeightSpec {
  std::string name;
  SmallVector<int64_t> shape;
};

/// The resolved geometry of one compilation.
struct Geometry : InputGeometry {
  int64_t rows, cols, patches;
};
} // namespace

InputGeometry fovea::inputGeometry(const ModelConfig &c,
                                   const ImportOptions &o) {
  InputGeometry g;
  g.video = o.inputKind == InputKind::Video;
  g.temporal = g.video ? c.temporalPatchSize : 1;
  g.height = o.height ? o.height : c.imageSize;
  g.width = o.width ? o.width : c.imageSize;
  g.sourceHeight = o.sourceHeight ? o.sourceHeight : g.height;
  g.sourceWidth = o.sourceWidth ? o.sourceWidth : g.width;
  if (!o.packedSources.empty()) {
    // Each image at its §10.1 size for its share of the context.
    std::vector<Size> sizes;
    for (auto [h, w] : o.packedSources)
      sizes.push_back({w, h});
    std::optional<std::vector<int64_t>> budgets;
    if (o.maxModelLen > 0)
      budgets = dynamicResolutionBudgets(sizes, o.maxModelLen, o.promptTokens,
                                         c.minNumPatches, c.maxNumPatches,
                                         c.patchSize);
    else
      budgets = std::vector<int64_t>(
          sizes.size(), c.maxNumPatches > 0 ? c.maxNumPatches
                                            : std::numeric_limits<int>::max());
    for (auto [i, s] : llvm::enumerate(sizes)) {
      PackedImage image{s.height, s.width, 0, 0};
      if (budgets && s.width > 0 && s.height > 0) {
        PatchGrid grid = dynamicResolutionGrid(s.width, s.height, (*budgets)[i],
                                               c.minNumPatches, c.patchSize);
        image.height = grid.rows * c.patchSize;
        image.width = grid.columns * c.patchSize;
      }
      g.packed.push_back(image);
    }
    g.sourceHeight = g.packed[0].sourceHeight;
    g.sourceWidth = g.packed[0].sourceWidth;
    g.height = g.packed[0].height;
    g.width = g.packed[0].width;
    return g;
  }
  if (!o.sourceHeight || o.height || o.sourceWidth <= 0 || o.sourceHeight <= 0)
    return g;
  // The encoder's size follows from the source size.
  if (g.video) {
    if (c.videoTargetPatches > 0) {
      Size frame =
          videoFrameSize(o.sourceWidth, o.sourceHeight, c.videoTargetPatches,
                         c.videoMaintainAspect, c.patchSize);
      g.height = frame.height;
      g.width = frame.width;
    }
  } else if (c.dynamicResolution) {
    int64_t budget =
        c.maxNumPatches > 0 ? c.maxNumPatches : std::numeric_limits<int>::max();
    PatchGrid grid = dynamicResolutionGrid(
        o.sourceWidth, o.sourceHeight, budget, c.minNumPatches, c.patchSize);
    g.height = grid.rows * c.patchSize;
    g.width = grid.columns * c.patchSize;
  } else {
    TileGrid grid = internvlTiling(o.sourceWidth, o.sourceHeight, c.maxNumTiles,
                                   c.useThumbnail, c.imageSize);
    g.tileColumns = grid.columns;
    g.tileRows = grid.rows;
    g.thumbnail = grid.tiles > grid.columns * grid.rows;
  }
  return g;
}

static Geometry geometryOf(const ModelConfig &c, const ImportOptions &o) {
  Geometry g;
  static_cast<InputGeometry &>(g) = inputGeometry(c, o);
  g.rows = g.height / c.patchSize;
  g.cols = g.width / c.patchSize;
  g.patches = g.rows * g.cols;
  return g;
}

static std::vector<WeightSpec> weightSpecs(const ModelConfig &c,
                                           const Geometry &g) {
  std::string gen = (kTower + "model.patch_generator.").str();
  int64_t patchVec = 3 * c.patchSize * c.patchSize;
  std::vector<WeightSpec> specs;
  if (g.temporal > 1)
    specs.push_back(
        {gen + "video_embedder.weight", {c.width, g.temporal * patchVec}});
  else
    specs.push_back({gen + "embedder.weight", {c.width, patchVec}});
  specs.push_back(
      {gen + "pos_embed", {1, c.posEmbedSide * c.posEmbedSide, c.width}});
  specs.push_back({gen + "cls_token.token", {c.numPrefix, c.width}});
  for (int64_t i = 0; i < c.depth; ++i) {
    std::string b = (kTower + "model.blocks." + std::to_string(i) + ".").str();
    specs.push_back({b + "norm1.weight", {c.width}});
    specs.push_back({b + "norm1.bias", {c.width}});
    specs.push_back({b + "attn.qkv.weight", {3 * c.width, c.width}});
    specs.push_back({b + "attn.qkv.bias", {3 * c.width}});
    specs.push_back({b + "attn.proj.weight", {c.width, c.width}});
    specs.push_back({b + "attn.proj.bias", {c.width}});
    specs.push_back({b + "norm2.weight", {c.width}});
    specs.push_back({b + "norm2.bias", {c.width}});
    specs.push_back({b + "mlp.fc1.weight", {c.mlpHidden, c.width}});
    specs.push_back({b + "mlp.fc1.bias", {c.mlpHidden}});
    specs.push_back({b + "mlp.fc2.weight", {c.width, c.mlpHidden}});
    specs.push_back({b + "mlp.fc2.bias", {c.width}});
  }
  if (c.finalNorm) {
    specs.push_back({rt::kFinalNormWeight, {c.width}});
    specs.push_back({rt::kFinalNormBias, {c.width}});
  }
  specs.push_back({"mlp1.0.weight", {4 * c.width}});
  specs.push_back({"mlp1.1.weight", {c.projectorHidden, 4 * c.width}});
  specs.push_back({"mlp1.3.weight", {c.llmHidden, c.projectorHidden}});
  return specs;
}

/// Resizes the decoded `pixels` [N, 3, Hs, Ws] x ui8 to what the encoder
/// sees: [N, 3, H, W], or with InternVL tiling [N * units, 3, S, S] (the
/// tiles of each image row-major, then its thumbnail).
static Value preprocess(ImplicitLocOpBuilder &b, Value pixels,
                        const Geometry &g, const ImportOptions &o) {
  if (!g.resizes())
    return pixels;
  auto type = cast<RankedTensorType>(pixels.getType());
  auto domain = vision::ResizeDomain::u8;
  if (o.resizeDomain == ResizeDomain::F32Clamp) {
    // f32_clamp resizes f32 pixels in [0, 255]: widen the bytes first.
    domain = vision::ResizeDomain::f32_clamp;
    Value init = tensor::EmptyOp::create(
        b, type.clone(b.getF32Type()),
        ValueRange{tensor::DimOp::create(b, pixels, 0)});
    auto widen = linalg::MapOp::create(
        b, ValueRange{pixels}, init,
        [](OpBuilder &nb, Location nl, ValueRange args) {
          // arith works on signless integers; ui8 and i8 are both i8 in
          // LLVM, where the cast disappears.
          Value byte = UnrealizedConversionCastOp::create(
                           nb, nl, nb.getIntegerType(8), args[0])
                           .getResult(0);
          Value f = arith::UIToFPOp::create(nb, nl, nb.getF32Type(), byte);
          linalg::YieldOp::create(nb, nl, f);
        });
    pixels = widen.getResult()[0];
    type = cast<RankedTensorType>(pixels.getType());
  }
  auto resize = [&](int64_t height, int64_t width) -> Value {
    return vision::ResizeOp::create(b, pixels, ArrayRef<int64_t>{height, width},
                                    domain);
  };
  int64_t tiles = g.tileColumns * g.tileRows;
  if (tiles <= 1)
    return resize(g.height, g.width);

  // Tiles: resize the whole image to the grid, then cut it row-major.
  int64_t s = g.height, rows = g.tileRows, cols = g.tileColumns;
  int64_t dyn = ShapedType::kDynamic;
  Type element = type.getElementType();
  Value full = resize(rows * s, cols * s);
  Value grid = tensor::ExpandShapeOp::create(
      b, RankedTensorType::get({dyn, 3, rows, s, cols, s}, element), full,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}, {4, 5}});
  Value batch = tensor::DimOp::create(b, pixels, 0);
  Value perTile = tensor::EmptyOp::create(
      b, RankedTensorType::get({dyn, rows, cols, 3, s, s}, element),
      ValueRange{batch});
  Value ordered = linalg::TransposeOp::create(
                      b, grid, perTile, ArrayRef<int64_t>{0, 2, 4, 1, 3, 5})
                      .getResult()[0];
  Value cut = tensor::CollapseShapeOp::create(
      b, ordered,
      SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}, {5}});
  int64_t units = g.unitsPerImage();
  Value all = cut;
  if (g.thumbnail) {
    Value thumb = tensor::ExpandShapeOp::create(
        b, RankedTensorType::get({dyn, 1, 3, s, s}, element), resize(s, s),
        SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
    all = tensor::EmptyOp::create(
        b, RankedTensorType::get({dyn, units, 3, s, s}, element),
        ValueRange{batch});
    auto insert = [&](Value part, int64_t at, int64_t count) {
      SmallVector<OpFoldResult> offsets = {
          b.getIndexAttr(0), b.getIndexAttr(at), b.getIndexAttr(0),
          b.getIndexAttr(0), b.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes = {batch, b.getIndexAttr(count),
                                         b.getIndexAttr(3), b.getIndexAttr(s),
                                         b.getIndexAttr(s)};
      SmallVector<OpFoldResult> strides(5, b.getIndexAttr(1));
      all =
          tensor::InsertSliceOp::create(b, part, all, offsets, sizes, strides);
    };
    insert(cut, 0, tiles);
    insert(thumb, tiles, 1);
  }
  return tensor::CollapseShapeOp::create(
      b, all, SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
}

/// Checks the compiled geometry against the model.
static llvm::Error checkOptions(const ModelConfig &c, const ImportOptions &o,
                                const Geometry &g) {
  auto error = [](const llvm::Twine &message) {
    return llvm::createStringError(message.str().c_str());
  };
  if (!o.packedSources.empty()) {
    if (!c.dynamicResolution || g.video)
      return error("several source sizes pack images of different sizes, "
                   "which needs a dynamic-resolution image model "
                   "(min_num_patches in vision_config.args)");
    if (o.sourceHeight || o.height)
      return error("packed source sizes exclude a single source size and "
                   "--image-size (each image gets its own size)");
    for (auto [h, w] : o.packedSources)
      if (h <= 0 || w <= 0)
        return error("source size " + llvm::Twine(h) + "x" + llvm::Twine(w) +
                     " must be positive");
    if (o.evsRate > 0.0)
      return error("EVS (--evs-rate) applies to video input only");
    if (o.maxModelLen < 0 || o.promptTokens < 0)
      return error("the context length and prompt tokens must not be "
                   "negative");
    if (g.packed.front().height == 0)
      return error(
          "the images' patch budgets do not converge for a context of " +
          llvm::Twine(o.maxModelLen) + " tokens with " +
          llvm::Twine(o.promptTokens) + " prompt tokens (§10.1)");
    return llvm::Error::success();
  }
  if (o.maxModelLen || o.promptTokens)
    return error("the context length and prompt tokens set the budgets of "
                 "packed images only (several source sizes)");
  if (g.height <= 0 || g.width <= 0 || g.height % (2 * c.patchSize) ||
      g.width % (2 * c.patchSize))
    return error("image size " + llvm::Twine(g.height) + "x" +
                 llvm::Twine(g.width) + " must be a positive multiple of " +
                 llvm::Twine(2 * c.patchSize) +
                 " (patch size x pixel-shuffle factor) in both dimensions");
  if (!(o.evsRate >= 0.0 && o.evsRate < 1.0))
    return error("EVS rate " + llvm::Twine(std::to_string(o.evsRate)) +
                 " must be in [0, 1)");
  if (o.evsRate > 0.0 && !g.video)
    return error("EVS (--evs-rate) applies to video input only");
  if ((o.sourceHeight != 0) != (o.sourceWidth != 0) || o.sourceHeight < 0 ||
      o.sourceWidth < 0)
    return error("source size " + llvm::Twine(o.sourceHeight) + "x" +
                 llvm::Twine(o.sourceWidth) + " must be positive");
  return llvm::Error::success();
}

namespace {
/// Builds `@run` stage by stage: the signature, the embeddings, the ViT
/// blocks, the projector and the results. Weights are taken by their
/// checkpoint names (the `vision.weight` of their argument).
class RunBuilder {
public:
  RunBuilder(ImplicitLocOpBuilder &b, const ModelConfig &c,
             const ImportOptions &o, const Geometry &g);

  /// `func.func @run`: pixels (one argument per packed image), then the
  /// weights; the builder is left at the start of its body.
  void buildSignature();
  /// Input conditioning, patch (or tubelet) embedding and the position
  /// embedding of every input: `[B, L, C]`, or `[1, sum L_i, C]` packed.
  Value buildEmbeddings();
  /// The prefix tokens and the ViT blocks; packed images attend within
  /// their own segment (§5.4).
  Value buildEncoder(Value x);
  /// Back to patch tokens, 2x2 merge (per image), the projector (vLLM's
  /// rounding order), and the results (EVS-pruned for video with a rate).
  void buildProjectorAndResults(Value x);

private:
  /// The argument of the weight named `name`.
  Value weight(const llvm::Twine &name);
  /// Pixels `[B, 3, Hs, Ws] x ui8` -> patch embeddings `[B, L, C]`.
  Value embed(Value input, const Geometry &ig);
  /// The position embedding interpolated to a `rows x cols` grid.
  Value posEmbed(int64_t rows, int64_t cols);
  /// Packed images side by side on the token axis of one row (§3.5).
  Value embedPacked();
  /// One ViT block (pre-norm attention and MLP with residuals).
  Value buildBlock(Value x, int64_t index);

  ImplicitLocOpBuilder &b;
  const ModelConfig &c;
  const ImportOptions &o;
  const Geometry &g;
  Type element;
  bool packed;
  /// Patches per sequence, their grids (rows, cols per image) and total.
  SmallVector<int64_t> lengths, grids;
  int64_t patches = 0;
  func::FuncOp func;
  Block *body = nullptr;
  llvm::StringMap<Value> weights;
  /// The batch of the sequences (dynamic, or 1 when packed) and the packed
  /// segments.
  OpFoldResult batch;
  DenseI64ArrayAttr segments;
  /// Packed: the segment boundaries of the block-diagonal attention.
  Value cuSeqlens;
};
} // namespace

RunBuilder::RunBuilder(ImplicitLocOpBuilder &b, const ModelConfig &c,
                       const ImportOptions &o, const Geometry &g)
    : b(b), c(c), o(o), g(g),
      element(o.elementType == ElementType::BF16 ? Type(b.getBF16Type())
                                                 : Type(b.getF32Type())),
      packed(!g.packed.empty()) {
  // The sequences: one per batch row, or the packed images of one row.
  if (packed) {
    for (const PackedImage &image : g.packed) {
      int64_t rows = image.height / c.patchSize,
              cols = image.width / c.patchSize;
      lengths.push_back(rows * cols);
      grids.append({rows, cols});
    }
  } else {
    lengths.push_back(g.patches);
    grids.append({g.rows, g.cols});
  }
  for (int64_t l : lengths)
    patches += l;
}

static RankedTensorType tensorOf(ArrayRef<int64_t> shape, Type type) {
  return RankedTensorType::get(shape, type);
}

void RunBuilder::buildSignature() {
  int64_t dyn = ShapedType::kDynamic;
  std::vector<WeightSpec> specs = weightSpecs(c, g);
  auto u8 = IntegerType::get(b.getContext(), 8, IntegerType::Unsigned);
  SmallVector<Type> argTypes;
  if (packed)
    for (const PackedImage &image : g.packed)
      argTypes.push_back(
          tensorOf({1, 3, image.sourceHeight, image.sourceWidth}, u8));
  else
    argTypes.push_back(tensorOf({dyn, 3, g.sourceHeight, g.sourceWidth}, u8));
  unsigned numInputs = argTypes.size();
  for (const WeightSpec &spec : specs)
    argTypes.push_back(tensorOf(spec.shape, element));

  int64_t tokens = tokensOfPatches(patches);
  SmallVector<Type> resultTypes;
  if (g.video && o.evsRate > 0.0)
    resultTypes = {tensorOf({dyn, c.llmHidden}, element),
                   tensorOf({dyn}, b.getI64Type())};
  else if (packed)
    resultTypes = {tensorOf({tokens, c.llmHidden}, element)};
  else
    resultTypes = {tensorOf({dyn, tokens, c.llmHidden}, element)};
  func =
      func::FuncOp::create(b, "run", b.getFunctionType(argTypes, resultTypes));
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  for (auto [i, spec] : llvm::enumerate(specs))
    func.setArgAttr(i + numInputs,
                    vision::VisionDialect::WeightAttrHelper::getNameStr(),
                    b.getStringAttr(spec.name));
  body = func.addEntryBlock();
  for (auto [i, spec] : llvm::enumerate(specs))
    weights[spec.name] = body->getArgument(i + numInputs);
  b.setInsertionPointToStart(body);
}

Value RunBuilder::weight(const llvm::Twine &name) {
  Value value = weights.lookup(name.str());
  // The names come from weightSpecs, which made the arguments: a miss is a
  // bug of this builder, never of the input.
  if (!value)
    llvm::report_fatal_error("internal error: no argument for weight '" + name +
                             "'");
  return value;
}

Value RunBuilder::embed(Value input, const Geometry &ig) {
  std::string gen = (kTower + "model.patch_generator.").str();
  Value pixels = preprocess(b, input, ig, o);
  Value x = vision::NormalizeOp::create(b, pixels, c.normMean, c.normStd);
  if (!element.isF32())
    x = arith::TruncFOp::create(
        b, cast<RankedTensorType>(x.getType()).clone(element), x);
  if (ig.temporal > 1)
    return vision::TubeletEmbedOp::create(
               b, x, weight(gen + "video_embedder.weight"), /*bias=*/Value(),
               c.patchSize, ig.temporal)
        .getResult();
  return vision::PatchEmbedOp::create(b, x, weight(gen + "embedder.weight"),
                                      /*bias=*/Value(), c.patchSize)
      .getResult();
}

Value RunBuilder::posEmbed(int64_t rows, int64_t cols) {
  return vision::InterpPosEmbedOp::create(
      b, weight(kTower + "model.patch_generator.pos_embed"),
      ArrayRef<int64_t>{rows, cols},
      /*align_corners=*/false);
}

Value RunBuilder::embedPacked() {
  // Per image: its own resize, embedding and position embedding.
  Value x = tensor::EmptyOp::create(b, tensorOf({1, patches, c.width}, element),
                                    ValueRange{});
  int64_t offset = 0;
  for (auto [i, image] : llvm::enumerate(g.packed)) {
    Geometry ig = g;
    ig.packed.clear();
    ig.sourceHeight = image.sourceHeight;
    ig.sourceWidth = image.sourceWidth;
    ig.height = image.height;
    ig.width = image.width;
    Value one = arith::AddFOp::create(b, embed(body->getArgument(i), ig),
                                      posEmbed(grids[2 * i], grids[2 * i + 1]));
    SmallVector<OpFoldResult> offsets = {
        b.getIndexAttr(0), b.getIndexAttr(offset), b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {
        b.getIndexAttr(1), b.getIndexAttr(lengths[i]), b.getIndexAttr(c.width)};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    x = tensor::InsertSliceOp::create(b, one, x, offsets, sizes, strides);
    offset += lengths[i];
  }
  return x;
}

Value RunBuilder::buildEmbeddings() {
  Value zero = arith::ConstantIndexOp::create(b, 0);
  if (packed) {
    batch = b.getIndexAttr(1);
    return embedPacked();
  }
  Value embedded = embed(body->getArgument(0), g);
  // pos [1, L, C] -> broadcast over the batch and add.
  Value batchSize = tensor::DimOp::create(b, embedded, zero);
  Value pos2d = tensor::CollapseShapeOp::create(
      b, posEmbed(g.rows, g.cols),
      SmallVector<ReassociationIndices>{{0, 1}, {2}});
  Value posInit = tensor::EmptyOp::create(
      b, tensorOf({ShapedType::kDynamic, g.patches, c.width}, element),
      ValueRange{batchSize});
  Value posBatch =
      linalg::BroadcastOp::create(b, pos2d, posInit, ArrayRef<int64_t>{0})
          .getResult()[0];
  batch = batchSize;
  return arith::AddFOp::create(b, embedded, posBatch);
}

Value RunBuilder::buildBlock(Value x, int64_t index) {
  std::string p =
      (kTower + "model.blocks." + std::to_string(index) + ".").str();
  // The ops of block i carry the location "blocks.<i>"(model): passes keep
  // an op's location on what they lower it to, so the CPU pipeline can
  // still find the layer's code after bufferization (fovea-outline-layers).
  Location outer = b.getLoc();
  b.setLoc(
      NameLoc::get(b.getStringAttr("blocks." + std::to_string(index)), outer));
  auto restore = llvm::make_scope_exit([&] { b.setLoc(outer); });
  int64_t seq = patches + c.numPrefix * static_cast<int64_t>(lengths.size());
  auto seqType =
      tensorOf({packed ? 1 : ShapedType::kDynamic, seq, c.width}, element);
  Value h = vision::LayerNormOp::create(b, x, weight(p + "norm1.weight"),
                                        weight(p + "norm1.bias"),
                                        APFloat(c.layerNormEps));
  Value qkv = vision::LinearOp::create(b, h, weight(p + "attn.qkv.weight"),
                                       weight(p + "attn.qkv.bias"));
  auto part = [&](int64_t k) -> Value {
    SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0),
                                         b.getIndexAttr(k * c.width)};
    SmallVector<OpFoldResult> sizes = {batch, b.getIndexAttr(seq),
                                       b.getIndexAttr(c.width)};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    return tensor::ExtractSliceOp::create(b, seqType, qkv, offsets, sizes,
                                          strides);
  };
  double scale = 1.0 / std::sqrt(static_cast<double>(c.width / c.heads));
  Value attn = vision::AttentionOp::create(b, part(0), part(1), part(2),
                                           cuSeqlens, c.heads, APFloat(scale));
  Value proj = vision::LinearOp::create(b, attn, weight(p + "attn.proj.weight"),
                                        weight(p + "attn.proj.bias"));
  x = arith::AddFOp::create(b, x, proj);
  h = vision::LayerNormOp::create(b, x, weight(p + "norm2.weight"),
                                  weight(p + "norm2.bias"),
                                  APFloat(c.layerNormEps));
  Value fc1 = vision::LinearOp::create(b, h, weight(p + "mlp.fc1.weight"),
                                       weight(p + "mlp.fc1.bias"));
  Value act = vision::GeluOp::create(b, fc1, vision::GeluApproximation::none);
  Value fc2 = vision::LinearOp::create(b, act, weight(p + "mlp.fc2.weight"),
                                       weight(p + "mlp.fc2.bias"));
  return arith::AddFOp::create(b, x, fc2);
}

Value RunBuilder::buildEncoder(Value x) {
  segments = packed ? b.getDenseI64ArrayAttr(lengths) : DenseI64ArrayAttr();
  x = vision::PrependTokensOp::create(
      b, weight(kTower + "model.patch_generator.cls_token.token"), x, segments);
  if (packed) {
    SmallVector<int32_t> bounds = {0};
    for (int64_t l : lengths)
      bounds.push_back(bounds.back() + static_cast<int32_t>(l + c.numPrefix));
    auto type = tensorOf({static_cast<int64_t>(bounds.size())}, b.getI32Type());
    cuSeqlens = arith::ConstantOp::create(
        b, DenseElementsAttr::get(type, ArrayRef<int32_t>(bounds)));
  }
  for (int64_t i = 0; i < c.depth; ++i)
    x = buildBlock(x, i);
  // The final norm (§5.3) normalizes every token; the prefix is stripped
  // after it.
  if (c.finalNorm)
    x = vision::LayerNormOp::create(b, x, weight(rt::kFinalNormWeight),
                                    weight(rt::kFinalNormBias),
                                    APFloat(c.layerNormEps));
  return x;
}

void RunBuilder::buildProjectorAndResults(Value x) {
  x = vision::StripPrefixOp::create(b, x, c.numPrefix, segments);
  x = vision::PixelShuffleOp::create(b, x, grids,
                                     c.pixelShuffleV2
                                         ? vision::PixelShuffleVersion::v2
                                         : vision::PixelShuffleVersion::v1);
  x = vision::RmsNormOp::create(b, x, weight("mlp1.0.weight"),
                                APFloat(c.rmsNormEps),
                                vision::RmsNormWeightOrder::cast_then_scale);
  x = vision::LinearOp::create(b, x, weight("mlp1.1.weight"), Value());
  x = vision::Relu2Op::create(b, x);
  x = vision::LinearOp::create(b, x, weight("mlp1.3.weight"), Value());
  if (packed)
    x = tensor::CollapseShapeOp::create(
        b, x, SmallVector<ReassociationIndices>{{0, 1}, {2}});

  if (g.video && o.evsRate > 0.0) {
    auto prune = vision::EvsPruneOp::create(b, x, APFloat(o.evsRate));
    func::ReturnOp::create(b, prune.getResults());
  } else {
    func::ReturnOp::create(b, x);
  }
}

llvm::Expected<OwningOpRef<ModuleOp>>
fovea::importModel(MLIRContext &context, const ModelConfig &c,
                   const ImportOptions &o) {
  Geometry g = geometryOf(c, o);
  if (llvm::Error e = checkOptions(c, o, g))
    return std::move(e);
  context.loadDialect<vision::VisionDialect, func::FuncDialect,
                      arith::ArithDialect, tensor::TensorDialect,
                      linalg::LinalgDialect>();

  Location loc = FileLineColLoc::get(&context, c.name, 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  ImplicitLocOpBuilder b(loc, &context);
  b.setInsertionPointToEnd(module->getBody());
  RunBuilder run(b, c, o, g);
  run.buildSignature();
  Value x = run.buildEmbeddings();
  x = run.buildEncoder(x);
  run.buildProjectorAndResults(x);
  if (failed(verify(*module)))
    return llvm::createStringError("internal error: the imported module does "
                                   "not verify");
  return module;
}
