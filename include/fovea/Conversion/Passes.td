//===- Passes.td - Fovea conversion passes ------------------*- tablegen -*-===//
//
// The passes that lower the `vision` dialect to upstream dialects.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_CONVERSION_PASSES_TD
#define FOVEA_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertVisionToLinalg : Pass<"convert-vision-to-linalg"> {
  let summary = "Lowers vision ops to linalg, tensor, arith, math and scf on tensors";
  let description = [{
    Replaces every `vision` op by upstream ops on tensors with the numerics
    of its description (and of the reference semantics): reductions and
    contractions accumulate in f32 and round once to the storage type;
    weights that depend only on static sizes (resize taps, bilinear
    position-embedding weights) become constants.

    | op | lowering |
    |---|---|
    | `normalize` | one elementwise `linalg.generic` |
    | `resize` | one `linalg.generic` per axis gathering its taps; `u8`: Pillow's 22-bit fixed point with round and clamp per pass; `f32_clamp`: f32 passes, final clamp |
    | `patch_embed`, `tubelet_embed` | a convolution-shaped contraction `linalg.generic` (f32 accumulator) reading patches in place; tubelets first gather the frames padded by repeating the last one |
    | `interp_pos_embed` | a gathering `linalg.generic` with constant indices and bilinear weights, rounded to the storage type |
    | `prepend_tokens`, `strip_prefix`, `pixel_shuffle` | `tensor` slices, reshapes and `linalg.transpose` |
    | `layer_norm`, `rms_norm` | row reductions and one elementwise `linalg.generic` |
    | `linear` | a transposed-B matmul `linalg.generic` into an f32 accumulator, then bias and rounding |
    | `gelu`, `relu2` | elementwise `linalg.generic` (`math.erf` / `math.tanh`) |
    | `attention` | scores, row max, row sum and the probability-weighted sum as `linalg.generic`s; `cu_seqlens` become a per-token segment id and a mask |
    | `evs_prune` | dissimilarities, a rank count that is a stable descending sort, per-tubelet counts, and an `scf.for` compaction in original order |

    Before:
    ```mlir
    %0 = vision.relu2 %x : tensor<4x64xf32>
    ```
    After:
    ```mlir
    %e = tensor.empty() : tensor<4x64xf32>
    %0 = linalg.generic {...} ins(%x : tensor<4x64xf32>) outs(%e : tensor<4x64xf32>) {
    ^bb0(%in: f32, %out: f32):
      %m = arith.maximumf %in, %zero : f32
      %s = arith.mulf %m, %m : f32
      linalg.yield %s : f32
    } -> tensor<4x64xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // FOVEA_CONVERSION_PASSES_TD
