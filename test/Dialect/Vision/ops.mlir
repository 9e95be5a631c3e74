// RUN: fovea-opt %s | FileCheck %s
// Print in generic form, parse it back and print in custom form: the same.
// RUN: fovea-opt %s --mlir-print-op-generic | fovea-opt | FileCheck %s

// Every op of the vision dialect parses, verifies and prints back.

// CHECK-LABEL: func.func @normalize
func.func @normalize(%x: tensor<?x3x512x512xui8>, %f: tensor<2x3x16x32xbf16>)
    -> (tensor<?x3x512x512xf32>, tensor<2x3x16x32xf32>) {
  // CHECK: vision.normalize %{{.*}} {mean = array<f32: 0.48145467, 0.457827508, 0.408210725>, std = array<f32: 0.268629551, 0.26130259, 0.275777102>} : tensor<?x3x512x512xui8> -> tensor<?x3x512x512xf32>
  %0 = vision.normalize %x {mean = array<f32: 0.48145466, 0.4578275, 0.40821073>,
                            std = array<f32: 0.26862954, 0.26130258, 0.27577711>}
      : tensor<?x3x512x512xui8> -> tensor<?x3x512x512xf32>
  // CHECK: vision.normalize %{{.*}} : tensor<2x3x16x32xbf16> -> tensor<2x3x16x32xf32>
  %1 = vision.normalize %f {mean = array<f32: 0.5, 0.5, 0.5>, std = array<f32: 0.5, 0.5, 0.5>}
      : tensor<2x3x16x32xbf16> -> tensor<2x3x16x32xf32>
  return %0, %1 : tensor<?x3x512x512xf32>, tensor<2x3x16x32xf32>
}

// CHECK-LABEL: func.func @resize
func.func @resize(%u: tensor<?x3x1080x1920xui8>, %f: tensor<1x3x480x640xf32>)
    -> (tensor<?x3x384x672xui8>, tensor<1x3x448x576xf32>) {
  // CHECK: vision.resize %{{.*}} {domain = #vision.resize_domain<u8>, size = array<i64: 384, 672>} : tensor<?x3x1080x1920xui8> -> tensor<?x3x384x672xui8>
  %0 = vision.resize %u {domain = #vision.resize_domain<u8>, size = array<i64: 384, 672>}
      : tensor<?x3x1080x1920xui8> -> tensor<?x3x384x672xui8>
  // CHECK: vision.resize %{{.*}} {domain = #vision.resize_domain<f32_clamp>, size = array<i64: 448, 576>} : tensor<1x3x480x640xf32> -> tensor<1x3x448x576xf32>
  %1 = vision.resize %f {domain = #vision.resize_domain<f32_clamp>, size = array<i64: 448, 576>}
      : tensor<1x3x480x640xf32> -> tensor<1x3x448x576xf32>
  return %0, %1 : tensor<?x3x384x672xui8>, tensor<1x3x448x576xf32>
}

// CHECK-LABEL: func.func @patch_embed
func.func @patch_embed(%x: tensor<?x3x512x512xbf16>, %w: tensor<1280x768xbf16>,
                       %y: tensor<2x3x32x48xf32>, %v: tensor<64x768xf32>)
    -> (tensor<?x1024x1280xbf16>, tensor<2x6x64xf32>) {
  // CHECK: vision.patch_embed %{{.*}}, %{{.*}} {patch_size = 16 : i64} : (tensor<?x3x512x512xbf16>, tensor<1280x768xbf16>) -> tensor<?x1024x1280xbf16>
  %0 = vision.patch_embed %x, %w {patch_size = 16 : i64}
      : (tensor<?x3x512x512xbf16>, tensor<1280x768xbf16>) -> tensor<?x1024x1280xbf16>
  // CHECK: vision.patch_embed {{.*}} -> tensor<2x6x64xf32>
  %1 = vision.patch_embed %y, %v {patch_size = 16 : i64}
      : (tensor<2x3x32x48xf32>, tensor<64x768xf32>) -> tensor<2x6x64xf32>
  return %0, %1 : tensor<?x1024x1280xbf16>, tensor<2x6x64xf32>
}

// An optional bias.
// CHECK-LABEL: func.func @embed_bias
func.func @embed_bias(%x: tensor<?x3x32x32xbf16>, %w: tensor<64x768xbf16>, %b: tensor<64xbf16>,
                      %f: tensor<3x3x32x32xbf16>, %wt: tensor<64x1536xbf16>, %bt: tensor<64xbf16>)
    -> (tensor<?x4x64xbf16>, tensor<2x4x64xbf16>) {
  // CHECK: vision.patch_embed %{{.*}}, %{{.*}}, %{{.*}} {patch_size = 16 : i64} : (tensor<?x3x32x32xbf16>, tensor<64x768xbf16>, tensor<64xbf16>) -> tensor<?x4x64xbf16>
  %0 = vision.patch_embed %x, %w, %b {patch_size = 16 : i64}
      : (tensor<?x3x32x32xbf16>, tensor<64x768xbf16>, tensor<64xbf16>) -> tensor<?x4x64xbf16>
  // CHECK: vision.tubelet_embed %{{.*}}, %{{.*}}, %{{.*}} {patch_size = 16 : i64, temporal_patch_size = 2 : i64} : (tensor<3x3x32x32xbf16>, tensor<64x1536xbf16>, tensor<64xbf16>) -> tensor<2x4x64xbf16>
  %1 = vision.tubelet_embed %f, %wt, %bt {patch_size = 16 : i64, temporal_patch_size = 2 : i64}
      : (tensor<3x3x32x32xbf16>, tensor<64x1536xbf16>, tensor<64xbf16>) -> tensor<2x4x64xbf16>
  return %0, %1 : tensor<?x4x64xbf16>, tensor<2x4x64xbf16>
}

// CHECK-LABEL: func.func @tubelet_embed
func.func @tubelet_embed(%f: tensor<?x3x384x672xbf16>, %w: tensor<1280x1536xbf16>,
                         %odd: tensor<5x3x32x32xf16>, %w16: tensor<64x1536xf16>,
                         %one: tensor<3x3x32x32xf16>, %w1: tensor<64x768xf16>)
    -> (tensor<?x1008x1280xbf16>, tensor<3x4x64xf16>, tensor<3x4x64xf16>) {
  // CHECK: vision.tubelet_embed %{{.*}}, %{{.*}} {patch_size = 16 : i64, temporal_patch_size = 2 : i64} : (tensor<?x3x384x672xbf16>, tensor<1280x1536xbf16>) -> tensor<?x1008x1280xbf16>
  %0 = vision.tubelet_embed %f, %w {patch_size = 16 : i64, temporal_patch_size = 2 : i64}
      : (tensor<?x3x384x672xbf16>, tensor<1280x1536xbf16>) -> tensor<?x1008x1280xbf16>
  // Five frames at T = 2: three tubelets.
  // CHECK: vision.tubelet_embed {{.*}} -> tensor<3x4x64xf16>
  %1 = vision.tubelet_embed %odd, %w16 {patch_size = 16 : i64, temporal_patch_size = 2 : i64}
      : (tensor<5x3x32x32xf16>, tensor<64x1536xf16>) -> tensor<3x4x64xf16>
  // CHECK: vision.tubelet_embed {{.*}}temporal_patch_size = 1 : i64{{.*}} -> tensor<3x4x64xf16>
  %2 = vision.tubelet_embed %one, %w1 {patch_size = 16 : i64, temporal_patch_size = 1 : i64}
      : (tensor<3x3x32x32xf16>, tensor<64x768xf16>) -> tensor<3x4x64xf16>
  return %0, %1, %2 : tensor<?x1008x1280xbf16>, tensor<3x4x64xf16>, tensor<3x4x64xf16>
}

// CHECK-LABEL: func.func @interp_pos_embed
func.func @interp_pos_embed(%t: tensor<1x16384x1280xbf16>)
    -> (tensor<1x1008x1280xbf16>, tensor<1x17424x1280xbf16>) {
  // CHECK: vision.interp_pos_embed %{{.*}} {align_corners = false, grid = array<i64: 24, 42>} : tensor<1x16384x1280xbf16> -> tensor<1x1008x1280xbf16>
  %0 = vision.interp_pos_embed %t {align_corners = false, grid = array<i64: 24, 42>}
      : tensor<1x16384x1280xbf16> -> tensor<1x1008x1280xbf16>
  // Upsampling beyond the table (132 > 128).
  // CHECK: vision.interp_pos_embed %{{.*}} {align_corners = true, grid = array<i64: 132, 132>}
  %1 = vision.interp_pos_embed %t {align_corners = true, grid = array<i64: 132, 132>}
      : tensor<1x16384x1280xbf16> -> tensor<1x17424x1280xbf16>
  return %0, %1 : tensor<1x1008x1280xbf16>, tensor<1x17424x1280xbf16>
}

// CHECK-LABEL: func.func @prefix_tokens
func.func @prefix_tokens(%cls: tensor<10x1280xbf16>, %x: tensor<?x1024x1280xbf16>,
                         %packed: tensor<1x2032x1280xbf16>)
    -> (tensor<?x1024x1280xbf16>, tensor<1x2032x1280xbf16>) {
  // CHECK: %[[P:.*]] = vision.prepend_tokens %{{.*}}, %{{.*}} : (tensor<10x1280xbf16>, tensor<?x1024x1280xbf16>) -> tensor<?x1034x1280xbf16>
  %0 = vision.prepend_tokens %cls, %x
      : (tensor<10x1280xbf16>, tensor<?x1024x1280xbf16>) -> tensor<?x1034x1280xbf16>
  // CHECK: vision.strip_prefix %[[P]] {num_prefix = 10 : i64} : tensor<?x1034x1280xbf16> -> tensor<?x1024x1280xbf16>
  %1 = vision.strip_prefix %0 {num_prefix = 10 : i64}
      : tensor<?x1034x1280xbf16> -> tensor<?x1024x1280xbf16>
  // Two packed images of 1008 and 1024 patches.
  // CHECK: %[[Q:.*]] = vision.prepend_tokens %{{.*}}, %{{.*}} {segment_sizes = array<i64: 1008, 1024>} : (tensor<10x1280xbf16>, tensor<1x2032x1280xbf16>) -> tensor<1x2052x1280xbf16>
  %2 = vision.prepend_tokens %cls, %packed {segment_sizes = array<i64: 1008, 1024>}
      : (tensor<10x1280xbf16>, tensor<1x2032x1280xbf16>) -> tensor<1x2052x1280xbf16>
  // CHECK: vision.strip_prefix %[[Q]] {num_prefix = 10 : i64, segment_sizes = array<i64: 1008, 1024>} : tensor<1x2052x1280xbf16> -> tensor<1x2032x1280xbf16>
  %3 = vision.strip_prefix %2 {num_prefix = 10 : i64, segment_sizes = array<i64: 1008, 1024>}
      : tensor<1x2052x1280xbf16> -> tensor<1x2032x1280xbf16>
  return %1, %3 : tensor<?x1024x1280xbf16>, tensor<1x2032x1280xbf16>
}

// CHECK-LABEL: func.func @norms
func.func @norms(%x: tensor<?x1034x1280xbf16>, %g: tensor<1280xbf16>, %b: tensor<1280xbf16>,
                 %y: tensor<?x256x5120xf32>, %w: tensor<5120xf32>)
    -> (tensor<?x1034x1280xbf16>, tensor<?x256x5120xf32>, tensor<?x256x5120xf32>) {
  // CHECK: vision.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : (tensor<?x1034x1280xbf16>, tensor<1280xbf16>, tensor<1280xbf16>) -> tensor<?x1034x1280xbf16>
  %0 = vision.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f64}
      : (tensor<?x1034x1280xbf16>, tensor<1280xbf16>, tensor<1280xbf16>) -> tensor<?x1034x1280xbf16>
  // CHECK: vision.rms_norm %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64, weight_order = #vision.weight_order<cast_then_scale>} : (tensor<?x256x5120xf32>, tensor<5120xf32>) -> tensor<?x256x5120xf32>
  %1 = vision.rms_norm %y, %w {epsilon = 1.0e-05 : f64, weight_order = #vision.weight_order<cast_then_scale>}
      : (tensor<?x256x5120xf32>, tensor<5120xf32>) -> tensor<?x256x5120xf32>
  // CHECK: weight_order = #vision.weight_order<scale_then_cast>
  %2 = vision.rms_norm %y, %w {epsilon = 1.0e-05 : f64, weight_order = #vision.weight_order<scale_then_cast>}
      : (tensor<?x256x5120xf32>, tensor<5120xf32>) -> tensor<?x256x5120xf32>
  return %0, %1, %2 : tensor<?x1034x1280xbf16>, tensor<?x256x5120xf32>, tensor<?x256x5120xf32>
}

// CHECK-LABEL: func.func @linear_and_activations
func.func @linear_and_activations(%x: tensor<?x1034x1280xbf16>, %w: tensor<5120x1280xbf16>,
                                  %b: tensor<5120xbf16>, %p: tensor<256x5120xf16>,
                                  %w2: tensor<2688x5120xf16>)
    -> (tensor<?x1034x5120xbf16>, tensor<?x1034x5120xbf16>, tensor<256x2688xf16>) {
  // CHECK: %[[L:.*]] = vision.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x1034x1280xbf16>, tensor<5120x1280xbf16>, tensor<5120xbf16>) -> tensor<?x1034x5120xbf16>
  %0 = vision.linear %x, %w, %b
      : (tensor<?x1034x1280xbf16>, tensor<5120x1280xbf16>, tensor<5120xbf16>) -> tensor<?x1034x5120xbf16>
  // CHECK: vision.gelu %[[L]] {approximation = #vision.gelu_approximation<none>} : tensor<?x1034x5120xbf16>
  %1 = vision.gelu %0 {approximation = #vision.gelu_approximation<none>} : tensor<?x1034x5120xbf16>
  // CHECK: vision.gelu %{{.*}} {approximation = #vision.gelu_approximation<tanh>} : tensor<?x1034x5120xbf16>
  %2 = vision.gelu %0 {approximation = #vision.gelu_approximation<tanh>} : tensor<?x1034x5120xbf16>
  // Without bias.
  // CHECK: %[[M:.*]] = vision.linear %{{.*}}, %{{.*}} : (tensor<256x5120xf16>, tensor<2688x5120xf16>) -> tensor<256x2688xf16>
  %3 = vision.linear %p, %w2 : (tensor<256x5120xf16>, tensor<2688x5120xf16>) -> tensor<256x2688xf16>
  // CHECK: vision.relu2 %[[M]] : tensor<256x2688xf16>
  %4 = vision.relu2 %3 : tensor<256x2688xf16>
  return %1, %2, %4 : tensor<?x1034x5120xbf16>, tensor<?x1034x5120xbf16>, tensor<256x2688xf16>
}

// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<?x1034x1280xbf16>, %k: tensor<?x1034x1280xbf16>,
                     %v: tensor<?x1034x1280xbf16>, %pq: tensor<1x2052x160xf32>,
                     %cu: tensor<3xi32>, %dyn: tensor<?xi32>)
    -> (tensor<?x1034x1280xbf16>, tensor<1x2052x160xf32>, tensor<1x2052x160xf32>) {
  // CHECK: vision.attention %{{.*}}, %{{.*}}, %{{.*}} {num_heads = 16 : i64, scale = 0.11180339887498948 : f64} : (tensor<?x1034x1280xbf16>, tensor<?x1034x1280xbf16>, tensor<?x1034x1280xbf16>) -> tensor<?x1034x1280xbf16>
  %0 = vision.attention %q, %k, %v {num_heads = 16 : i64, scale = 0.11180339887498948 : f64}
      : (tensor<?x1034x1280xbf16>, tensor<?x1034x1280xbf16>, tensor<?x1034x1280xbf16>)
      -> tensor<?x1034x1280xbf16>
  // Packed sequences, block-diagonal.
  // CHECK: vision.attention %{{.*}}, %{{.*}}, %{{.*}} cu_seqlens(%{{.*}}) {num_heads = 2 : i64, scale = 0.11180339887498948 : f64} : (tensor<1x2052x160xf32>, tensor<1x2052x160xf32>, tensor<1x2052x160xf32>, tensor<3xi32>) -> tensor<1x2052x160xf32>
  %1 = vision.attention %pq, %pq, %pq cu_seqlens(%cu) {num_heads = 2 : i64, scale = 0.11180339887498948 : f64}
      : (tensor<1x2052x160xf32>, tensor<1x2052x160xf32>, tensor<1x2052x160xf32>, tensor<3xi32>)
      -> tensor<1x2052x160xf32>
  // CHECK: cu_seqlens(%{{.*}}) {{.*}} tensor<?xi32>) -> tensor<1x2052x160xf32>
  %2 = vision.attention %pq, %pq, %pq cu_seqlens(%dyn) {num_heads = 2 : i64, scale = 0.11180339887498948 : f64}
      : (tensor<1x2052x160xf32>, tensor<1x2052x160xf32>, tensor<1x2052x160xf32>, tensor<?xi32>)
      -> tensor<1x2052x160xf32>
  return %0, %1, %2 : tensor<?x1034x1280xbf16>, tensor<1x2052x160xf32>, tensor<1x2052x160xf32>
}

// CHECK-LABEL: func.func @pixel_shuffle
func.func @pixel_shuffle(%x: tensor<?x1024x1280xbf16>, %p: tensor<1x2032x1280xbf16>)
    -> (tensor<?x256x5120xbf16>, tensor<?x256x5120xbf16>, tensor<1x508x5120xbf16>) {
  // CHECK: vision.pixel_shuffle %{{.*}} {grid = array<i64: 32, 32>, version = #vision.pixel_shuffle_version<v2>} : tensor<?x1024x1280xbf16> -> tensor<?x256x5120xbf16>
  %0 = vision.pixel_shuffle %x {grid = array<i64: 32, 32>, version = #vision.pixel_shuffle_version<v2>}
      : tensor<?x1024x1280xbf16> -> tensor<?x256x5120xbf16>
  // CHECK: version = #vision.pixel_shuffle_version<v1>
  %1 = vision.pixel_shuffle %x {grid = array<i64: 32, 32>, version = #vision.pixel_shuffle_version<v1>}
      : tensor<?x1024x1280xbf16> -> tensor<?x256x5120xbf16>
  // Packed images 24x42 and 32x32.
  // CHECK: vision.pixel_shuffle %{{.*}} {grid = array<i64: 24, 42, 32, 32>, version = #vision.pixel_shuffle_version<v2>} : tensor<1x2032x1280xbf16> -> tensor<1x508x5120xbf16>
  %2 = vision.pixel_shuffle %p {grid = array<i64: 24, 42, 32, 32>, version = #vision.pixel_shuffle_version<v2>}
      : tensor<1x2032x1280xbf16> -> tensor<1x508x5120xbf16>
  return %0, %1, %2 : tensor<?x256x5120xbf16>, tensor<?x256x5120xbf16>, tensor<1x508x5120xbf16>
}

// CHECK-LABEL: func.func @evs_prune
func.func @evs_prune(%x: tensor<8x256x2688xbf16>, %d: tensor<?x252x2688xf32>, %s: tensor<20x5x16xf32>)
    -> (tensor<512x2688xbf16>, tensor<8xi64>, tensor<?x2688xf32>, tensor<?xi64>,
        tensor<9x16xf32>, tensor<20xi64>) {
  // CHECK: %{{.*}}, %{{.*}} = vision.evs_prune %{{.*}} {rate = 7.500000e-01 : f64} : tensor<8x256x2688xbf16> -> tensor<512x2688xbf16>, tensor<8xi64>
  %kept, %counts = vision.evs_prune %x {rate = 7.500000e-01 : f64}
      : tensor<8x256x2688xbf16> -> tensor<512x2688xbf16>, tensor<8xi64>
  // A dynamic number of tubelets gives a dynamic kept count.
  // CHECK: vision.evs_prune %{{.*}} {rate = 5.000000e-01 : f64} : tensor<?x252x2688xf32> -> tensor<?x2688xf32>, tensor<?xi64>
  %dkept, %dcounts = vision.evs_prune %d {rate = 5.000000e-01 : f64}
      : tensor<?x252x2688xf32> -> tensor<?x2688xf32>, tensor<?xi64>
  // 100 tokens at q = 0.9: int(100 * 0.09999999999999998) = 9, not 10.
  // CHECK: vision.evs_prune %{{.*}} {rate = 9.000000e-01 : f64} : tensor<20x5x16xf32> -> tensor<9x16xf32>, tensor<20xi64>
  %skept, %scounts = vision.evs_prune %s {rate = 9.000000e-01 : f64}
      : tensor<20x5x16xf32> -> tensor<9x16xf32>, tensor<20xi64>
  return %kept, %counts, %dkept, %dcounts, %skept, %scounts
      : tensor<512x2688xbf16>, tensor<8xi64>, tensor<?x2688xf32>, tensor<?xi64>,
        tensor<9x16xf32>, tensor<20xi64>
}

// CHECK-LABEL: func.func @fusion_group
func.func @fusion_group(%x: tensor<?x18x64xbf16>, %h: tensor<?x18x256xbf16>, %w: tensor<64x256xbf16>, %b: tensor<64xbf16>)
    -> tensor<?x18x64xbf16> {
  // CHECK: %[[G:.*]] = vision.fusion_group "blocks.0.mlp.fc2" rule = <matmul_epilogue> -> tensor<?x18x64xbf16> {
  // CHECK-NEXT: %[[L:.*]] = vision.linear
  // CHECK-NEXT: %[[A:.*]] = arith.addf %{{.*}}, %[[L]]
  // CHECK-NEXT: vision.yield %[[A]] : tensor<?x18x64xbf16>
  // CHECK-NEXT: }
  %0 = vision.fusion_group "blocks.0.mlp.fc2" rule = <matmul_epilogue> -> tensor<?x18x64xbf16> {
    %1 = vision.linear %h, %w, %b : (tensor<?x18x256xbf16>, tensor<64x256xbf16>, tensor<64xbf16>) -> tensor<?x18x64xbf16>
    %2 = arith.addf %x, %1 : tensor<?x18x64xbf16>
    vision.yield %2 : tensor<?x18x64xbf16>
  }
  // Groups with several results, and with attributes of their own.
  // CHECK: vision.fusion_group "norm" rule = <residual_norm> -> tensor<?x18x64xbf16>, tensor<?x18x64xbf16> attributes {note = "kept"}
  %3:2 = vision.fusion_group "norm" rule = <residual_norm> -> tensor<?x18x64xbf16>, tensor<?x18x64xbf16> attributes {note = "kept"} {
    %4 = arith.addf %0, %x : tensor<?x18x64xbf16>
    %5 = vision.layer_norm %4, %b, %b {epsilon = 1.0e-6 : f64} : (tensor<?x18x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<?x18x64xbf16>
    vision.yield %4, %5 : tensor<?x18x64xbf16>, tensor<?x18x64xbf16>
  }
  return %3#1 : tensor<?x18x64xbf16>
}
