//===- VisionBase.td - Vision dialect definition and enums -*- tablegen -*-===//
//
// The `vision` dialect, its op base class and the enum attributes that pick
// between the numerical variants listed in the reference semantics.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DIALECT_VISION_IR_VISIONBASE_TD
#define FOVEA_DIALECT_VISION_IR_VISIONBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Vision_Dialect : Dialect {
  let name = "vision";
  let cppNamespace = "::mlir::vision";
  let summary = "Ops of the vision side of video-language models";
  let description = [{
    The `vision` dialect models the vision encoder of the Nemotron Nano VL /
    Nemotron Omni family: input conditioning and resizing, RADIO patch and
    tubelet embedding, position-embedding interpolation, prefix tokens, the
    pre-norm ViT block (LayerNorm, linear, GELU, attention), pixel shuffle, the
    projector MLP (RMSNorm, linear, squared ReLU) and EVS video-token pruning.

    Ops work on ranked tensors. Spatial sizes are static per compiled
    resolution; only the leading batch/frame/tubelet dimension may be dynamic.
    The numerics of every op are fixed by the reference semantics document
    (`shared/spec/reference-semantics.md`, cited as §N); where engines disagree
    the op carries a required attribute that selects the variant.
  }];
  let useDefaultAttributePrinterParser = 1;
  // The attributes Fovea's pipeline attaches to ops it does not own, each
  // checked by the dialect's verifier hooks (VisionDialect.cpp):
  // - `vision.weight` (function arguments): the checkpoint name of the
  //   weight the argument receives, a non-empty string;
  // - `vision.derived` (arguments of `@run`): the index of the value of
  //   `@init` the argument receives, set by vision-hoist-weight-only;
  // - `vision.derived_types` (module): the types of the values `@init`
  //   returns, ranked tensors, set by vision-hoist-weight-only;
  // - `vision.init_only_weights` (module): the positions among the weights
  //   of those only `@init` reads, increasing and non-negative;
  // - `vision.metadata` (module): the metadata JSON that
  //   fovea-add-entry-points embeds in the module.
  let discardableAttrs = (ins
    "::mlir::StringAttr":$weight,
    "::mlir::IntegerAttr":$derived,
    "::mlir::ArrayAttr":$derived_types,
    "::mlir::DenseI64ArrayAttr":$init_only_weights,
    "::mlir::StringAttr":$metadata,
    // On an op whose weight a fold replaced (vision-fold-norm-affine): the
    // replaced weight's name, which still names the op's fusion group.
    "::mlir::StringAttr":$folded_weight
  );
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  // Canonicalizations produce tensor and arith ops.
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
  let hasConstantMaterializer = 0;
}

class Vision_Op<string mnemonic, list<Trait> traits = []>
    : Op<Vision_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Vision_ResizeDomain : I32EnumAttr<"ResizeDomain",
    "numeric domain of the antialiased bicubic resize", [
      I32EnumAttrCase<"u8", 0>,
      I32EnumAttrCase<"f32_clamp", 1>
    ]> {
  let cppNamespace = "::mlir::vision";
  let genSpecializedAttr = 0;
  let description = [{
    `u8`: uint8 pixels, each separable pass rounds and clamps to [0, 255]
    (current vLLM, Pillow-compatible). `f32_clamp`: f32 pixels in [0, 255],
    f32 passes, the result clamped to [0, 255] without rounding (TRT-LLM).
  }];
}
def Vision_ResizeDomainAttr : EnumAttr<Vision_Dialect, Vision_ResizeDomain,
                                       "resize_domain"> {
  let assemblyFormat = "`<` $value `>`";
}

def Vision_PixelShuffleVersion : I32EnumAttr<"PixelShuffleVersion",
    "token order produced by pixel shuffle", [
      I32EnumAttrCase<"v1", 1>,
      I32EnumAttrCase<"v2", 2>
    ]> {
  let cppNamespace = "::mlir::vision";
  let genSpecializedAttr = 0;
}
def Vision_PixelShuffleVersionAttr
    : EnumAttr<Vision_Dialect, Vision_PixelShuffleVersion,
               "pixel_shuffle_version"> {
  let assemblyFormat = "`<` $value `>`";
}

def Vision_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "GELU formula", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"tanh", 1>
    ]> {
  let cppNamespace = "::mlir::vision";
  let genSpecializedAttr = 0;
}
def Vision_GeluApproximationAttr
    : EnumAttr<Vision_Dialect, Vision_GeluApproximation, "gelu_approximation"> {
  let assemblyFormat = "`<` $value `>`";
}

def Vision_RmsNormWeightOrder : I32EnumAttr<"RmsNormWeightOrder",
    "where RMSNorm rounds to the storage type relative to the weight scale", [
      I32EnumAttrCase<"cast_then_scale", 0>,
      I32EnumAttrCase<"scale_then_cast", 1>
    ]> {
  let cppNamespace = "::mlir::vision";
  let genSpecializedAttr = 0;
}
def Vision_RmsNormWeightOrderAttr
    : EnumAttr<Vision_Dialect, Vision_RmsNormWeightOrder, "weight_order"> {
  let assemblyFormat = "`<` $value `>`";
}

def Vision_FusionRule : I32EnumAttr<"FusionRule",
    "the fusion pass that formed a fusion group", [
      I32EnumAttrCase<"matmul_epilogue", 0>,
      I32EnumAttrCase<"residual_norm", 1>,
      I32EnumAttrCase<"data_movement", 2>,
      I32EnumAttrCase<"patch_embed", 3>
    ]> {
  let cppNamespace = "::mlir::vision";
  let genSpecializedAttr = 0;
  let description = [{
    `matmul_epilogue` (vision-fuse-matmul-epilogue): a `linear` with its
    activation and residual add. `residual_norm` (vision-fuse-residual-norm):
    a `layer_norm` or `rms_norm` with the residual add that produces its
    input. `data_movement` (vision-fuse-data-movement): token reorderings
    (`strip_prefix`, `pixel_shuffle`) read through index maps by their
    consumer. `patch_embed` (vision-fuse-patch-embed): input normalization
    and the position-embedding add around the patch projection.
  }];
}
def Vision_FusionRuleAttr
    : EnumAttr<Vision_Dialect, Vision_FusionRule, "fusion_rule"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

/// Activations and weights: f32, bf16 or f16 (bf16/f16 are storage types; the
/// arithmetic is f32).
def Vision_FloatTensor : RankedTensorOf<[F32, BF16, F16]>;

/// Pixels: unsigned 8-bit or float.
def Vision_PixelTensor : RankedTensorOf<[UI8, F32, BF16, F16]>;

/// Segment boundaries of packed sequences.
def Vision_SegmentTensor : RankedTensorOf<[I32]>;

/// Per-tubelet token counts.
def Vision_CountTensor : RankedTensorOf<[I64]>;

#endif // FOVEA_DIALECT_VISION_IR_VISIONBASE_TD
