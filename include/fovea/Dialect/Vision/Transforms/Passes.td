//===- Passes.td - Vision dialect transformations -----------*- tablegen -*-===//
//
// Module-level transformations of models in the vision dialect.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DIALECT_VISION_TRANSFORMS_PASSES_TD
#define FOVEA_DIALECT_VISION_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def VisionHoistWeightOnly : Pass<"vision-hoist-weight-only", "::mlir::ModuleOp"> {
  let summary = "Moves computations that depend only on weights into @init";
  let description = [{
    In the entry function (`entry`, default `run`), every side-effect-free
    op whose operands (and values its regions capture) are weights (arguments
    carrying `vision.weight`), constants or results of such ops depends on the
    weights only: the position-embedding interpolation for the compiled
    resolution, the weight transposes of the matmul lowering. The pass
    clones them into a new function `@init` that takes the weights and
    returns the values the rest of the entry function uses; the entry
    function takes those values as extra arguments (marked
    `vision.derived = i`) instead of computing them. The runtime calls `@init`
    once after loading the weights. The result types are recorded on the
    module as `vision.derived_types`, and the positions (among the weights)
    of the weights that only `@init` reads as `vision.init_only_weights`, so
    the runtime can release them after `@init`.

    Constants and the weights themselves are never hoisted; when nothing
    is weight-only the module is unchanged.

    Before:
    ```mlir
    func.func @run(%x: tensor<?x16x64xf32>, %t: tensor<1x64x64xf32> {vision.weight = "pos_embed"}) -> ... {
      %pos = vision.interp_pos_embed %t {...} : tensor<1x64x64xf32> -> tensor<1x16x64xf32>
      ... uses %pos and %x ...
    }
    ```
    After:
    ```mlir
    func.func @run(%x: ..., %t: ... {vision.weight = "pos_embed"},
                   %pos: tensor<1x16x64xf32> {vision.derived = 0 : i64}) -> ... {
      ... uses %pos and %x ...
    }
    func.func @init(%t: tensor<1x64x64xf32> {vision.weight = "pos_embed"}) -> tensor<1x16x64xf32> {
      %pos = vision.interp_pos_embed %t {...} : tensor<1x64x64xf32> -> tensor<1x16x64xf32>
      return %pos : tensor<1x16x64xf32>
    }
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", "\"run\"",
           "Name of the entry function">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

//===----------------------------------------------------------------------===//
// Fusion passes: each forms `vision.fusion_group`s of one rule. They run in
// the `fused` phase in this order (patch embed, matmul epilogue, residual +
// norm, data movement); each claims ops no earlier pass grouped, except data
// movement, which joins the group of its consumer.
//===----------------------------------------------------------------------===//

def VisionFoldNormAffine : Pass<"vision-fold-norm-affine", "::mlir::func::FuncOp"> {
  let summary = "Folds each LayerNorm's scale and shift into the linears it feeds (changes rounding)";
  let description = [{
    An algebraic fold, off by default (`--fusion-enable fold-norm-affine`,
    or `--fusion=all`). Where every reader of a `vision.layer_norm` with
    weight-only scale g and shift b is the input of a `vision.linear` with
    weight-only W (and bias c), uses

      linear(layer_norm(x, g, b), W, c)
        = linear(layer_norm(x, 1, 0), W * g, c + W b)

    with W * g scaling W's columns (rounded once to W's element type) and
    c + W b accumulated in f32 and rounded once. The folded weights depend
    on weights only: the hoisting computes them in `@init`, and per run the
    norm no longer scales and shifts. In the ViT this folds norm1 into qkv
    and norm2 into fc1; the final norm and the projector's RMSNorm feed no
    linear directly and stay.

    Numerics: exact in real arithmetic; in floating point the norm's output
    is rounded before the scale instead of after it, and W * g and c + W b
    are rounded to the storage type. Measured on `nano-v2-vl`, one 512 x 512
    tile against the f32 PyTorch reference (`benchmarks/cpu_full_model.py
    --compile-option=--fusion-enable=fold-norm-affine`, 2026-12-02): bf16
    min per-token cosine 0.999884 and relative L2 1.436e-2, against
    0.999890 and 1.389e-2 without the fold; f32 still within rtol 2e-3.
    On the CPU it saves nothing measurable (the norm's scale and shift are
    one FMA per element of a row already in registers): run 18.8 s against
    18.4 s bf16, while `@init` computes 64 more weights (compile 74 s
    against 47 s, peak RSS 1.60x the weights against 1.13x).

    Before:
    ```mlir
    %h = vision.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f64} : (...) -> tensor<?x18x64xbf16>
    %q = vision.linear %h, %w, %c : (...) -> tensor<?x18x192xbf16>
    ```
    After:
    ```mlir
    %one = arith.constant dense<1.0> : tensor<64xbf16>
    %zero = arith.constant dense<0.0> : tensor<64xbf16>
    %h = vision.layer_norm %x, %one, %zero {epsilon = 1.0e-06 : f64} : (...) -> tensor<?x18x64xbf16>
    %gw = linalg.broadcast ins(%g : tensor<64xbf16>) outs(...) dimensions = [0]
    %w2 = arith.mulf %w, %gw : tensor<192x64xbf16>
    %c2 = ... linalg.matvec of W and b in f32, plus c, truncated ...
    %q = vision.linear %h, %w2, %c2 : (...) -> tensor<?x18x192xbf16>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def VisionFoldInputNormalization : Pass<"vision-fold-input-normalization", "::mlir::func::FuncOp"> {
  let summary = "Folds the pixel normalization's mean and std into the patch-embedding weights (changes rounding)";
  let description = [{
    An algebraic fold, off by default (`--fusion-enable
    fold-input-normalization`, or `--fusion=all`). Where a
    `vision.normalize` (with its cast to the storage type) is read only by a
    `vision.patch_embed` or `vision.tubelet_embed` with a weight-only weight
    W, uses, with c(k) the channel of weight column k,

      embed((x / 255 - m) / s, W) = embed(x / 255, W') + c
      W'[d, k] = W[d, k] / s[c(k)],  c[d] = -sum_k W[d, k] m[c(k)] / s[c(k)]

    and computes the folded embedding in f32: the normalization divides by
    255 only (the reference's first step, to the bit) and is not rounded to
    the storage type, W' and c are f32 (c is the embedding's bias, added to
    the f32 accumulator; an embedding bias already there is added to it),
    and the embedding's f32 result is rounded once to the storage type
    before the position-embedding add. W' and c depend on weights only: the
    hoisting computes them in `@init`, and per run the normalization
    neither subtracts nor divides by the std. In a bf16 model the embedding
    becomes an f32 contraction (2 GFLOP of the about 1500 of a 512 x 512
    tile).

    Why f32: the raw-pixel product and c cancel to the normalized result.
    Rounding x / 255 (or W', or c) to bf16 puts an error relative to the
    larger uncancelled terms into every token: a first version that kept
    the bf16 embedding of x / 255 with bf16 W' measured min per-token cosine
    0.999831 and relative L2 1.714e-2 on `nano-v2-vl` bf16, against 0.999890
    and 1.389e-2 unfolded. With the f32 embedding (2026-12-04,
    `benchmarks/cpu_full_model.py --compile-option=--fusion-enable=
    fold-input-normalization`, one 512 x 512 tile against the f32 PyTorch
    reference): bf16 min per-token cosine 0.999888 and relative L2 1.389e-2
    (unfolded 0.999890 and 1.389e-2: the 32 blocks' bf16 rounding
    dominates); f32 relative L2 4.27e-6 (unfolded 3.63e-6), within rtol
    2e-3. Run time is unchanged within the noise (bf16 5.28 s folded,
    5.50 s unfolded, 2 threads, separate runs).

    Before:
    ```mlir
    %n = vision.normalize %px {mean = array<f32: 0.5, 0.5, 0.5>, std = array<f32: 0.25, 0.25, 0.25>} : tensor<?x3x64x64xui8> -> tensor<?x3x64x64xf32>
    %t = arith.truncf %n : tensor<?x3x64x64xf32> to tensor<?x3x64x64xbf16>
    %e = vision.patch_embed %t, %w {patch_size = 16 : i64} : (tensor<?x3x64x64xbf16>, tensor<64x768xbf16>) -> tensor<?x16x64xbf16>
    ```
    After:
    ```mlir
    %w32 = arith.extf %w : tensor<64x768xbf16> to tensor<64x768xf32>
    %inv = arith.constant dense<4.0> : tensor<768xf32>
    %sb = linalg.broadcast ins(%inv : tensor<768xf32>) outs(...) dimensions = [0]
    %w2 = arith.mulf %w32, %sb : tensor<64x768xf32>
    %c = linalg.matvec ins(%w32, %shift : tensor<64x768xf32>, tensor<768xf32>) outs(%zero : tensor<64xf32>) -> tensor<64xf32>
    %n = vision.normalize %px {mean = array<f32: 0.0, 0.0, 0.0>, std = array<f32: 1.0, 1.0, 1.0>} : tensor<?x3x64x64xui8> -> tensor<?x3x64x64xf32>
    %e32 = vision.patch_embed %n, %w2, %c {patch_size = 16 : i64} : (tensor<?x3x64x64xf32>, tensor<64x768xf32>, tensor<64xf32>) -> tensor<?x16x64xf32>
    %e = arith.truncf %e32 : tensor<?x16x64xf32> to tensor<?x16x64xbf16>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def VisionFusePatchEmbed : Pass<"vision-fuse-patch-embed", "::mlir::func::FuncOp"> {
  let summary = "Groups input normalization, patch projection and position-embedding add";
  let description = [{
    Around each `vision.patch_embed` and `vision.tubelet_embed`: the
    `vision.normalize` of its pixels (with the cast to the storage type),
    the position-embedding `arith.addf` that consumes its result (with the
    `linalg.broadcast` of the embedding), and the `vision.prepend_tokens`
    that places the patch tokens after the prefix tokens. The group is
    named `patch_embed`. The weight-only part (interpolating the position
    embedding) stays outside and is computed once in `@init`. Numerics are
    those of the separate ops: f32 normalization rounded to the storage
    type, f32 accumulation rounded once, the add rounded once.

    Before:
    ```mlir
    %n = vision.normalize %px {...} : tensor<?x3x64x64xui8> -> tensor<?x3x64x64xf32>
    %t = arith.truncf %n : tensor<?x3x64x64xf32> to tensor<?x3x64x64xbf16>
    %e = vision.patch_embed %t, %w {patch_size = 16 : i64} : (...) -> tensor<?x16x64xbf16>
    %p = linalg.broadcast ins(%pos : tensor<16x64xbf16>) outs(%init : tensor<?x16x64xbf16>) dimensions = [0]
    %s = arith.addf %e, %p : tensor<?x16x64xbf16>
    ```
    After:
    ```mlir
    %s = vision.fusion_group "patch_embed" rule = <patch_embed> -> tensor<?x16x64xbf16> {
      %n = vision.normalize ...
      %t = arith.truncf ...
      %e = vision.patch_embed ...
      %p = linalg.broadcast ...
      %s = arith.addf %e, %p : tensor<?x16x64xbf16>
      vision.yield %s : tensor<?x16x64xbf16>
    }
    ```
  }];
  let dependentDialects = ["::mlir::vision::VisionDialect"];
}

def VisionFuseMatmulEpilogue : Pass<"vision-fuse-matmul-epilogue", "::mlir::func::FuncOp"> {
  let summary = "Groups each linear with its activation, residual add and downcast";
  let description = [{
    Starting at each ungrouped `vision.linear` (which already carries its
    bias), follows the chain of single uses: at most one activation
    (`vision.gelu`, `vision.relu2`), then at most one residual
    `arith.addf` of a tensor, then at most one `arith.truncf`/`arith.extf`.
    The group is named after the linear's weight (`blocks.0.mlp.fc1`). The
    kernel applies the chain to the f32 accumulator tile before storing
    it; the rounding points are those of the separate ops (the linear's
    result rounded to the storage type, then the activation computed in f32
    and rounded, then the add rounded), so results are bit-identical to the
    unfused lowering.

    Before:
    ```mlir
    %h = vision.linear %y, %w1, %b1 : (...) -> tensor<?x18x256xbf16>
    %g = vision.gelu %h {approximation = #vision.gelu_approximation<none>} : tensor<?x18x256xbf16>
    %o = vision.linear %g, %w2, %b2 : (...) -> tensor<?x18x64xbf16>
    %r = arith.addf %x, %o : tensor<?x18x64xbf16>
    ```
    After:
    ```mlir
    %g = vision.fusion_group "blocks.0.mlp.fc1" rule = <matmul_epilogue> -> tensor<?x18x256xbf16> {
      %h = vision.linear %y, %w1, %b1 : (...) -> tensor<?x18x256xbf16>
      %g = vision.gelu %h {...} : tensor<?x18x256xbf16>
      vision.yield %g : tensor<?x18x256xbf16>
    }
    %r = vision.fusion_group "blocks.0.mlp.fc2" rule = <matmul_epilogue> -> tensor<?x18x64xbf16> {
      %o = vision.linear %g, %w2, %b2 : (...) -> tensor<?x18x64xbf16>
      %r = arith.addf %x, %o : tensor<?x18x64xbf16>
      vision.yield %r : tensor<?x18x64xbf16>
    }
    ```
  }];
  let dependentDialects = ["::mlir::vision::VisionDialect"];
}

def VisionFuseResidualNorm : Pass<"vision-fuse-residual-norm", "::mlir::func::FuncOp"> {
  let summary = "Groups each norm with the residual add that produces its input";
  let description = [{
    Each ungrouped `vision.layer_norm` and `vision.rms_norm` becomes a group
    that reads its rows once: the row statistics and the normalization in
    one kernel (one loop nest on the CPU) instead of a reduction kernel per
    statistic and an elementwise kernel. When its input is an ungrouped
    residual `arith.addf`, the add joins the group, which then returns both
    the sum (the residual stream) and the normalized rows. With the default
    pass order the residual adds are already in matmul epilogues and the
    group holds the norm alone. Numerics: unchanged (the statistics are
    accumulated in f32 in the same order).

    Before:
    ```mlir
    %x1 = arith.addf %x, %o : tensor<?x18x64xbf16>
    %y = vision.layer_norm %x1, %g, %b {epsilon = 1.0e-06 : f64} : (...) -> tensor<?x18x64xbf16>
    ```
    After:
    ```mlir
    %r:2 = vision.fusion_group "blocks.0.norm2" rule = <residual_norm> -> tensor<?x18x64xbf16>, tensor<?x18x64xbf16> {
      %x1 = arith.addf %x, %o : tensor<?x18x64xbf16>
      %y = vision.layer_norm %x1, %g, %b {...} : (...) -> tensor<?x18x64xbf16>
      vision.yield %x1, %y : tensor<?x18x64xbf16>, tensor<?x18x64xbf16>
    }
    ```
  }];
  let dependentDialects = ["::mlir::vision::VisionDialect"];
}

def VisionFuseDataMovement : Pass<"vision-fuse-data-movement", "::mlir::func::FuncOp"> {
  let summary = "Reads token reorderings through index maps in their consumer";
  let description = [{
    `vision.strip_prefix` and `vision.pixel_shuffle` move data without
    computing. When one of them has a single consumer, it joins the
    consumer's fusion group (or forms a `data_movement` group with an
    ungrouped consumer), so the consumer reads the reordered tokens through
    an index map instead of a materialized copy. The q/k/v split of the fused
    qkv projection needs no pass: its slices are views of the projection's
    result. Numerics: unchanged (no arithmetic moves).

    Before:
    ```mlir
    %s = vision.strip_prefix %x {num_prefix = 2 : i64} : tensor<?x18x64xbf16> -> tensor<?x16x64xbf16>
    %p = vision.pixel_shuffle %s {...} : tensor<?x16x64xbf16> -> tensor<?x4x256xbf16>
    %n = vision.fusion_group "mlp1.0" rule = <residual_norm> -> tensor<?x4x256xbf16> {
      %n = vision.rms_norm %p, %w {...} : (...) -> tensor<?x4x256xbf16>
      vision.yield %n : tensor<?x4x256xbf16>
    }
    ```
    After:
    ```mlir
    %n = vision.fusion_group "mlp1.0" rule = <residual_norm> -> tensor<?x4x256xbf16> {
      %s = vision.strip_prefix %x {...} : tensor<?x18x64xbf16> -> tensor<?x16x64xbf16>
      %p = vision.pixel_shuffle %s {...} : tensor<?x16x64xbf16> -> tensor<?x4x256xbf16>
      %n = vision.rms_norm %p, %w {...} : (...) -> tensor<?x4x256xbf16>
      vision.yield %n : tensor<?x4x256xbf16>
    }
    ```
  }];
  let dependentDialects = ["::mlir::vision::VisionDialect"];
}

#endif // FOVEA_DIALECT_VISION_TRANSFORMS_PASSES_TD
