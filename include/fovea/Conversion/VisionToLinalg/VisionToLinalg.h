//===- VisionToLinalg.h - Lowering of vision ops to linalg ------*- C++ -*-===//
//
// Patterns that lower the `vision` ops to linalg/tensor/arith/math/scf on
// tensors, one populate function per op family.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_CONVERSION_VISIONTOLINALG_VISIONTOLINALG_H
#define FOVEA_CONVERSION_VISIONTOLINALG_VISIONTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::vision {

/// normalize, resize.
void populateVisionInputToLinalgPatterns(RewritePatternSet &patterns);
/// patch_embed, tubelet_embed, interp_pos_embed, prepend_tokens,
/// strip_prefix.
void populateVisionEmbeddingToLinalgPatterns(RewritePatternSet &patterns);
/// layer_norm, rms_norm, linear, gelu, relu2, attention.
void populateVisionEncoderToLinalgPatterns(RewritePatternSet &patterns);
/// pixel_shuffle, evs_prune.
void populateVisionTokenToLinalgPatterns(RewritePatternSet &patterns);

/// All of the above.
void populateVisionToLinalgPatterns(RewritePatternSet &patterns);

} // namespace mlir::vision

#endif // FOVEA_CONVERSION_VISIONTOLINALG_VISIONTOLINALG_H
