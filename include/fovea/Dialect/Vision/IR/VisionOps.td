//===- VisionOps.td - Vision dialect operations -------------*- tablegen -*-===//
//
// The ops of the `vision` dialect. Each description gives the exact numerics
// (with the section of the reference semantics, §N) and numbered constraints;
// the constraint IDs reappear in verifier messages and invalid-IR tests.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DIALECT_VISION_IR_VISIONOPS_TD
#define FOVEA_DIALECT_VISION_IR_VISIONOPS_TD

include "fovea/Dialect/Vision/IR/VisionBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

/// Ops whose result types follow from operands and attributes through a shape
/// function in VisionShapeInference.cpp, used by `inferReturnTypes` and the
/// verifier alike.
class Vision_InferredOp<string mnemonic, list<Trait> traits = []>
    : Vision_Op<mnemonic, traits # [Pure, InferTypeOpAdaptor]> {
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Calls the op's shape function on `view`, the op or its adaptor.
    template <typename View>
    static ::mlir::FailureOr<::mlir::RankedTensorType>
    computeResultType(::mlir::vision::EmitErrorFn emitError, View view);
  }];
}

//===----------------------------------------------------------------------===//
// Input conditioning
//===----------------------------------------------------------------------===//

def Vision_NormalizeOp : Vision_InferredOp<"normalize"> {
  let summary = "Rescales pixels to [0, 1] and normalizes each channel";
  let description = [{
    Computes `((x / 255) - mean[c]) / std[c]` per element of an NCHW batch of
    images or frames, in f32, for u8 or float pixels in [0, 255] (§1.1-§1.2).
    The division by 255 is a true f32 division, not a multiplication by 1/255,
    and `(x - mean) / std` is a subtraction followed by a division, both in
    f32, so results match the reference to the last bit. The result is f32;
    the cast to the model's storage type is a separate `arith.truncf`.

    Constraints:
    - (normalize_c1) `input` has rank 4 (N, C, H, W); only N may be dynamic.
    - (normalize_c2) `mean` and `std` have one entry per channel C.
    - (normalize_c3) every `std` entry is finite and non-zero.
    - (normalize_c4) `result` has the shape of `input` and element type f32.

    Example:
    ```mlir
    %0 = vision.normalize %pixels {mean = array<f32: 0.48145466, 0.4578275, 0.40821073>,
                                   std = array<f32: 0.26862954, 0.26130258, 0.27577711>}
        : tensor<?x3x512x512xui8> -> tensor<?x3x512x512xf32>
    ```
  }];
  let arguments = (ins Vision_PixelTensor:$input, DenseF32ArrayAttr:$mean,
                       DenseF32ArrayAttr:$std);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Vision_ResizeOp : Vision_InferredOp<"resize"> {
  let summary = "Resizes images with antialiased bicubic interpolation";
  let description = [{
    Separable antialiased bicubic resize of an NCHW batch to `size` = [H', W']
    with Keys' cubic (a = -0.5) and `align_corners = false` (§1.3). Along each
    axis, for output index `i` with `scale = in / out`:
    `support = 2 * max(scale, 1)`, `center = scale * (i + 0.5)`, taps
    `j in [max(trunc(center - support + 0.5), 0), min(trunc(center + support
    + 0.5), in))` with weights `K((j - center + 0.5) / max(scale, 1))`
    normalized to sum 1. The width pass runs first, then the height pass.

    `domain` selects the numeric domain (a DISAGREEMENT in the spec):
    - `u8` (current vLLM, Pillow-compatible): u8 in, u8 out; the intermediate
      of each pass is rounded and clamped to [0, 255].
    - `f32_clamp` (TRT-LLM): f32 pixels in [0, 255], f32 passes, the result
      clamped to [0, 255] and not rounded.
    A resize to the input's own size is the identity (all engines skip it) and
    folds away.

    Constraints:
    - (resize_c1) `input` has rank 4 (N, C, H, W) with static C, H, W > 0.
    - (resize_c2) `size` has two positive entries [H', W'].
    - (resize_c3) `domain = u8` takes ui8 pixels, `domain = f32_clamp` f32.
    - (resize_c4) `result` is `input` with H, W replaced by `size`.

    Example:
    ```mlir
    %0 = vision.resize %frames {domain = #vision.resize_domain<u8>, size = array<i64: 384, 672>}
        : tensor<?x3x1080x1920xui8> -> tensor<?x3x384x672xui8>
    ```
  }];
  let arguments = (ins Vision_PixelTensor:$input, DenseI64ArrayAttr:$size,
                       Vision_ResizeDomainAttr:$domain);
  let results = (outs Vision_PixelTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

def Vision_PatchEmbedOp : Vision_InferredOp<"patch_embed"> {
  let summary = "Cuts images into patches and projects them linearly";
  let description = [{
    Im2Patches followed by the patch projection of RADIO (§2):
    `patch[n, py*Wp + px, c*P*P + yy*P + xx] = x[n, c, py*P + yy, px*P + xx]`
    (vector order (c, yy, xx); patches row-major), then
    `result = patch @ weight^T (+ bias)` with f32 accumulation, the bias
    added to the f32 accumulator, and one rounding to the element type.
    `weight` has the checkpoint layout [D, C*P*P]
    (`patch_generator.embedder.weight`). RADIO's projection has no bias; a
    bias comes from checkpoints that have one or from
    `vision-fold-input-normalization`.

    Constraints:
    - (patch_embed_c1) `input` has rank 4 (N, C, H, W) with static C, H, W;
      `weight` has rank 2 and is static.
    - (patch_embed_c2) `patch_size` is positive and divides H and W.
    - (patch_embed_c3) `weight` has C*P*P columns.
    - (patch_embed_c4) `input`, `weight` and `result` share the element type.
    - (patch_embed_c5) `result` has shape [N, (H/P)*(W/P), D].
    - (patch_embed_c6) `bias`, when present, has shape [D] and the element
      type of `input`.

    Example:
    ```mlir
    %0 = vision.patch_embed %x, %w {patch_size = 16 : i64}
        : (tensor<?x3x512x512xbf16>, tensor<1280x768xbf16>) -> tensor<?x1024x1280xbf16>
    ```
  }];
  let arguments = (ins Vision_FloatTensor:$input, Vision_FloatTensor:$weight,
                       Optional<Vision_FloatTensor>:$bias, I64Attr:$patch_size);
  let results = (outs Vision_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Vision_TubeletEmbedOp : Vision_InferredOp<"tubelet_embed"> {
  let summary = "Groups frames into tubelets and projects their patches";
  let description = [{
    Temporal patch embedding of one video (§6.2). The F frames are cut into
    patches as in `vision.patch_embed`; when F is not a multiple of
    T = `temporal_patch_size` the patches of the last frame are repeated
    (never zeros) to `ceil(F / T) * T` frames. Tubelet `tau` concatenates the
    patch vectors of frames `tau*T ... tau*T + T - 1` in frame-major order
    (vector order (t, c, yy, xx)), and is projected with
    `result = tubelet @ weight^T (+ bias)` (f32 accumulation, the bias added
    in f32, one rounding), `weight` in the checkpoint layout [D, T*C*P*P]
    (`patch_generator.video_embedder.weight`). T = 1 is the image embedder
    applied to every frame. The frame count may be dynamic.

    Constraints:
    - (tubelet_embed_c1) `frames` has rank 4 (F, C, H, W) with static C, H, W
      and F > 0 when static; `weight` has rank 2 and is static.
    - (tubelet_embed_c2) `patch_size` is positive and divides H and W;
      `temporal_patch_size` is positive.
    - (tubelet_embed_c3) `weight` has T*C*P*P columns.
    - (tubelet_embed_c4) `frames`, `weight` and `result` share the element
      type.
    - (tubelet_embed_c5) `result` has shape [ceil(F/T), (H/P)*(W/P), D].
    - (tubelet_embed_c6) `bias`, when present, has shape [D] and the element
      type of `frames`.

    Example:
    ```mlir
    %0 = vision.tubelet_embed %frames, %w {patch_size = 16 : i64, temporal_patch_size = 2 : i64}
        : (tensor<?x3x384x672xbf16>, tensor<1280x1536xbf16>) -> tensor<?x1008x1280xbf16>
    ```
  }];
  let arguments = (ins Vision_FloatTensor:$frames, Vision_FloatTensor:$weight,
                       Optional<Vision_FloatTensor>:$bias, I64Attr:$patch_size,
                       I64Attr:$temporal_patch_size);
  let results = (outs Vision_FloatTensor:$result);
  let assemblyFormat = [{
    $frames `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Vision_InterpPosEmbedOp : Vision_InferredOp<"interp_pos_embed"> {
  let summary = "Interpolates the learned position-embedding grid to a patch grid";
  let description = [{
    CPE position embeddings for an h x w patch grid (§3.2). The table
    [1, R*R, C] is read as a row-major R x R grid; with `m = max(h, w)` it is
    resampled with bilinear interpolation to m x m (computed in f32,
    `align_corners` as given, no antialiasing: per axis
    `src = max(scale*(dst+0.5)-0.5, 0)` when false, `src = dst*(in-1)/(out-1)`
    when true), **rounded to the table's element type**, and the top-left
    h x w window is kept. The result is [1, h*w, C], row-major over the grid.
    When (h, w) = (R, R) the op is the identity and folds to its input.

    `align_corners` is required: current engines use `false`, versions before
    mid-2025 used `true` (§3.3).

    Constraints:
    - (interp_pos_embed_c1) `table` has static shape [1, R*R, C] with R*R a
      perfect square.
    - (interp_pos_embed_c2) `grid` has two positive entries [h, w].
    - (interp_pos_embed_c3) `result` has shape [1, h*w, C] and the element
      type of `table`.

    Example:
    ```mlir
    %0 = vision.interp_pos_embed %table {align_corners = false, grid = array<i64: 24, 42>}
        : tensor<1x16384x1280xbf16> -> tensor<1x1008x1280xbf16>
    ```
  }];
  let arguments = (ins Vision_FloatTensor:$table, DenseI64ArrayAttr:$grid,
                       BoolAttr:$align_corners);
  let results = (outs Vision_FloatTensor:$result);
  let assemblyFormat = "$table attr-dict `:` type($table) `->` type($result)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Prefix tokens
//===----------------------------------------------------------------------===//

def Vision_PrependTokensOp : Vision_InferredOp<"prepend_tokens"> {
  let summary = "Inserts the prefix (class and register) tokens before each sequence";
  let description = [{
    Prepends the S rows of `prefix` (`patch_generator.cls_token.token`, all
    class rows then the registers, in stored order) to every sequence (§4):
    `result[b] = concat(prefix, input[b])`. Without `segment_sizes`, each
    batch row is one sequence. With `segment_sizes` = [L_0, ..., L_(k-1)] the
    token axis of each row packs k sequences (dynamic-resolution images) and
    the prefix goes before each of them:
    `result[b] = concat(prefix, seg_0, prefix, seg_1, ...)`. Pure data
    movement; an empty prefix (S = 0) folds away.

    Constraints:
    - (prepend_tokens_c1) `prefix` has static rank 2 [S, C]; `input` has rank
      3 [B, L, C] with static L and C.
    - (prepend_tokens_c2) the channel counts of `prefix` and `input` agree.
    - (prepend_tokens_c3) `prefix`, `input` and `result` share the element
      type.
    - (prepend_tokens_c4) `segment_sizes`, when present, is non-empty, its
      entries are positive and sum to L.
    - (prepend_tokens_c5) `result` has shape [B, L + k*S, C] (k = 1 without
      `segment_sizes`).

    Example:
    ```mlir
    %0 = vision.prepend_tokens %cls, %x
        : (tensor<10x1280xbf16>, tensor<?x1024x1280xbf16>) -> tensor<?x1034x1280xbf16>
    ```
  }];
  let arguments = (ins Vision_FloatTensor:$prefix, Vision_FloatTensor:$input,
                       OptionalAttr<DenseI64ArrayAttr>:$segment_sizes);
  let results = (outs Vision_FloatTensor:$result);
  let assemblyFormat = [{
    $prefix `,` $input attr-dict `:` functional-type(operands, results)
  }];  let hasFolder = 1;
}

def Vision_StripPrefixOp : Vision_InferredOp<"strip_prefix"> {
  let summary = "Removes the prefix tokens after the last ViT block";
  let description = [{
    Drops the first `num_prefix` tokens of every sequence (§4): all prefix
    rows are removed, the summary vectors are not kept. Without
    `segment_sizes` each batch row is one sequence; with `segment_sizes`
    = [L_0, ...] (the sizes without prefix, as given to
    `vision.prepend_tokens`) each row packs k sequences of `num_prefix + L_i`
    tokens and the result concatenates their last L_i tokens. Removing zero
    tokens folds away, and so does stripping exactly what
    `vision.prepend_tokens` prepended.

    Constraints:
    - (strip_prefix_c1) `input` has rank 3 [B, L, C] with static L and C.
    - (strip_prefix_c2) `num_prefix` is non-negative.
    - (strip_prefix_c3) without `segment_sizes`, L >= `num_prefix`; with it,
      the entries are positive and `sum(L_i) + k * num_prefix` = L.
    - (strip_prefix_c4) `result` has shape [B, L - k*num_prefix, C] and the
      element type of `input`.

    Example:
    ```mlir
    %0 = vision.strip_prefix %x {num_prefix = 10 : i64}
        : tensor<?x1034x1280xbf16> -> tensor<?x1024x1280xbf16>
    ```
  }];
  let arguments = (ins Vision_FloatTensor:$input, I64Attr:$num_prefix,
                       OptionalAttr<DenseI64ArrayAttr>:$segment_sizes);
  let results = (outs Vision_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

def Vision_LayerNormOp : Vision_InferredOp<"layer_norm"> {
  let summary = "Normalizes the last dimension with learned scale and shift";
  let description = [{
    LayerNorm over the last dimension (§5.2), computed in f32 whatever the
    storage type: `mu = mean(x)`, `var = mean((x - mu)^2)` (biased),
    `y = (x - mu) / sqrt(var + epsilon) * weight + bias`, rounded once to the
    element type. `epsilon` is added inside the square root (1e-6 for RADIO).

    Constraints:
    - (layer_norm_c1) `input` has rank >= 2 with a static last dimension D;
      only the leading dimension may be dynamic.
    - (layer_norm_c2) `weight` and `bias` have shape [D].
    - (layer_norm_c3) `epsilon` is finite and positive.
    - (layer_norm_c4) all operands and `result` share the element type;
      `result` has the type of `input`.

    Example:
    ```mlir
    %0 = vision.layer_norm %x, %gamma, %beta {epsilon = 1.0e-06 : f64}
        : (tensor<?x1034x1280xbf16>, tensor<1280xbf16>, tensor<1280xbf16>) -> tensor<?x1034x1280xbf16>
    ```
  }];
  let arguments = (ins Vision_FloatTensor:$input, Vision_FloatTensor:$weight,
                       Vision_FloatTensor:$bias, F64Attr:$epsilon);
  let results = (outs Vision_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)
  }];
}

def Vision_RmsNormOp : Vision_InferredOp<"rms_norm"> {
  let summary = "Normalizes the last dimension by its root mean square";
  let description = [{
    RMSNorm over the last dimension (§8): in f32, `v = mean(x^2)`,
    `n = x * rsqrt(v + epsilon)`. `weight_order` (a DISAGREEMENT in the spec,
    last-bit) fixes where the result is rounded to the storage type:
    - `cast_then_scale` (vLLM): `y = round(round(n) * weight)` - `n` is rounded
      to the element type, then multiplied by the weight and rounded again;
    - `scale_then_cast` (HF, AutoModel): `y = round(n * weight)` in f32, one
      rounding.
    The two agree for f32.

    Constraints:
    - (rms_norm_c1) `input` has rank >= 2 with a static last dimension D;
      only the leading dimension may be dynamic.
    - (rms_norm_c2) `weight` has shape [D].
    - (rms_norm_c3) `epsilon` is finite and positive.
    - (rms_norm_c4) all operands and `result` share the element type;
      `result` has the type of `input`.

    Example:
    ```mlir
    %0 = vision.rms_norm %x, %w {epsilon = 1.0e-05 : f64,
                                 weight_order = #vision.weight_order<cast_then_scale>}
        : (tensor<?x256x5120xbf16>, tensor<5120xbf16>) -> tensor<?x256x5120xbf16>
    ```
  }];
  let arguments = (ins Vision_FloatTensor:$input, Vision_FloatTensor:$weight,
                       F64Attr:$epsilon,
                       Vision_RmsNormWeightOrderAttr:$weight_order);
  let results = (outs Vision_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Linear layers and activations
//===----------------------------------------------------------------------===//

def Vision_LinearOp : Vision_InferredOp<"linear"> {
  let summary = "Multiplies by a transposed weight matrix and adds an optional bias";
  let description = [{
    `result = input @ weight^T (+ bias)` over the last dimension (§5.2, §8),
    with `weight` in the checkpoint layout [N, K]. Products are accumulated in
    f32; the bias is added to the f32 accumulator and the sum is rounded once
    to the element type.

    Constraints:
    - (linear_c1) `input` has rank >= 2 with a static last dimension K, only
      the leading dimension may be dynamic; `weight` has static rank 2.
    - (linear_c2) `weight` has K columns.
    - (linear_c3) `bias`, when present, has shape [N].
    - (linear_c4) all operands and `result` share the element type.
    - (linear_c5) `result` is `input` with the last dimension replaced by N.

    Example:
    ```mlir
    %0 = vision.linear %x, %w, %b
        : (tensor<?x1034x1280xbf16>, tensor<3840x1280xbf16>, tensor<3840xbf16>) -> tensor<?x1034x3840xbf16>
    ```
  }];
  let arguments = (ins Vision_FloatTensor:$input, Vision_FloatTensor:$weight,
                       Optional<Vision_FloatTensor>:$bias);
  let results = (outs Vision_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Vision_GeluOp : Vision_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "Applies the Gaussian error linear unit elementwise";
  let description = [{
    Computed in f32 and rounded once (§5.2). `approximation` is required
    (a DISAGREEMENT in the spec: inference engines use the exact form, the
    training configs the tanh form):
    - `none`: `0.5 * x * (1 + erf(x / sqrt(2)))`;
    - `tanh`: `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))`.

    Constraints:
    - (gelu_c1) `result` has the type of `input`.

    Example:
    ```mlir
    %0 = vision.gelu %x {approximation = #vision.gelu_approximation<none>} : tensor<?x1034x5120xbf16>
    ```
  }];
  let arguments = (ins Vision_FloatTensor:$input,
                       Vision_GeluApproximationAttr:$approximation);
  let results = (outs Vision_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Vision_Relu2Op : Vision_Op<"relu2", [Pure, SameOperandsAndResultType]> {
  let summary = "Applies the squared rectified linear unit elementwise";
  let description = [{
    `y = max(x, 0)^2`, computed in f32 and rounded once (§8; the projector
    activation of both Nano VL and Omni).

    Constraints:
    - (relu2_c1) `result` has the type of `input`.

    Example:
    ```mlir
    %0 = vision.relu2 %x : tensor<?x256x20480xbf16>
    ```
  }];
  let arguments = (ins Vision_FloatTensor:$input);
  let results = (outs Vision_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def Vision_AttentionOp : Vision_InferredOp<"attention"> {
  let summary = "Computes multi-head scaled dot-product attention";
  let description = [{
    Multi-head self-attention without masking (§5.2): `q`, `k`, `v` are
    [B, L, E] with E = `num_heads` * d, head h owning columns
    [h*d, (h+1)*d) (head-major, as produced by splitting the fused qkv
    projection). Per batch row and head,
    `o = softmax(q . k^T * scale) . v` with f32 logits, an f32 softmax
    (max-subtracted) and f32 accumulation, rounded once; the result is [B, L, E]
    with heads concatenated in the same order. `scale` is usually
    `d^-0.5`.

    With `cu_seqlens` (i32 [k+1], `0 = c_0 < c_1 < ... < c_k = L`), the
    token axis packs k independent sequences and attention is
    block-diagonal: token i attends to j only when both lie in the same
    `[c_s, c_(s+1))` (§5.4). The boundaries are a run-time value.

    Constraints:
    - (attention_c1) `q`, `k` and `v` have the same type, rank 3 [B, L, E]
      with static L and E.
    - (attention_c2) `num_heads` is positive and divides E.
    - (attention_c3) `scale` is finite and positive.
    - (attention_c4) `cu_seqlens`, when present, has rank 1 and, if static,
      at least 2 entries.
    - (attention_c5) `result` has the type of `q`.

    Example:
    ```mlir
    %0 = vision.attention %q, %k, %v {num_heads = 16 : i64, scale = 0.11180339887498948 : f64}
        : (tensor<?x1034x1280xbf16>, tensor<?x1034x1280xbf16>, tensor<?x1034x1280xbf16>)
        -> tensor<?x1034x1280xbf16>
    ```
  }];
  let arguments = (ins Vision_FloatTensor:$q, Vision_FloatTensor:$k,
                       Vision_FloatTensor:$v,
                       Optional<Vision_SegmentTensor>:$cu_seqlens,
                       I64Attr:$num_heads, F64Attr:$scale);
  let results = (outs Vision_FloatTensor:$result);
  let assemblyFormat = [{
    $q `,` $k `,` $v (`cu_seqlens` `(` $cu_seqlens^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Token merging and pruning
//===----------------------------------------------------------------------===//

def Vision_PixelShuffleOp : Vision_InferredOp<"pixel_shuffle"> {
  let summary = "Merges each 2x2 block of patch tokens into one token";
  let description = [{
    Token merging of §7 on [N, L, C] (prefix already stripped). `grid` lists
    the patch grids of the images packed along the token axis of each row,
    as pairs [h_0, w_0, h_1, w_1, ...] with `sum(h_i * w_i) = L` (one pair:
    one image per row). Each image's tokens are read row-major as an
    h x w grid and every 2x2 block becomes one token of 4C channels ordered
    (row offset a, column offset b, channel c):
    - `v2`: `out[n, i*(w/2) + j, a*2C + b*C + c] = x[n, 2i+a, 2j+b, c]`
      (tokens row-major over the half-resolution grid);
    - `v1`: `out[n, j*(h/2) + i, a*2C + b*C + c] = x[n, 2i+a, 2j+b, c]`
      (token grid transposed, the legacy order).
    Images stay in order; pure data movement. `version` is required.

    Constraints:
    - (pixel_shuffle_c1) `input` has rank 3 [N, L, C] with static L and C.
    - (pixel_shuffle_c2) `grid` has a non-zero even number of entries, all
      positive.
    - (pixel_shuffle_c3) every h_i and w_i is even.
    - (pixel_shuffle_c4) `sum(h_i * w_i)` = L.
    - (pixel_shuffle_c5) `result` has shape [N, L/4, 4C] and the element type
      of `input`.

    Example:
    ```mlir
    %0 = vision.pixel_shuffle %x {grid = array<i64: 32, 32>,
                                  version = #vision.pixel_shuffle_version<v2>}
        : tensor<?x1024x1280xbf16> -> tensor<?x256x5120xbf16>
    ```
  }];
  let arguments = (ins Vision_FloatTensor:$input, DenseI64ArrayAttr:$grid,
                       Vision_PixelShuffleVersionAttr:$version);
  let results = (outs Vision_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Vision_EvsPruneOp : Vision_InferredOp<"evs_prune"> {
  let summary = "Prunes temporally redundant video tokens (EVS)";
  let description = [{
    Efficient Video Sampling over the tubelets of one video (§9). `input` is
    [nt, L, D]: the projector output of nt tubelets of L tokens each.

    Kept count, from integers and `rate` only (§9.1), evaluated as the
    reference does in double precision:
    `keep = max(L, trunc(double(L * nt) * (1.0 - rate)))`. It does not depend
    on the data, so the kept result is static when nt is static and has a
    dynamic leading dimension otherwise.

    Selection (§9.2, §9.4): for tubelet t >= 1 and token l,
    `d[t, l] = 1 - cos(x[t, l], x[t-1, l])` with PyTorch's cosine similarity
    (each vector divided by `max(norm, 1e-8)`, then the dot product), every
    step rounded to the element type; `d[0, l] = 255` so the first tubelet is
    always kept. The flattened `d` (order (t, l)) is sorted descending with a
    stable sort (ties keep the lower index first); the first `keep` indices
    are kept. `kept` holds the kept rows in their original (t, l) order
    ([keep, D]); `counts[t]` is the number of kept tokens of tubelet t.
    With `rate = 0` every token is kept: the op canonicalizes to a reshape of
    `input` and constant counts L.

    Constraints:
    - (evs_prune_c1) `input` has rank 3 [nt, L, D] with static L and D and
      nt > 0 when static.
    - (evs_prune_c2) `rate` is in [0, 1).
    - (evs_prune_c3) `kept` has shape [keep, D] (keep as above, dynamic when
      nt is dynamic) and the element type of `input`.
    - (evs_prune_c4) `counts` has shape [nt] and element type i64.

    Example:
    ```mlir
    %kept, %counts = vision.evs_prune %x {rate = 7.500000e-01 : f64}
        : tensor<8x256x2688xbf16> -> tensor<512x2688xbf16>, tensor<8xi64>
    ```
  }];
  let arguments = (ins Vision_FloatTensor:$input, F64Attr:$rate);
  let extraClassDeclaration = "";
  let results = (outs Vision_FloatTensor:$kept, Vision_CountTensor:$counts);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($kept) `,` type($counts)
  }];  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Fusion groups
//===----------------------------------------------------------------------===//

def Vision_FusionGroupOp : Vision_Op<"fusion_group", [
    SingleBlockImplicitTerminator<"::mlir::vision::YieldOp">,
    RecursiveMemoryEffects, NoRegionArguments]> {
  let summary = "Ops that become one kernel (GPU) or one loop nest (CPU)";
  let description = [{
    A fusion group holds ops of one function that the backends lower
    together: on the GPU into one kernel, on the CPU into one loop nest.
    The region is not isolated from above: its ops use values defined
    before the group directly, and the group's results are the values its
    `vision.yield` returns, the ones used after the group. `name` identifies
    the group in the fusion report (unique within the function by
    construction of the fusion passes); `rule` names the fusion that formed
    it. Ops outside any group are lowered one by one. The group has no
    semantics of its own: inlining its body gives the same function.

    Constraints:
    - (fusion_group_c1) `name` is not empty.
    - (fusion_group_c2) the body holds at least one op besides the
      terminator, and the terminator's operand types are the result types.
    - (fusion_group_c3) fusion groups do not nest.
    - (fusion_group_c4) every op of the body is free of memory effects (the
      group can be lowered as one kernel without ordering constraints).

    Example:
    ```mlir
    %0 = vision.fusion_group "blocks.0.mlp.fc2" rule = <matmul_epilogue>
        -> tensor<?x1025x1280xbf16> {
      %1 = vision.linear %h, %w, %b : (...) -> tensor<?x1025x1280xbf16>
      %2 = arith.addf %x, %1 : tensor<?x1025x1280xbf16>
      vision.yield %2 : tensor<?x1025x1280xbf16>
    }
    ```
  }];
  let arguments = (ins StrAttr:$name, Vision_FusionRuleAttr:$rule);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $name `rule` `=` $rule (`->` type($results)^)? attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::mlir::TypeRange":$resultTypes, "::llvm::StringRef":$name,
                   "::mlir::vision::FusionRule":$rule)>
  ];
  let extraClassDeclaration = [{
    /// The terminator of the body.
    YieldOp getYield();
  }];
}

def Vision_YieldOp : Vision_Op<"yield", [Pure, Terminator,
                                          HasParent<"FusionGroupOp">]> {
  let summary = "Returns the results of a fusion group";
  let description = [{
    Terminates the body of a `vision.fusion_group`; its operands are the
    group's results.
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let builders = [OpBuilder<(ins), [{ /* nothing to yield */ }]>];
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // FOVEA_DIALECT_VISION_IR_VISIONOPS_TD
