// lathe.mlp: the SwiGLU MLP down(silu(gate(x)) * up(x)), gate and up
// [inter, hidden], down [hidden, inter]. FP8 weights take their scales in
// operand order (gate, up, down).
// RUN: lathe-opt %s | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | lathe-opt | FileCheck %s

// CHECK-LABEL: func.func @dense(
// CHECK-SAME: %[[H:[a-z0-9_]+]]: tensor<?x?x64xf32>
func.func @dense(%h: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  // CHECK: %[[G:.+]] = lathe.weight "model.layers.0.mlp.gate_proj.weight" in "model.safetensors" at 0 : tensor<160x64xbf16>
  // CHECK: %[[U:.+]] = lathe.weight "model.layers.0.mlp.up_proj.weight" in "model.safetensors" at 20480 : tensor<160x64xbf16>
  // CHECK: %[[D:.+]] = lathe.weight "model.layers.0.mlp.down_proj.weight" in "model.safetensors" at 40960 : tensor<64x160xbf16>
  %g = lathe.weight "model.layers.0.mlp.gate_proj.weight" in "model.safetensors" at 0 : tensor<160x64xbf16>
  %u = lathe.weight "model.layers.0.mlp.up_proj.weight" in "model.safetensors" at 20480 : tensor<160x64xbf16>
  %d = lathe.weight "model.layers.0.mlp.down_proj.weight" in "model.safetensors" at 40960 : tensor<64x160xbf16>
  // CHECK: %[[Y:.+]] = lathe.mlp %[[H]], %[[G]], %[[U]], %[[D]] : (tensor<?x?x64xf32>, tensor<160x64xbf16>, tensor<160x64xbf16>, tensor<64x160xbf16>) -> tensor<?x?x64xf32>
  %y = lathe.mlp %h, %g, %u, %d
      : (tensor<?x?x64xf32>, tensor<160x64xbf16>, tensor<160x64xbf16>, tensor<64x160xbf16>) -> tensor<?x?x64xf32>
  // CHECK: return %[[Y]]
  return %y : tensor<?x?x64xf32>
}

// All three FP8: gate/up 300x200 -> 3x2 scales of 128x128, down 200x300 ->
// 2x3. Scales follow the weights' operand order.
// CHECK-LABEL: func.func @fp8(
// CHECK-SAME: %[[H:[a-z0-9_]+]]: tensor<?x?x200xbf16>, %[[G:[a-z0-9_]+]]: tensor<300x200xf8E4M3FN>, %[[U:[a-z0-9_]+]]: tensor<300x200xf8E4M3FN>, %[[D:[a-z0-9_]+]]: tensor<200x300xf8E4M3FN>, %[[GS:[a-z0-9_]+]]: tensor<3x2xf32>, %[[US:[a-z0-9_]+]]: tensor<3x2xf32>, %[[DS:[a-z0-9_]+]]: tensor<2x3xf32>
func.func @fp8(%h: tensor<?x?x200xbf16>, %g: tensor<300x200xf8E4M3FN>, %u: tensor<300x200xf8E4M3FN>,
               %d: tensor<200x300xf8E4M3FN>, %gs: tensor<3x2xf32>, %us: tensor<3x2xf32>,
               %ds: tensor<2x3xf32>) -> tensor<?x?x200xbf16> {
  // CHECK: lathe.mlp %[[H]], %[[G]], %[[U]], %[[D]] scales(%[[GS]], %[[US]], %[[DS]]) {block_size = array<i64: 128, 128>} : (tensor<?x?x200xbf16>, tensor<300x200xf8E4M3FN>, tensor<300x200xf8E4M3FN>, tensor<200x300xf8E4M3FN>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<2x3xf32>) -> tensor<?x?x200xbf16>
  %y = lathe.mlp %h, %g, %u, %d scales(%gs, %us, %ds) {block_size = array<i64: 128, 128>}
      : (tensor<?x?x200xbf16>, tensor<300x200xf8E4M3FN>, tensor<300x200xf8E4M3FN>, tensor<200x300xf8E4M3FN>,
         tensor<3x2xf32>, tensor<3x2xf32>, tensor<2x3xf32>) -> tensor<?x?x200xbf16>
  return %y : tensor<?x?x200xbf16>
}

// Only down is FP8 (the others bf16): exactly one scale, for down.
// CHECK-LABEL: func.func @mixed(
// CHECK-SAME: %[[H:[a-z0-9_]+]]: tensor<4x64xf32>, %[[G:[a-z0-9_]+]]: tensor<96x64xbf16>, %[[U:[a-z0-9_]+]]: tensor<96x64xbf16>, %[[D:[a-z0-9_]+]]: tensor<64x96xf8E5M2>, %[[DS:[a-z0-9_]+]]: tensor<1x2xf32>
func.func @mixed(%h: tensor<4x64xf32>, %g: tensor<96x64xbf16>, %u: tensor<96x64xbf16>,
                 %d: tensor<64x96xf8E5M2>, %ds: tensor<1x2xf32>) -> tensor<4x64xf32> {
  // CHECK: lathe.mlp %[[H]], %[[G]], %[[U]], %[[D]] scales(%[[DS]]) {block_size = array<i64: 64, 64>} : (tensor<4x64xf32>, tensor<96x64xbf16>, tensor<96x64xbf16>, tensor<64x96xf8E5M2>, tensor<1x2xf32>) -> tensor<4x64xf32>
  %y = lathe.mlp %h, %g, %u, %d scales(%ds) {block_size = array<i64: 64, 64>}
      : (tensor<4x64xf32>, tensor<96x64xbf16>, tensor<96x64xbf16>, tensor<64x96xf8E5M2>, tensor<1x2xf32>) -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}
