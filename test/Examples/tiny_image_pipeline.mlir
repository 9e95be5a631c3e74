// The example behind `make run` verifies and canonicalizes: the same-size
// resize folds, every other vision op stays.
// RUN: fovea-opt --canonicalize %fovea_src_root/examples/tiny_image_pipeline.mlir | FileCheck %s

// CHECK-LABEL: func.func @image_pipeline
// CHECK-SAME: %[[PIXELS:[a-z0-9]+]]: tensor<?x3x64x64xui8>
// CHECK-NOT: vision.resize
// CHECK: vision.normalize %[[PIXELS]]
// CHECK: vision.patch_embed
// CHECK: vision.interp_pos_embed
// CHECK: vision.prepend_tokens
// CHECK: vision.layer_norm
// CHECK: vision.attention
// CHECK: vision.gelu
// CHECK: vision.strip_prefix
// CHECK: vision.pixel_shuffle
// CHECK: vision.rms_norm
// CHECK: vision.relu2
// CHECK: return {{.*}} : tensor<?x4x128xbf16>
