// The image path of a small RADIO-style encoder with the Nano VL projector,
// written in the vision dialect: width 64, 2 heads of 32, one ViT block,
// 2 prefix tokens, 64x64 images (4x4 patches of 16), pixel shuffle v2 and a
// projector to an LLM width of 128. Weights are named function arguments
// carrying their checkpoint names; the number of images is dynamic.
//
//   fovea-opt --canonicalize examples/tiny_image_pipeline.mlir

func.func @image_pipeline(
    %pixels: tensor<?x3x64x64xui8>,
    %patch_w: tensor<64x768xbf16> {vision.weight = "vision_model.radio_model.model.patch_generator.embedder.weight"},
    %pos_table: tensor<1x64x64xbf16> {vision.weight = "vision_model.radio_model.model.patch_generator.pos_embed"},
    %cls: tensor<2x64xbf16> {vision.weight = "vision_model.radio_model.model.patch_generator.cls_token.token"},
    %ln1_w: tensor<64xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.norm1.weight"},
    %ln1_b: tensor<64xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.norm1.bias"},
    %qkv_w: tensor<192x64xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.attn.qkv.weight"},
    %qkv_b: tensor<192xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.attn.qkv.bias"},
    %proj_w: tensor<64x64xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.attn.proj.weight"},
    %proj_b: tensor<64xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.attn.proj.bias"},
    %ln2_w: tensor<64xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.norm2.weight"},
    %ln2_b: tensor<64xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.norm2.bias"},
    %fc1_w: tensor<256x64xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.mlp.fc1.weight"},
    %fc1_b: tensor<256xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.mlp.fc1.bias"},
    %fc2_w: tensor<64x256xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.mlp.fc2.weight"},
    %fc2_b: tensor<64xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.mlp.fc2.bias"},
    %mlp1_0: tensor<256xbf16> {vision.weight = "mlp1.0.weight"},
    %mlp1_1: tensor<512x256xbf16> {vision.weight = "mlp1.1.weight"},
    %mlp1_3: tensor<128x512xbf16> {vision.weight = "mlp1.3.weight"})
    -> tensor<?x4x128xbf16> {
  // Input conditioning. The images already have the compiled size, so the
  // resize folds away.
  %resized = vision.resize %pixels {domain = #vision.resize_domain<u8>, size = array<i64: 64, 64>}
      : tensor<?x3x64x64xui8> -> tensor<?x3x64x64xui8>
  %norm = vision.normalize %resized {mean = array<f32: 0.48145466, 0.4578275, 0.40821073>,
                                     std = array<f32: 0.26862954, 0.26130258, 0.27577711>}
      : tensor<?x3x64x64xui8> -> tensor<?x3x64x64xf32>
  %x = arith.truncf %norm : tensor<?x3x64x64xf32> to tensor<?x3x64x64xbf16>

  // Embedding: patches, position embeddings for a 4x4 grid, prefix tokens.
  %patches = vision.patch_embed %x, %patch_w {patch_size = 16 : i64}
      : (tensor<?x3x64x64xbf16>, tensor<64x768xbf16>) -> tensor<?x16x64xbf16>
  %pos = vision.interp_pos_embed %pos_table {align_corners = false, grid = array<i64: 4, 4>}
      : tensor<1x64x64xbf16> -> tensor<1x16x64xbf16>
  %c0 = arith.constant 0 : index
  %n = tensor.dim %patches, %c0 : tensor<?x16x64xbf16>
  %pos_b = tensor.empty(%n) : tensor<?x16x64xbf16>
  %pos_2d = tensor.collapse_shape %pos [[0, 1], [2]] : tensor<1x16x64xbf16> into tensor<16x64xbf16>
  %pos_n = linalg.broadcast ins(%pos_2d : tensor<16x64xbf16>) outs(%pos_b : tensor<?x16x64xbf16>) dimensions = [0]
  %embedded = arith.addf %patches, %pos_n : tensor<?x16x64xbf16>
  %seq = vision.prepend_tokens %cls, %embedded
      : (tensor<2x64xbf16>, tensor<?x16x64xbf16>) -> tensor<?x18x64xbf16>

  // One pre-norm ViT block.
  %h1 = vision.layer_norm %seq, %ln1_w, %ln1_b {epsilon = 1.0e-06 : f64}
      : (tensor<?x18x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<?x18x64xbf16>
  %qkv = vision.linear %h1, %qkv_w, %qkv_b
      : (tensor<?x18x64xbf16>, tensor<192x64xbf16>, tensor<192xbf16>) -> tensor<?x18x192xbf16>
  %q = tensor.extract_slice %qkv[0, 0, 0] [%n, 18, 64] [1, 1, 1] : tensor<?x18x192xbf16> to tensor<?x18x64xbf16>
  %k = tensor.extract_slice %qkv[0, 0, 64] [%n, 18, 64] [1, 1, 1] : tensor<?x18x192xbf16> to tensor<?x18x64xbf16>
  %v = tensor.extract_slice %qkv[0, 0, 128] [%n, 18, 64] [1, 1, 1] : tensor<?x18x192xbf16> to tensor<?x18x64xbf16>
  %attn = vision.attention %q, %k, %v {num_heads = 2 : i64, scale = 0.17677669529663687 : f64}
      : (tensor<?x18x64xbf16>, tensor<?x18x64xbf16>, tensor<?x18x64xbf16>) -> tensor<?x18x64xbf16>
  %proj = vision.linear %attn, %proj_w, %proj_b
      : (tensor<?x18x64xbf16>, tensor<64x64xbf16>, tensor<64xbf16>) -> tensor<?x18x64xbf16>
  %r1 = arith.addf %seq, %proj : tensor<?x18x64xbf16>
  %h2 = vision.layer_norm %r1, %ln2_w, %ln2_b {epsilon = 1.0e-06 : f64}
      : (tensor<?x18x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<?x18x64xbf16>
  %fc1 = vision.linear %h2, %fc1_w, %fc1_b
      : (tensor<?x18x64xbf16>, tensor<256x64xbf16>, tensor<256xbf16>) -> tensor<?x18x256xbf16>
  %act = vision.gelu %fc1 {approximation = #vision.gelu_approximation<none>} : tensor<?x18x256xbf16>
  %fc2 = vision.linear %act, %fc2_w, %fc2_b
      : (tensor<?x18x256xbf16>, tensor<64x256xbf16>, tensor<64xbf16>) -> tensor<?x18x64xbf16>
  %r2 = arith.addf %r1, %fc2 : tensor<?x18x64xbf16>

  // Back to patch tokens, 2x2 merge, projector.
  %tokens = vision.strip_prefix %r2 {num_prefix = 2 : i64} : tensor<?x18x64xbf16> -> tensor<?x16x64xbf16>
  %merged = vision.pixel_shuffle %tokens {grid = array<i64: 4, 4>, version = #vision.pixel_shuffle_version<v2>}
      : tensor<?x16x64xbf16> -> tensor<?x4x256xbf16>
  %p0 = vision.rms_norm %merged, %mlp1_0 {epsilon = 1.0e-05 : f64, weight_order = #vision.weight_order<cast_then_scale>}
      : (tensor<?x4x256xbf16>, tensor<256xbf16>) -> tensor<?x4x256xbf16>
  %p1 = vision.linear %p0, %mlp1_1 : (tensor<?x4x256xbf16>, tensor<512x256xbf16>) -> tensor<?x4x512xbf16>
  %p2 = vision.relu2 %p1 : tensor<?x4x512xbf16>
  %p3 = vision.linear %p2, %mlp1_3 : (tensor<?x4x512xbf16>, tensor<128x512xbf16>) -> tensor<?x4x128xbf16>
  return %p3 : tensor<?x4x128xbf16>
}
