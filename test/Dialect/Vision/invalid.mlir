// RUN: fovea-opt %s -split-input-file -verify-diagnostics

// One case per numbered constraint of VisionOps.td, named after it, plus the
// required enum attributes that have no default.

// normalize_c1: the input is NCHW with static C, H and W.
func.func @normalize_c1(%x: tensor<3x512x512xui8>) {
  // expected-error @+1 {{'vision.normalize' op expects input of rank 4 (N, C, H, W) with static C, H and W, got 'tensor<3x512x512xui8>' (normalize_c1)}}
  %0 = vision.normalize %x {mean = array<f32: 0.5, 0.5, 0.5>, std = array<f32: 0.5, 0.5, 0.5>}
      : tensor<3x512x512xui8> -> tensor<3x512x512xf32>
  return
}

// -----

// normalize_c2: one mean and one std per channel.
func.func @normalize_c2(%x: tensor<1x3x16x16xui8>) {
  // expected-error @+1 {{expects one mean and one std entry per channel (3), got 2 mean and 3 std entries (normalize_c2)}}
  %0 = vision.normalize %x {mean = array<f32: 0.5, 0.5>, std = array<f32: 0.5, 0.5, 0.5>}
      : tensor<1x3x16x16xui8> -> tensor<1x3x16x16xf32>
  return
}

// -----

// normalize_c3: std entries are finite and non-zero.
func.func @normalize_c3(%x: tensor<1x3x16x16xui8>) {
  // expected-error @+1 {{expects finite non-zero std entries, got std[1] = 0.000000e+00 (normalize_c3)}}
  %0 = vision.normalize %x {mean = array<f32: 0.5, 0.5, 0.5>, std = array<f32: 0.5, 0.0, 0.5>}
      : tensor<1x3x16x16xui8> -> tensor<1x3x16x16xf32>
  return
}

// -----

// normalize_c4: the result is f32 of the input's shape.
func.func @normalize_c4(%x: tensor<1x3x16x16xui8>) {
  // expected-error @+1 {{expects result of type 'tensor<1x3x16x16xf32>', got 'tensor<1x3x8x32xf32>' (normalize_c4)}}
  %0 = vision.normalize %x {mean = array<f32: 0.5, 0.5, 0.5>, std = array<f32: 0.5, 0.5, 0.5>}
      : tensor<1x3x16x16xui8> -> tensor<1x3x8x32xf32>
  return
}

// -----

// normalize_c4: the result is f32 (the cast to the storage type is separate).
func.func @normalize_c4_f32(%x: tensor<1x3x16x16xui8>) {
  // expected-error @+1 {{'vision.normalize' op result #0 must be ranked tensor of 32-bit float values, but got 'tensor<1x3x16x16xbf16>'}}
  %0 = vision.normalize %x {mean = array<f32: 0.5, 0.5, 0.5>, std = array<f32: 0.5, 0.5, 0.5>}
      : tensor<1x3x16x16xui8> -> tensor<1x3x16x16xbf16>
  return
}

// -----

// resize_c1: positive static spatial sizes.
func.func @resize_c1(%x: tensor<1x3x?x640xui8>) {
  // expected-error @+1 {{expects input of rank 4 (N, C, H, W) with static C and positive static H and W, got 'tensor<1x3x?x640xui8>' (resize_c1)}}
  %0 = vision.resize %x {domain = #vision.resize_domain<u8>, size = array<i64: 448, 576>}
      : tensor<1x3x?x640xui8> -> tensor<1x3x448x576xui8>
  return
}

// -----

// resize_c2: two positive output sizes.
func.func @resize_c2(%x: tensor<1x3x480x640xui8>) {
  // expected-error @+1 {{expects size to be two positive entries [H, W], got [448, 0] (resize_c2)}}
  %0 = vision.resize %x {domain = #vision.resize_domain<u8>, size = array<i64: 448, 0>}
      : tensor<1x3x480x640xui8> -> tensor<1x3x448x0xui8>
  return
}

// -----

// resize_c3: the domain matches the pixel type.
func.func @resize_c3(%x: tensor<1x3x480x640xf32>) {
  // expected-error @+1 {{expects ui8 pixels for domain 'u8', got 'f32' (resize_c3)}}
  %0 = vision.resize %x {domain = #vision.resize_domain<u8>, size = array<i64: 448, 576>}
      : tensor<1x3x480x640xf32> -> tensor<1x3x448x576xf32>
  return
}

// -----

// resize_c3: f32_clamp takes f32 pixels.
func.func @resize_c3_f32_clamp(%x: tensor<1x3x480x640xui8>) {
  // expected-error @+1 {{expects f32 pixels for domain 'f32_clamp', got 'ui8' (resize_c3)}}
  %0 = vision.resize %x {domain = #vision.resize_domain<f32_clamp>, size = array<i64: 448, 576>}
      : tensor<1x3x480x640xui8> -> tensor<1x3x448x576xui8>
  return
}

// -----

// resize_c4: the result has the requested size.
func.func @resize_c4(%x: tensor<1x3x480x640xui8>) {
  // expected-error @+1 {{expects result of type 'tensor<1x3x448x576xui8>', got 'tensor<1x3x576x448xui8>' (resize_c4)}}
  %0 = vision.resize %x {domain = #vision.resize_domain<u8>, size = array<i64: 448, 576>}
      : tensor<1x3x480x640xui8> -> tensor<1x3x576x448xui8>
  return
}

// -----

// The resize domain has no default.
func.func @resize_domain_required(%x: tensor<1x3x480x640xui8>) {
  // expected-error @+1 {{'vision.resize' op requires attribute 'domain'}}
  %0 = vision.resize %x {size = array<i64: 448, 576>}
      : tensor<1x3x480x640xui8> -> tensor<1x3x448x576xui8>
  return
}

// -----

// patch_embed_c1: a static rank-2 weight.
func.func @patch_embed_c1(%x: tensor<1x3x32x32xf32>, %w: tensor<?x768xf32>) {
  // expected-error @+1 {{expects a static weight of rank 2 [D, K], got 'tensor<?x768xf32>' (patch_embed_c1)}}
  %0 = vision.patch_embed %x, %w {patch_size = 16 : i64}
      : (tensor<1x3x32x32xf32>, tensor<?x768xf32>) -> tensor<1x4x?xf32>
  return
}

// -----

// patch_embed_c2: the patch size divides the image.
func.func @patch_embed_c2(%x: tensor<1x3x32x40xf32>, %w: tensor<64x768xf32>) {
  // expected-error @+1 {{expects patch_size 16 to divide the spatial size 32x40 (patch_embed_c2)}}
  %0 = vision.patch_embed %x, %w {patch_size = 16 : i64}
      : (tensor<1x3x32x40xf32>, tensor<64x768xf32>) -> tensor<1x4x64xf32>
  return
}

// -----

// patch_embed_c2: the patch size is positive.
func.func @patch_embed_c2_negative(%x: tensor<1x3x32x32xf32>, %w: tensor<64x768xf32>) {
  // expected-error @+1 {{expects a positive patch_size, got -16 (patch_embed_c2)}}
  %0 = vision.patch_embed %x, %w {patch_size = -16 : i64}
      : (tensor<1x3x32x32xf32>, tensor<64x768xf32>) -> tensor<1x4x64xf32>
  return
}

// -----

// patch_embed_c3: the weight has C*P*P columns.
func.func @patch_embed_c3(%x: tensor<1x3x32x32xf32>, %w: tensor<64x512xf32>) {
  // expected-error @+1 {{expects a weight with 768 columns, got 'tensor<64x512xf32>' (patch_embed_c3)}}
  %0 = vision.patch_embed %x, %w {patch_size = 16 : i64}
      : (tensor<1x3x32x32xf32>, tensor<64x512xf32>) -> tensor<1x4x64xf32>
  return
}

// -----

// patch_embed_c4: one element type.
func.func @patch_embed_c4(%x: tensor<1x3x32x32xbf16>, %w: tensor<64x768xf32>) {
  // expected-error @+1 {{expects input and weight of one element type, got 'bf16' and 'f32' (patch_embed_c4)}}
  %0 = vision.patch_embed %x, %w {patch_size = 16 : i64}
      : (tensor<1x3x32x32xbf16>, tensor<64x768xf32>) -> tensor<1x4x64xbf16>
  return
}

// -----

// patch_embed_c5: [N, (H/P)*(W/P), D].
func.func @patch_embed_c5(%x: tensor<1x3x32x32xf32>, %w: tensor<64x768xf32>) {
  // expected-error @+1 {{expects result of type 'tensor<1x4x64xf32>', got 'tensor<1x2x2x64xf32>' (patch_embed_c5)}}
  %0 = vision.patch_embed %x, %w {patch_size = 16 : i64}
      : (tensor<1x3x32x32xf32>, tensor<64x768xf32>) -> tensor<1x2x2x64xf32>
  return
}

// -----

// patch_embed_c6: a bias of shape [D].
func.func @patch_embed_c6(%x: tensor<1x3x32x32xf32>, %w: tensor<64x768xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{expects bias of shape [64], got 'tensor<32xf32>' (patch_embed_c6)}}
  %0 = vision.patch_embed %x, %w, %b {patch_size = 16 : i64}
      : (tensor<1x3x32x32xf32>, tensor<64x768xf32>, tensor<32xf32>) -> tensor<1x4x64xf32>
  return
}

// -----

// patch_embed_c6: a bias of the input's element type.
func.func @patch_embed_c6_type(%x: tensor<1x3x32x32xbf16>, %w: tensor<64x768xbf16>, %b: tensor<64xf32>) {
  // expected-error @+1 {{expects a bias of element type 'bf16', got 'f32' (patch_embed_c6)}}
  %0 = vision.patch_embed %x, %w, %b {patch_size = 16 : i64}
      : (tensor<1x3x32x32xbf16>, tensor<64x768xbf16>, tensor<64xf32>) -> tensor<1x4x64xbf16>
  return
}

// -----

// tubelet_embed_c6: a bias of shape [D].
func.func @tubelet_embed_c6(%f: tensor<4x3x32x32xf32>, %w: tensor<64x1536xf32>, %b: tensor<64x1xf32>) {
  // expected-error @+1 {{expects bias of shape [64], got 'tensor<64x1xf32>' (tubelet_embed_c6)}}
  %0 = vision.tubelet_embed %f, %w, %b {patch_size = 16 : i64, temporal_patch_size = 2 : i64}
      : (tensor<4x3x32x32xf32>, tensor<64x1536xf32>, tensor<64x1xf32>) -> tensor<2x4x64xf32>
  return
}

// -----

// tubelet_embed_c1: at least one frame.
func.func @tubelet_embed_c1(%x: tensor<0x3x32x32xf32>, %w: tensor<64x1536xf32>) {
  // expected-error @+1 {{expects at least one frame, got 'tensor<0x3x32x32xf32>' (tubelet_embed_c1)}}
  %0 = vision.tubelet_embed %x, %w {patch_size = 16 : i64, temporal_patch_size = 2 : i64}
      : (tensor<0x3x32x32xf32>, tensor<64x1536xf32>) -> tensor<0x4x64xf32>
  return
}

// -----

// tubelet_embed_c2: a positive temporal patch size.
func.func @tubelet_embed_c2(%x: tensor<4x3x32x32xf32>, %w: tensor<64x1536xf32>) {
  // expected-error @+1 {{expects a positive temporal_patch_size, got 0 (tubelet_embed_c2)}}
  %0 = vision.tubelet_embed %x, %w {patch_size = 16 : i64, temporal_patch_size = 0 : i64}
      : (tensor<4x3x32x32xf32>, tensor<64x1536xf32>) -> tensor<2x4x64xf32>
  return
}

// -----

// tubelet_embed_c3: the weight has T*C*P*P columns.
func.func @tubelet_embed_c3(%x: tensor<4x3x32x32xf32>, %w: tensor<64x768xf32>) {
  // expected-error @+1 {{expects a weight with 1536 columns, got 'tensor<64x768xf32>' (tubelet_embed_c3)}}
  %0 = vision.tubelet_embed %x, %w {patch_size = 16 : i64, temporal_patch_size = 2 : i64}
      : (tensor<4x3x32x32xf32>, tensor<64x768xf32>) -> tensor<2x4x64xf32>
  return
}

// -----

// tubelet_embed_c4: one element type.
func.func @tubelet_embed_c4(%x: tensor<4x3x32x32xf16>, %w: tensor<64x1536xbf16>) {
  // expected-error @+1 {{expects input and weight of one element type, got 'f16' and 'bf16' (tubelet_embed_c4)}}
  %0 = vision.tubelet_embed %x, %w {patch_size = 16 : i64, temporal_patch_size = 2 : i64}
      : (tensor<4x3x32x32xf16>, tensor<64x1536xbf16>) -> tensor<2x4x64xf16>
  return
}

// -----

// tubelet_embed_c5: ceil(F/T) tubelets (5 frames at T = 2 give 3).
func.func @tubelet_embed_c5(%x: tensor<5x3x32x32xf32>, %w: tensor<64x1536xf32>) {
  // expected-error @+1 {{expects result of type 'tensor<3x4x64xf32>', got 'tensor<2x4x64xf32>' (tubelet_embed_c5)}}
  %0 = vision.tubelet_embed %x, %w {patch_size = 16 : i64, temporal_patch_size = 2 : i64}
      : (tensor<5x3x32x32xf32>, tensor<64x1536xf32>) -> tensor<2x4x64xf32>
  return
}

// -----

// tubelet_embed_c5: a dynamic frame count gives a dynamic tubelet count.
func.func @tubelet_embed_c5_dynamic(%x: tensor<?x3x32x32xf32>, %w: tensor<64x1536xf32>) {
  // expected-error @+1 {{expects result of type 'tensor<?x4x64xf32>', got 'tensor<4x4x64xf32>' (tubelet_embed_c5)}}
  %0 = vision.tubelet_embed %x, %w {patch_size = 16 : i64, temporal_patch_size = 2 : i64}
      : (tensor<?x3x32x32xf32>, tensor<64x1536xf32>) -> tensor<4x4x64xf32>
  return
}

// -----

// interp_pos_embed_c1: the table holds a square grid.
func.func @interp_pos_embed_c1(%t: tensor<1x1000x64xbf16>) {
  // expected-error @+1 {{expects the table's row count to be a positive perfect square, got 1000 (interp_pos_embed_c1)}}
  %0 = vision.interp_pos_embed %t {align_corners = false, grid = array<i64: 2, 2>}
      : tensor<1x1000x64xbf16> -> tensor<1x4x64xbf16>
  return
}

// -----

// interp_pos_embed_c1: the table is [1, R*R, C].
func.func @interp_pos_embed_c1_shape(%t: tensor<1024x64xbf16>) {
  // expected-error @+1 {{expects a static table of shape [1, R*R, C], got 'tensor<1024x64xbf16>' (interp_pos_embed_c1)}}
  %0 = vision.interp_pos_embed %t {align_corners = false, grid = array<i64: 2, 2>}
      : tensor<1024x64xbf16> -> tensor<1x4x64xbf16>
  return
}

// -----

// interp_pos_embed_c2: two positive grid sizes.
func.func @interp_pos_embed_c2(%t: tensor<1x1024x64xbf16>) {
  // expected-error @+1 {{expects grid to be two positive entries [h, w], got [4] (interp_pos_embed_c2)}}
  %0 = vision.interp_pos_embed %t {align_corners = false, grid = array<i64: 4>}
      : tensor<1x1024x64xbf16> -> tensor<1x4x64xbf16>
  return
}

// -----

// interp_pos_embed_c3: [1, h*w, C] of the table's type.
func.func @interp_pos_embed_c3(%t: tensor<1x1024x64xbf16>) {
  // expected-error @+1 {{expects result of type 'tensor<1x6x64xbf16>', got 'tensor<1x6x64xf32>' (interp_pos_embed_c3)}}
  %0 = vision.interp_pos_embed %t {align_corners = false, grid = array<i64: 2, 3>}
      : tensor<1x1024x64xbf16> -> tensor<1x6x64xf32>
  return
}

// -----

// align_corners has no default.
func.func @interp_pos_embed_align_corners_required(%t: tensor<1x1024x64xbf16>) {
  // expected-error @+1 {{'vision.interp_pos_embed' op requires attribute 'align_corners'}}
  %0 = vision.interp_pos_embed %t {grid = array<i64: 2, 3>}
      : tensor<1x1024x64xbf16> -> tensor<1x6x64xbf16>
  return
}

// -----

// prepend_tokens_c1: the input is [B, L, C].
func.func @prepend_tokens_c1(%p: tensor<10x64xf32>, %x: tensor<16x64xf32>) {
  // expected-error @+1 {{expects input of rank 3 [B, L, C] with static L and C, got 'tensor<16x64xf32>' (prepend_tokens_c1)}}
  %0 = vision.prepend_tokens %p, %x : (tensor<10x64xf32>, tensor<16x64xf32>) -> tensor<26x64xf32>
  return
}

// -----

// prepend_tokens_c2: one channel count.
func.func @prepend_tokens_c2(%p: tensor<10x32xf32>, %x: tensor<1x16x64xf32>) {
  // expected-error @+1 {{expects prefix and input with the same channel count, got 32 and 64 (prepend_tokens_c2)}}
  %0 = vision.prepend_tokens %p, %x : (tensor<10x32xf32>, tensor<1x16x64xf32>) -> tensor<1x26x64xf32>
  return
}

// -----

// prepend_tokens_c3: one element type.
func.func @prepend_tokens_c3(%p: tensor<10x64xbf16>, %x: tensor<1x16x64xf32>) {
  // expected-error @+1 {{expects prefix and input of one element type, got 'bf16' and 'f32' (prepend_tokens_c3)}}
  %0 = vision.prepend_tokens %p, %x : (tensor<10x64xbf16>, tensor<1x16x64xf32>) -> tensor<1x26x64xf32>
  return
}

// -----

// prepend_tokens_c4: segments cover the tokens.
func.func @prepend_tokens_c4(%p: tensor<10x64xf32>, %x: tensor<1x16x64xf32>) {
  // expected-error @+1 {{expects segment_sizes [4, 8] to cover the 16 tokens, got 12 (prepend_tokens_c4)}}
  %0 = vision.prepend_tokens %p, %x {segment_sizes = array<i64: 4, 8>}
      : (tensor<10x64xf32>, tensor<1x16x64xf32>) -> tensor<1x36x64xf32>
  return
}

// -----

// prepend_tokens_c5: one prefix per segment.
func.func @prepend_tokens_c5(%p: tensor<10x64xf32>, %x: tensor<1x16x64xf32>) {
  // expected-error @+1 {{expects result of type 'tensor<1x36x64xf32>', got 'tensor<1x26x64xf32>' (prepend_tokens_c5)}}
  %0 = vision.prepend_tokens %p, %x {segment_sizes = array<i64: 8, 8>}
      : (tensor<10x64xf32>, tensor<1x16x64xf32>) -> tensor<1x26x64xf32>
  return
}

// -----

// strip_prefix_c1: the input is [B, L, C] with static L.
func.func @strip_prefix_c1(%x: tensor<1x?x64xf32>) {
  // expected-error @+1 {{expects input of rank 3 [B, L, C] with static L and C, got 'tensor<1x?x64xf32>' (strip_prefix_c1)}}
  %0 = vision.strip_prefix %x {num_prefix = 10 : i64} : tensor<1x?x64xf32> -> tensor<1x?x64xf32>
  return
}

// -----

// strip_prefix_c2: a non-negative prefix count.
func.func @strip_prefix_c2(%x: tensor<1x26x64xf32>) {
  // expected-error @+1 {{expects a non-negative num_prefix, got -1 (strip_prefix_c2)}}
  %0 = vision.strip_prefix %x {num_prefix = -1 : i64} : tensor<1x26x64xf32> -> tensor<1x27x64xf32>
  return
}

// -----

// strip_prefix_c3: enough tokens.
func.func @strip_prefix_c3(%x: tensor<1x8x64xf32>) {
  // expected-error @+1 {{expects at least num_prefix = 10 tokens, got 8 (strip_prefix_c3)}}
  %0 = vision.strip_prefix %x {num_prefix = 10 : i64} : tensor<1x8x64xf32> -> tensor<1x0x64xf32>
  return
}

// -----

// strip_prefix_c3: segments plus their prefixes cover the tokens.
func.func @strip_prefix_c3_segments(%x: tensor<1x36x64xf32>) {
  // expected-error @+1 {{expects segment_sizes [8, 4] plus the prefix of each segment to cover the 36 tokens, got 32 (strip_prefix_c3)}}
  %0 = vision.strip_prefix %x {num_prefix = 10 : i64, segment_sizes = array<i64: 8, 4>}
      : tensor<1x36x64xf32> -> tensor<1x12x64xf32>
  return
}

// -----

// strip_prefix_c4: L - k*num_prefix tokens remain.
func.func @strip_prefix_c4(%x: tensor<?x1034x64xf32>) {
  // expected-error @+1 {{expects result of type 'tensor<?x1024x64xf32>', got 'tensor<?x1034x64xf32>' (strip_prefix_c4)}}
  %0 = vision.strip_prefix %x {num_prefix = 10 : i64} : tensor<?x1034x64xf32> -> tensor<?x1034x64xf32>
  return
}

// -----

// layer_norm_c1: only the leading dimension is dynamic.
func.func @layer_norm_c1(%x: tensor<2x?x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{expects input of rank >= 2 with only the leading dimension dynamic, got 'tensor<2x?x64xf32>' (layer_norm_c1)}}
  %0 = vision.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f64}
      : (tensor<2x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x?x64xf32>
  return
}

// -----

// layer_norm_c2: bias of shape [D].
func.func @layer_norm_c2(%x: tensor<2x16x64xf32>, %g: tensor<64xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{expects bias of shape [64], got 'tensor<32xf32>' (layer_norm_c2)}}
  %0 = vision.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f64}
      : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<32xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// layer_norm_c3: a positive epsilon.
func.func @layer_norm_c3(%x: tensor<2x16x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{expects a finite positive epsilon, got 0.000000e+00 (layer_norm_c3)}}
  %0 = vision.layer_norm %x, %g, %b {epsilon = 0.0 : f64}
      : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// layer_norm_c4: one element type.
func.func @layer_norm_c4(%x: tensor<2x16x64xbf16>, %g: tensor<64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{expects operands of one element type, got 'bf16' and 'f32' (layer_norm_c4)}}
  %0 = vision.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f64}
      : (tensor<2x16x64xbf16>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x16x64xbf16>
  return
}

// -----

// layer_norm_c4: the result has the input's type.
func.func @layer_norm_c4_result(%x: tensor<2x16x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{expects result of type 'tensor<2x16x64xf32>', got 'tensor<2x16x64xbf16>' (layer_norm_c4)}}
  %0 = vision.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f64}
      : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x16x64xbf16>
  return
}

// -----

// rms_norm_c1: rank >= 2.
func.func @rms_norm_c1(%x: tensor<64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{expects input of rank >= 2 with only the leading dimension dynamic, got 'tensor<64xf32>' (rms_norm_c1)}}
  %0 = vision.rms_norm %x, %w {epsilon = 1.0e-05 : f64, weight_order = #vision.weight_order<cast_then_scale>}
      : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  return
}

// -----

// rms_norm_c2: weight of shape [D].
func.func @rms_norm_c2(%x: tensor<4x64xf32>, %w: tensor<1x64xf32>) {
  // expected-error @+1 {{expects weight of shape [64], got 'tensor<1x64xf32>' (rms_norm_c2)}}
  %0 = vision.rms_norm %x, %w {epsilon = 1.0e-05 : f64, weight_order = #vision.weight_order<cast_then_scale>}
      : (tensor<4x64xf32>, tensor<1x64xf32>) -> tensor<4x64xf32>
  return
}

// -----

// rms_norm_c3: a finite epsilon.
func.func @rms_norm_c3(%x: tensor<4x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{expects a finite positive epsilon, got -1.000000e-05 (rms_norm_c3)}}
  %0 = vision.rms_norm %x, %w {epsilon = -1.0e-05 : f64, weight_order = #vision.weight_order<cast_then_scale>}
      : (tensor<4x64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  return
}

// -----

// rms_norm_c4: one element type.
func.func @rms_norm_c4(%x: tensor<4x64xbf16>, %w: tensor<64xf16>) {
  // expected-error @+1 {{expects operands of one element type, got 'bf16' and 'f16' (rms_norm_c4)}}
  %0 = vision.rms_norm %x, %w {epsilon = 1.0e-05 : f64, weight_order = #vision.weight_order<cast_then_scale>}
      : (tensor<4x64xbf16>, tensor<64xf16>) -> tensor<4x64xbf16>
  return
}

// -----

// The RMSNorm weight order has no default.
func.func @rms_norm_weight_order_required(%x: tensor<4x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'vision.rms_norm' op requires attribute 'weight_order'}}
  %0 = vision.rms_norm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<4x64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  return
}

// -----

// linear_c1: a static rank-2 weight.
func.func @linear_c1(%x: tensor<4x64xf32>, %w: tensor<2x32x64xf32>) {
  // expected-error @+1 {{expects a static weight of rank 2 [N, K], got 'tensor<2x32x64xf32>' (linear_c1)}}
  %0 = vision.linear %x, %w : (tensor<4x64xf32>, tensor<2x32x64xf32>) -> tensor<4x32xf32>
  return
}

// -----

// linear_c2: the weight has K columns.
func.func @linear_c2(%x: tensor<4x64xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{expects a weight with 64 columns (the input's last dimension), got 'tensor<64x32xf32>' (linear_c2)}}
  %0 = vision.linear %x, %w : (tensor<4x64xf32>, tensor<64x32xf32>) -> tensor<4x64xf32>
  return
}

// -----

// linear_c3: bias of shape [N].
func.func @linear_c3(%x: tensor<4x64xf32>, %w: tensor<32x64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{expects bias of shape [32], got 'tensor<64xf32>' (linear_c3)}}
  %0 = vision.linear %x, %w, %b : (tensor<4x64xf32>, tensor<32x64xf32>, tensor<64xf32>) -> tensor<4x32xf32>
  return
}

// -----

// linear_c4: one element type.
func.func @linear_c4(%x: tensor<4x64xbf16>, %w: tensor<32x64xbf16>, %b: tensor<32xf32>) {
  // expected-error @+1 {{expects operands of one element type, got 'bf16' and 'f32' (linear_c4)}}
  %0 = vision.linear %x, %w, %b : (tensor<4x64xbf16>, tensor<32x64xbf16>, tensor<32xf32>) -> tensor<4x32xbf16>
  return
}

// -----

// linear_c5: the last dimension becomes N.
func.func @linear_c5(%x: tensor<?x16x64xf32>, %w: tensor<32x64xf32>) {
  // expected-error @+1 {{expects result of type 'tensor<?x16x32xf32>', got 'tensor<?x16x64xf32>' (linear_c5)}}
  %0 = vision.linear %x, %w : (tensor<?x16x64xf32>, tensor<32x64xf32>) -> tensor<?x16x64xf32>
  return
}

// -----

// gelu_c1: the result has the input's type.
func.func @gelu_c1(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{'vision.gelu' op requires the same type for all operands and results}}
  %0 = "vision.gelu"(%x) {approximation = #vision.gelu_approximation<none>} : (tensor<4x64xf32>) -> tensor<4x64xbf16>
  return
}

// -----

// The GELU approximation has no default.
func.func @gelu_approximation_required(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{'vision.gelu' op requires attribute 'approximation'}}
  %0 = vision.gelu %x : tensor<4x64xf32>
  return
}

// -----

// relu2_c1: the result has the input's type.
func.func @relu2_c1(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{'vision.relu2' op requires the same type for all operands and results}}
  %0 = "vision.relu2"(%x) : (tensor<4x64xf32>) -> tensor<4x32xf32>
  return
}

// -----

// attention_c1: q, k and v of one type.
func.func @attention_c1(%q: tensor<1x16x64xf32>, %k: tensor<1x8x64xf32>) {
  // expected-error @+1 {{expects q, k and v of the same type, got 'tensor<1x16x64xf32>', 'tensor<1x8x64xf32>' and 'tensor<1x16x64xf32>' (attention_c1)}}
  %0 = vision.attention %q, %k, %q {num_heads = 4 : i64, scale = 0.25 : f64}
      : (tensor<1x16x64xf32>, tensor<1x8x64xf32>, tensor<1x16x64xf32>) -> tensor<1x16x64xf32>
  return
}

// -----

// attention_c2: the heads divide the width.
func.func @attention_c2(%q: tensor<1x16x80xf32>) {
  // expected-error @+1 {{expects num_heads to be positive and divide the width 80, got 3 (attention_c2)}}
  %0 = vision.attention %q, %q, %q {num_heads = 3 : i64, scale = 0.25 : f64}
      : (tensor<1x16x80xf32>, tensor<1x16x80xf32>, tensor<1x16x80xf32>) -> tensor<1x16x80xf32>
  return
}

// -----

// attention_c3: a positive scale.
func.func @attention_c3(%q: tensor<1x16x64xf32>) {
  // expected-error @+1 {{expects a finite positive scale, got -2.500000e-01 (attention_c3)}}
  %0 = vision.attention %q, %q, %q {num_heads = 4 : i64, scale = -0.25 : f64}
      : (tensor<1x16x64xf32>, tensor<1x16x64xf32>, tensor<1x16x64xf32>) -> tensor<1x16x64xf32>
  return
}

// -----

// attention_c4: at least two boundaries.
func.func @attention_c4(%q: tensor<1x16x64xf32>, %cu: tensor<1xi32>) {
  // expected-error @+1 {{expects cu_seqlens of rank 1 with at least 2 entries, got 'tensor<1xi32>' (attention_c4)}}
  %0 = vision.attention %q, %q, %q cu_seqlens(%cu) {num_heads = 4 : i64, scale = 0.25 : f64}
      : (tensor<1x16x64xf32>, tensor<1x16x64xf32>, tensor<1x16x64xf32>, tensor<1xi32>) -> tensor<1x16x64xf32>
  return
}

// -----

// attention_c5: the result has q's type.
func.func @attention_c5(%q: tensor<1x16x64xf32>) {
  // expected-error @+1 {{expects result of type 'tensor<1x16x64xf32>', got 'tensor<1x16x16xf32>' (attention_c5)}}
  %0 = vision.attention %q, %q, %q {num_heads = 4 : i64, scale = 0.25 : f64}
      : (tensor<1x16x64xf32>, tensor<1x16x64xf32>, tensor<1x16x64xf32>) -> tensor<1x16x16xf32>
  return
}

// -----

// pixel_shuffle_c1: [N, L, C].
func.func @pixel_shuffle_c1(%x: tensor<16x64xf32>) {
  // expected-error @+1 {{expects input of rank 3 [N, L, C] with static L and C, got 'tensor<16x64xf32>' (pixel_shuffle_c1)}}
  %0 = vision.pixel_shuffle %x {grid = array<i64: 4, 4>, version = #vision.pixel_shuffle_version<v2>}
      : tensor<16x64xf32> -> tensor<4x256xf32>
  return
}

// -----

// pixel_shuffle_c2: [h, w] pairs.
func.func @pixel_shuffle_c2(%x: tensor<1x16x64xf32>) {
  // expected-error @+1 {{expects grid to be a non-empty list of positive [h, w] pairs, got [4, 4, 2] (pixel_shuffle_c2)}}
  %0 = vision.pixel_shuffle %x {grid = array<i64: 4, 4, 2>, version = #vision.pixel_shuffle_version<v2>}
      : tensor<1x16x64xf32> -> tensor<1x4x256xf32>
  return
}

// -----

// pixel_shuffle_c3: even grids.
func.func @pixel_shuffle_c3(%x: tensor<1x12x64xf32>) {
  // expected-error @+1 {{expects even grid sizes, got 3x4 for image 0 (pixel_shuffle_c3)}}
  %0 = vision.pixel_shuffle %x {grid = array<i64: 3, 4>, version = #vision.pixel_shuffle_version<v2>}
      : tensor<1x12x64xf32> -> tensor<1x3x256xf32>
  return
}

// -----

// pixel_shuffle_c4: the grids cover the tokens.
func.func @pixel_shuffle_c4(%x: tensor<1x16x64xf32>) {
  // expected-error @+1 {{expects the grid [4, 4, 2, 2] to cover the 16 tokens, got 20 (pixel_shuffle_c4)}}
  %0 = vision.pixel_shuffle %x {grid = array<i64: 4, 4, 2, 2>, version = #vision.pixel_shuffle_version<v2>}
      : tensor<1x16x64xf32> -> tensor<1x5x256xf32>
  return
}

// -----

// pixel_shuffle_c5: [N, L/4, 4C].
func.func @pixel_shuffle_c5(%x: tensor<?x16x64xf32>) {
  // expected-error @+1 {{expects result of type 'tensor<?x4x256xf32>', got 'tensor<?x4x64xf32>' (pixel_shuffle_c5)}}
  %0 = vision.pixel_shuffle %x {grid = array<i64: 4, 4>, version = #vision.pixel_shuffle_version<v1>}
      : tensor<?x16x64xf32> -> tensor<?x4x64xf32>
  return
}

// -----

// The pixel-shuffle version has no default.
func.func @pixel_shuffle_version_required(%x: tensor<1x16x64xf32>) {
  // expected-error @+1 {{'vision.pixel_shuffle' op requires attribute 'version'}}
  %0 = vision.pixel_shuffle %x {grid = array<i64: 4, 4>} : tensor<1x16x64xf32> -> tensor<1x4x256xf32>
  return
}

// -----

// evs_prune_c1: [nt, L, D] with static L.
func.func @evs_prune_c1(%x: tensor<4x?x64xf32>) {
  // expected-error @+1 {{expects input of rank 3 [nt, L, D] with static L > 0 and D and nt > 0, got 'tensor<4x?x64xf32>' (evs_prune_c1)}}
  %k, %c = vision.evs_prune %x {rate = 5.000000e-01 : f64} : tensor<4x?x64xf32> -> tensor<?x64xf32>, tensor<4xi64>
  return
}

// -----

// evs_prune_c2: a rate in [0, 1).
func.func @evs_prune_c2(%x: tensor<4x16x64xf32>) {
  // expected-error @+1 {{expects a rate in [0, 1), got 1.000000e+00 (evs_prune_c2)}}
  %k, %c = vision.evs_prune %x {rate = 1.000000e+00 : f64} : tensor<4x16x64xf32> -> tensor<16x64xf32>, tensor<4xi64>
  return
}

// -----

// evs_prune_c3: the kept count comes from the integers (4 * 16 * 0.5 = 32).
func.func @evs_prune_c3(%x: tensor<4x16x64xf32>) {
  // expected-error @+1 {{expects kept of type 'tensor<32x64xf32>', got 'tensor<16x64xf32>' (evs_prune_c3)}}
  %k, %c = vision.evs_prune %x {rate = 5.000000e-01 : f64} : tensor<4x16x64xf32> -> tensor<16x64xf32>, tensor<4xi64>
  return
}

// -----

// evs_prune_c3: a dynamic tubelet count gives a dynamic kept count.
func.func @evs_prune_c3_dynamic(%x: tensor<?x16x64xf32>) {
  // expected-error @+1 {{expects kept of type 'tensor<?x64xf32>', got 'tensor<32x64xf32>' (evs_prune_c3)}}
  %k, %c = vision.evs_prune %x {rate = 5.000000e-01 : f64} : tensor<?x16x64xf32> -> tensor<32x64xf32>, tensor<?xi64>
  return
}

// -----

// evs_prune_c4: one i64 count per tubelet.
func.func @evs_prune_c4(%x: tensor<4x16x64xf32>) {
  // expected-error @+1 {{expects counts of type 'tensor<4xi64>', got 'tensor<3xi64>' (evs_prune_c4)}}
  %k, %c = vision.evs_prune %x {rate = 5.000000e-01 : f64} : tensor<4x16x64xf32> -> tensor<32x64xf32>, tensor<3xi64>
  return
}

// -----

// fusion_group_c1: groups are named.
func.func @fusion_group_c1(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'vision.fusion_group' op expects a non-empty name (fusion_group_c1)}}
  %0 = vision.fusion_group "" rule = <residual_norm> -> tensor<4xf32> {
    %1 = arith.addf %x, %x : tensor<4xf32>
    vision.yield %1 : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

// fusion_group_c2: the body computes something.
func.func @fusion_group_c2_empty(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{expects at least one op besides the terminator (fusion_group_c2)}}
  %0 = vision.fusion_group "g" rule = <residual_norm> -> tensor<4xf32> {
    vision.yield %x : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

// fusion_group_c2: the yielded values are the results.
func.func @fusion_group_c2(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{expects the yielded types 'tensor<4xf32>' to be the result types 'tensor<4xf16>' (fusion_group_c2)}}
  %0 = vision.fusion_group "g" rule = <residual_norm> -> tensor<4xf16> {
    %1 = arith.addf %x, %x : tensor<4xf32>
    vision.yield %1 : tensor<4xf32>
  }
  return %x : tensor<4xf32>
}

// -----

// fusion_group_c3: groups do not nest.
func.func @fusion_group_c3(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = vision.fusion_group "outer" rule = <residual_norm> -> tensor<4xf32> {
    // expected-error @+1 {{expects no enclosing fusion group, got 'outer' (fusion_group_c3)}}
    %1 = vision.fusion_group "inner" rule = <residual_norm> -> tensor<4xf32> {
      %2 = arith.addf %x, %x : tensor<4xf32>
      vision.yield %2 : tensor<4xf32>
    }
    vision.yield %1 : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

// fusion_group_c4: the body has no memory effects.
func.func @fusion_group_c4(%m: memref<4xf32>) -> f32 {
  // expected-error @+1 {{expects ops free of memory effects, got 'memref.load' (fusion_group_c4)}}
  %0 = vision.fusion_group "g" rule = <residual_norm> -> f32 {
    %c0 = arith.constant 0 : index
    %1 = memref.load %m[%c0] : memref<4xf32>
    vision.yield %1 : f32
  }
  return %0 : f32
}

// -----

// The rule is one of the fusion passes.
func.func @fusion_group_rule(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+2 {{expected ::mlir::vision::FusionRule to be one of: matmul_epilogue, residual_norm, data_movement, patch_embed}}
  // expected-error @+1 {{failed to parse Vision_FusionRuleAttr parameter 'value'}}
  %0 = vision.fusion_group "g" rule = <fused_somehow> -> tensor<4xf32> {
    %1 = arith.addf %x, %x : tensor<4xf32>
    vision.yield %1 : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

// vision.yield ends fusion groups only.
func.func @yield_parent(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'vision.yield' op expects parent op 'vision.fusion_group'}}
  vision.yield %x : tensor<4xf32>
}
