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

#endif // FOVEA_DIALECT_VISION_TRANSFORMS_PASSES_TD
