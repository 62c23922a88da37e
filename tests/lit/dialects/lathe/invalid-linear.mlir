// Every rule of lathe.linear's verifier, including the FP8 block-scale rules
// shared with lathe.mlp, lathe.mla and lathe.moe, and its ODS constraints.
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

func.func @weight_rank(%x: tensor<?x?x64xf32>, %w: tensor<2x128x64xbf16>) {
  // expected-error @+1 {{'lathe.linear' op weight must be [out, in], got [2, 128, 64]}}
  %0 = lathe.linear %x, %w : (tensor<?x?x64xf32>, tensor<2x128x64xbf16>) -> tensor<?x?x128xf32>
  return
}

// -----

func.func @dynamic_weight(%x: tensor<?x?x64xf32>, %w: tensor<?x64xbf16>) {
  // expected-error @+1 {{'lathe.linear' op weight must have a static shape, got [?, 64]}}
  %0 = lathe.linear %x, %w : (tensor<?x?x64xf32>, tensor<?x64xbf16>) -> tensor<?x?x128xf32>
  return
}

// -----

func.func @scalar_input(%x: tensor<f32>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'lathe.linear' op input must have rank at least 1, got []}}
  %0 = lathe.linear %x, %w : (tensor<f32>, tensor<128x64xbf16>) -> tensor<128xf32>
  return
}

// -----

func.func @dynamic_features(%x: tensor<?x?x?xf32>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'lathe.linear' op input must have a static last dim, got [?, ?, ?]}}
  %0 = lathe.linear %x, %w : (tensor<?x?x?xf32>, tensor<128x64xbf16>) -> tensor<?x?x128xf32>
  return
}

// -----

func.func @in_features(%x: tensor<?x?x32xf32>) {
  %w = lathe.weight "model.layers.0.mlp.up_proj.weight" in "model.safetensors" at 0 : tensor<128x64xbf16>
  // expected-error @+1 {{'lathe.linear' op input has 32 features but weight ('model.layers.0.mlp.up_proj.weight') [128, 64] takes 64}}
  %0 = lathe.linear %x, %w : (tensor<?x?x32xf32>, tensor<128x64xbf16>) -> tensor<?x?x128xf32>
  return
}

// -----

func.func @result_element_type(%x: tensor<?x?x64xf32>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'lathe.linear' op result element type must match the input's}}
  %0 = lathe.linear %x, %w : (tensor<?x?x64xf32>, tensor<128x64xbf16>) -> tensor<?x?x128xbf16>
  return
}

// -----

func.func @out_features(%x: tensor<?x?x64xf32>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'lathe.linear' op result has shape [?, ?, 64] but needs [?, ?, 128]}}
  %0 = lathe.linear %x, %w : (tensor<?x?x64xf32>, tensor<128x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @result_rank(%x: tensor<?x?x64xf32>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'lathe.linear' op result has shape [?, 128] but needs [?, ?, 128]}}
  %0 = lathe.linear %x, %w : (tensor<?x?x64xf32>, tensor<128x64xbf16>) -> tensor<?x128xf32>
  return
}

// -----

func.func @leading_dims(%x: tensor<2x3x64xf32>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'lathe.linear' op result has shape [2, 4, 128] but needs [2, 3, 128]}}
  %0 = lathe.linear %x, %w : (tensor<2x3x64xf32>, tensor<128x64xbf16>) -> tensor<2x4x128xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// FP8 block scales
//===----------------------------------------------------------------------===//

func.func @fp8_without_block_size(%x: tensor<?x?x300xf32>, %s: tensor<2x3xf32>) {
  %q = lathe.weight "model.layers.0.mlp.up_proj.weight" in "model.safetensors" at 0 : tensor<200x300xf8E4M3FN>
  // expected-error @+1 {{'lathe.linear' op weight ('model.layers.0.mlp.up_proj.weight') is FP8 but the op has no block_size}}
  %0 = lathe.linear %x, %q scales(%s) : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<2x3xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

func.func @e5m2_without_block_size(%x: tensor<?x?x300xf32>, %q: tensor<200x300xf8E5M2>) {
  // expected-error @+1 {{'lathe.linear' op weight is FP8 but the op has no block_size}}
  %0 = lathe.linear %x, %q : (tensor<?x?x300xf32>, tensor<200x300xf8E5M2>) -> tensor<?x?x200xf32>
  return
}

// -----

func.func @block_size_arity(%x: tensor<?x?x300xf32>, %q: tensor<200x300xf8E4M3FN>, %s: tensor<2x3xf32>) {
  // expected-error @+1 {{'lathe.linear' op block_size must be two positive sizes, got [128, 128, 1]}}
  %0 = lathe.linear %x, %q scales(%s) {block_size = array<i64: 128, 128, 1>}
      : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<2x3xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

func.func @block_size_one(%x: tensor<?x?x300xf32>, %q: tensor<200x300xf8E4M3FN>, %s: tensor<2x3xf32>) {
  // expected-error @+1 {{'lathe.linear' op block_size must be two positive sizes, got [128]}}
  %0 = lathe.linear %x, %q scales(%s) {block_size = array<i64: 128>}
      : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<2x3xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

func.func @block_size_zero(%x: tensor<?x?x300xf32>, %q: tensor<200x300xf8E4M3FN>, %s: tensor<2x3xf32>) {
  // expected-error @+1 {{'lathe.linear' op block_size must be two positive sizes, got [128, 0]}}
  %0 = lathe.linear %x, %q scales(%s) {block_size = array<i64: 128, 0>}
      : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<2x3xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

func.func @block_size_negative(%x: tensor<?x?x300xf32>, %q: tensor<200x300xf8E4M3FN>, %s: tensor<2x3xf32>) {
  // expected-error @+1 {{'lathe.linear' op block_size must be two positive sizes, got [-128, 128]}}
  %0 = lathe.linear %x, %q scales(%s) {block_size = array<i64: -128, 128>}
      : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<2x3xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

func.func @missing_scale(%x: tensor<?x?x300xf32>, %q: tensor<200x300xf8E4M3FN>) {
  // expected-error @+1 {{'lathe.linear' op has 0 scale operand(s) but 1 FP8 weight(s); each FP8 weight needs one}}
  %0 = lathe.linear %x, %q {block_size = array<i64: 128, 128>}
      : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>) -> tensor<?x?x200xf32>
  return
}

// -----

func.func @extra_scale(%x: tensor<?x?x300xf32>, %q: tensor<200x300xf8E4M3FN>, %s: tensor<2x3xf32>) {
  // expected-error @+1 {{'lathe.linear' op has 2 scale operand(s) but 1 FP8 weight(s); each FP8 weight needs one}}
  %0 = lathe.linear %x, %q scales(%s, %s) {block_size = array<i64: 128, 128>}
      : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

// ceil(200/128) x ceil(300/128) = 2x3, not floor (1x2).
func.func @scale_shape(%x: tensor<?x?x300xf32>) {
  %q = lathe.weight "model.layers.0.mlp.up_proj.weight" in "model.safetensors" at 0 : tensor<200x300xf8E4M3FN>
  %s = lathe.weight "model.layers.0.mlp.up_proj.weight_scale_inv" in "model.safetensors" at 60000 : tensor<1x2xf32>
  // expected-error @+1 {{'lathe.linear' op scale of weight ('model.layers.0.mlp.up_proj.weight') has shape [1, 2] but block [128, 128] over [200, 300] needs [2, 3]}}
  %0 = lathe.linear %x, %q scales(%s) {block_size = array<i64: 128, 128>}
      : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<1x2xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

// Scales are [out blocks, in blocks], not transposed.
func.func @scale_transposed(%x: tensor<?x?x300xf32>, %q: tensor<200x300xf8E4M3FN>, %s: tensor<3x2xf32>) {
  // expected-error @+1 {{'lathe.linear' op scale of weight has shape [3, 2] but block [128, 128] over [200, 300] needs [2, 3]}}
  %0 = lathe.linear %x, %q scales(%s) {block_size = array<i64: 128, 128>}
      : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<3x2xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

func.func @scale_dynamic(%x: tensor<?x?x300xf32>, %q: tensor<200x300xf8E4M3FN>, %s: tensor<?x?xf32>) {
  // expected-error @+1 {{'lathe.linear' op scale of weight has shape [?, ?] but block [128, 128] over [200, 300] needs [2, 3]}}
  %0 = lathe.linear %x, %q scales(%s) {block_size = array<i64: 128, 128>}
      : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<?x?xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

func.func @scales_without_fp8(%x: tensor<?x?x64xf32>, %w: tensor<128x64xbf16>, %s: tensor<1x1xf32>) {
  // expected-error @+1 {{'lathe.linear' op has 1 scale operand(s) but no FP8 weight}}
  %0 = lathe.linear %x, %w scales(%s) : (tensor<?x?x64xf32>, tensor<128x64xbf16>, tensor<1x1xf32>) -> tensor<?x?x128xf32>
  return
}

// -----

func.func @block_size_without_fp8(%x: tensor<?x?x64xf32>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'lathe.linear' op has block_size but no FP8 weight}}
  %0 = lathe.linear %x, %w {block_size = array<i64: 128, 128>} : (tensor<?x?x64xf32>, tensor<128x64xbf16>) -> tensor<?x?x128xf32>
  return
}

// -----

// Scales are f32 and 2-D (ODS).
func.func @scale_type(%x: tensor<?x?x300xf32>, %q: tensor<200x300xf8E4M3FN>, %s: tensor<2x3xbf16>) {
  // expected-error @+1 {{'lathe.linear' op operand #2 must be variadic of 2D tensor of 32-bit float values, but got 'tensor<2x3xbf16>'}}
  %0 = lathe.linear %x, %q scales(%s) {block_size = array<i64: 128, 128>}
      : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<2x3xbf16>) -> tensor<?x?x200xf32>
  return
}

// -----

func.func @scale_rank(%x: tensor<?x?x300xf32>, %q: tensor<200x300xf8E4M3FN>, %s: tensor<6xf32>) {
  // expected-error @+1 {{'lathe.linear' op operand #2 must be variadic of 2D tensor of 32-bit float values, but got 'tensor<6xf32>'}}
  %0 = lathe.linear %x, %q scales(%s) {block_size = array<i64: 128, 128>}
      : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<6xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

func.func @block_size_type(%x: tensor<?x?x300xf32>, %q: tensor<200x300xf8E4M3FN>, %s: tensor<2x3xf32>) {
  // expected-error @+1 {{'lathe.linear' op attribute 'block_size' failed to satisfy constraint: i64 dense array attribute}}
  %0 = lathe.linear %x, %q scales(%s) {block_size = array<i32: 128, 128>}
      : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<2x3xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

func.func @integer_weight(%x: tensor<?x?x64xf32>, %w: tensor<128x64xi8>) {
  // expected-error @+1 {{'lathe.linear' op operand #1 must be ranked tensor of 32-bit float or bfloat16 type or 16-bit float or f8E4M3FN type or f8E5M2 type values, but got 'tensor<128x64xi8>'}}
  %0 = lathe.linear %x, %w : (tensor<?x?x64xf32>, tensor<128x64xi8>) -> tensor<?x?x128xf32>
  return
}
