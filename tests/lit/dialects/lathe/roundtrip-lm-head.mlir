// lathe.lm_head: f32 logits x · Wᵀ over the vocabulary; the weight stays in
// high precision.
// RUN: lathe-opt %s | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | lathe-opt | FileCheck %s

// CHECK-LABEL: func.func @logits(
// CHECK-SAME: %[[H:[a-z0-9_]+]]: tensor<?x?x64xf32>
func.func @logits(%h: tensor<?x?x64xf32>) -> tensor<?x?x1024xf32> {
  // CHECK: %[[W:.+]] = lathe.weight "lm_head.weight" in "model.safetensors" at 4096 : tensor<1024x64xbf16>
  %w = lathe.weight "lm_head.weight" in "model.safetensors" at 4096 : tensor<1024x64xbf16>
  // CHECK: %[[L:.+]] = lathe.lm_head %[[H]], %[[W]] : tensor<?x?x64xf32>, tensor<1024x64xbf16> -> tensor<?x?x1024xf32>
  %logits = lathe.lm_head %h, %w : tensor<?x?x64xf32>, tensor<1024x64xbf16> -> tensor<?x?x1024xf32>
  // CHECK: return %[[L]] : tensor<?x?x1024xf32>
  return %logits : tensor<?x?x1024xf32>
}

// Only the last position's logits (rank 2 input), bf16 activations, an f32
// or f16 weight, and a dynamic vocab dim in the result.
// CHECK-LABEL: func.func @variants(
// CHECK-SAME: %[[LAST:[a-z0-9_]+]]: tensor<3x64xbf16>, %[[W32:[a-z0-9_]+]]: tensor<1024x64xf32>, %[[W16:[a-z0-9_]+]]: tensor<1024x64xf16>
func.func @variants(%last: tensor<3x64xbf16>, %w32: tensor<1024x64xf32>,
                    %w16: tensor<1024x64xf16>) -> (tensor<3x1024xf32>, tensor<3x?xf32>) {
  // CHECK: lathe.lm_head %[[LAST]], %[[W32]] : tensor<3x64xbf16>, tensor<1024x64xf32> -> tensor<3x1024xf32>
  %0 = lathe.lm_head %last, %w32 : tensor<3x64xbf16>, tensor<1024x64xf32> -> tensor<3x1024xf32>
  // CHECK: lathe.lm_head %[[LAST]], %[[W16]] : tensor<3x64xbf16>, tensor<1024x64xf16> -> tensor<3x?xf32>
  %1 = lathe.lm_head %last, %w16 : tensor<3x64xbf16>, tensor<1024x64xf16> -> tensor<3x?xf32>
  return %0, %1 : tensor<3x1024xf32>, tensor<3x?xf32>
}
