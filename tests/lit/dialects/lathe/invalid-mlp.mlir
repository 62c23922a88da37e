// Every rule of lathe.mlp's verifier (the SwiGLU weight rules it shares with
// lathe.moe's experts, and block scales over three weights).
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

func.func @scalar_input(%x: tensor<f32>, %g: tensor<160x64xbf16>, %u: tensor<160x64xbf16>, %d: tensor<64x160xbf16>) {
  // expected-error @+1 {{'lathe.mlp' op input must have rank at least 1, got []}}
  %0 = lathe.mlp %x, %g, %u, %d : (tensor<f32>, tensor<160x64xbf16>, tensor<160x64xbf16>, tensor<64x160xbf16>) -> tensor<f32>
  return
}

// -----

func.func @dynamic_hidden(%x: tensor<?x?x?xf32>, %g: tensor<160x64xbf16>, %u: tensor<160x64xbf16>, %d: tensor<64x160xbf16>) {
  // expected-error @+1 {{'lathe.mlp' op input must have a static last dim, got [?, ?, ?]}}
  %0 = lathe.mlp %x, %g, %u, %d : (tensor<?x?x?xf32>, tensor<160x64xbf16>, tensor<160x64xbf16>, tensor<64x160xbf16>) -> tensor<?x?x?xf32>
  return
}

// -----

// gate transposed: [hidden, inter] instead of [inter, hidden].
func.func @gate_transposed(%x: tensor<?x?x64xf32>, %u: tensor<160x64xbf16>, %d: tensor<64x160xbf16>) {
  %g = lathe.weight "model.layers.0.mlp.gate_proj.weight" in "model.safetensors" at 0 : tensor<64x160xbf16>
  // expected-error @+1 {{'lathe.mlp' op gate ('model.layers.0.mlp.gate_proj.weight') has shape [64, 160] but must be [inter, 64] for hidden size 64}}
  %0 = lathe.mlp %x, %g, %u, %d : (tensor<?x?x64xf32>, tensor<64x160xbf16>, tensor<160x64xbf16>, tensor<64x160xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @gate_rank(%x: tensor<?x?x64xf32>, %g: tensor<64xbf16>, %u: tensor<160x64xbf16>, %d: tensor<64x160xbf16>) {
  // expected-error @+1 {{'lathe.mlp' op gate has shape [64] but must be [inter, 64] for hidden size 64}}
  %0 = lathe.mlp %x, %g, %u, %d : (tensor<?x?x64xf32>, tensor<64xbf16>, tensor<160x64xbf16>, tensor<64x160xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// The gate fixes inter; a dynamic one would let up and down be anything.
func.func @gate_dynamic(%x: tensor<?x?x64xf32>, %g: tensor<?x64xbf16>, %u: tensor<?x64xbf16>, %d: tensor<64x?xbf16>) {
  // expected-error @+1 {{'lathe.mlp' op gate must have a static shape, got [?, 64]}}
  %0 = lathe.mlp %x, %g, %u, %d : (tensor<?x?x64xf32>, tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<64x?xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @up_shape(%x: tensor<?x?x64xf32>, %g: tensor<160x64xbf16>, %d: tensor<64x160xbf16>) {
  %u = lathe.weight "model.layers.0.mlp.up_proj.weight" in "model.safetensors" at 0 : tensor<128x64xbf16>
  // expected-error @+1 {{'lathe.mlp' op up ('model.layers.0.mlp.up_proj.weight') has shape [128, 64] but its gate needs [160, 64]}}
  %0 = lathe.mlp %x, %g, %u, %d : (tensor<?x?x64xf32>, tensor<160x64xbf16>, tensor<128x64xbf16>, tensor<64x160xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// down is [hidden, inter]; a [inter, hidden] down is the usual mix-up.
func.func @down_shape(%x: tensor<?x?x64xf32>, %g: tensor<160x64xbf16>, %u: tensor<160x64xbf16>) {
  %d = lathe.weight "model.layers.0.mlp.down_proj.weight" in "model.safetensors" at 0 : tensor<160x64xbf16>
  // expected-error @+1 {{'lathe.mlp' op down ('model.layers.0.mlp.down_proj.weight') has shape [160, 64] but its gate needs [64, 160]}}
  %0 = lathe.mlp %x, %g, %u, %d : (tensor<?x?x64xf32>, tensor<160x64xbf16>, tensor<160x64xbf16>, tensor<160x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @result_type(%x: tensor<?x?x64xf32>, %g: tensor<160x64xbf16>, %u: tensor<160x64xbf16>, %d: tensor<64x160xbf16>) {
  // expected-error @+1 {{'lathe.mlp' op failed to verify that all of {input, result} have same type}}
  %0 = lathe.mlp %x, %g, %u, %d : (tensor<?x?x64xf32>, tensor<160x64xbf16>, tensor<160x64xbf16>, tensor<64x160xbf16>) -> tensor<?x?x64xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// FP8 block scales over several weights
//===----------------------------------------------------------------------===//

// Three FP8 weights need three scales.
func.func @scale_count(%x: tensor<?x?x200xf32>, %g: tensor<300x200xf8E4M3FN>, %u: tensor<300x200xf8E4M3FN>,
                       %d: tensor<200x300xf8E4M3FN>, %s: tensor<3x2xf32>) {
  // expected-error @+1 {{'lathe.mlp' op has 2 scale operand(s) but 3 FP8 weight(s); each FP8 weight needs one}}
  %0 = lathe.mlp %x, %g, %u, %d scales(%s, %s) {block_size = array<i64: 128, 128>}
      : (tensor<?x?x200xf32>, tensor<300x200xf8E4M3FN>, tensor<300x200xf8E4M3FN>, tensor<200x300xf8E4M3FN>,
         tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

// Scales pair with FP8 weights in operand order: the third scale belongs to
// down [200, 300], which needs 2x3.
func.func @scale_order(%x: tensor<?x?x200xf32>, %g: tensor<300x200xf8E4M3FN>, %u: tensor<300x200xf8E4M3FN>,
                       %s: tensor<3x2xf32>) {
  %d = lathe.weight "model.layers.0.mlp.down_proj.weight" in "model.safetensors" at 0 : tensor<200x300xf8E4M3FN>
  // expected-error @+1 {{'lathe.mlp' op scale of down ('model.layers.0.mlp.down_proj.weight') has shape [3, 2] but block [128, 128] over [200, 300] needs [2, 3]}}
  %0 = lathe.mlp %x, %g, %u, %d scales(%s, %s, %s) {block_size = array<i64: 128, 128>}
      : (tensor<?x?x200xf32>, tensor<300x200xf8E4M3FN>, tensor<300x200xf8E4M3FN>, tensor<200x300xf8E4M3FN>,
         tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

// With only up in FP8 its scale is the first and only one.
func.func @only_up_fp8(%x: tensor<?x?x200xf32>, %g: tensor<300x200xbf16>, %u: tensor<300x200xf8E4M3FN>,
                       %d: tensor<200x300xbf16>, %s: tensor<2x3xf32>) {
  // expected-error @+1 {{'lathe.mlp' op scale of up has shape [2, 3] but block [128, 128] over [300, 200] needs [3, 2]}}
  %0 = lathe.mlp %x, %g, %u, %d scales(%s) {block_size = array<i64: 128, 128>}
      : (tensor<?x?x200xf32>, tensor<300x200xbf16>, tensor<300x200xf8E4M3FN>, tensor<200x300xbf16>,
         tensor<2x3xf32>) -> tensor<?x?x200xf32>
  return
}

// -----

// The first FP8 weight is the one named.
func.func @no_block_size(%x: tensor<?x?x200xf32>, %g: tensor<300x200xbf16>, %u: tensor<300x200xf8E4M3FN>,
                         %d: tensor<200x300xf8E5M2>) {
  // expected-error @+1 {{'lathe.mlp' op up is FP8 but the op has no block_size}}
  %0 = lathe.mlp %x, %g, %u, %d
      : (tensor<?x?x200xf32>, tensor<300x200xbf16>, tensor<300x200xf8E4M3FN>, tensor<200x300xf8E5M2>) -> tensor<?x?x200xf32>
  return
}

// -----

func.func @scales_without_fp8(%x: tensor<?x?x64xf32>, %g: tensor<160x64xbf16>, %u: tensor<160x64xbf16>,
                              %d: tensor<64x160xbf16>, %s: tensor<2x1xf32>) {
  // expected-error @+1 {{'lathe.mlp' op has 3 scale operand(s) but no FP8 weight}}
  %0 = lathe.mlp %x, %g, %u, %d scales(%s, %s, %s)
      : (tensor<?x?x64xf32>, tensor<160x64xbf16>, tensor<160x64xbf16>, tensor<64x160xbf16>,
         tensor<2x1xf32>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @block_size_without_fp8(%x: tensor<?x?x64xf32>, %g: tensor<160x64xbf16>, %u: tensor<160x64xbf16>,
                                  %d: tensor<64x160xbf16>) {
  // expected-error @+1 {{'lathe.mlp' op has block_size but no FP8 weight}}
  %0 = lathe.mlp %x, %g, %u, %d {block_size = array<i64: 128, 128>}
      : (tensor<?x?x64xf32>, tensor<160x64xbf16>, tensor<160x64xbf16>, tensor<64x160xbf16>) -> tensor<?x?x64xf32>
  return
}
