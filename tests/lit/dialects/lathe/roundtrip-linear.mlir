// lathe.linear: y = x · Wᵀ with W [out, in]. High-precision weights take no
// scales; an FP8 weight takes one f32 scale [ceil(out/bo), ceil(in/bi)] and
// block_size = [bo, bi]. The functional type lists the scale too.
// RUN: lathe-opt %s | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// CHECK-LABEL: func.func @high_precision(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<?x?x64xf32>
func.func @high_precision(%x: tensor<?x?x64xf32>)
    -> (tensor<?x?x128xf32>, tensor<?x?x32xf32>, tensor<?x?x16xf32>) {
  // CHECK: %[[BF16:.+]] = lathe.weight "bf16.weight" in "m.safetensors" at 0 : tensor<128x64xbf16>
  // CHECK: %[[F32:.+]] = lathe.weight "f32.weight" in "m.safetensors" at 16384 : tensor<32x64xf32>
  // CHECK: %[[F16:.+]] = lathe.weight "f16.weight" in "m.safetensors" at 24576 : tensor<16x64xf16>
  %bf16 = lathe.weight "bf16.weight" in "m.safetensors" at 0 : tensor<128x64xbf16>
  %f32 = lathe.weight "f32.weight" in "m.safetensors" at 16384 : tensor<32x64xf32>
  %f16 = lathe.weight "f16.weight" in "m.safetensors" at 24576 : tensor<16x64xf16>
  // CHECK: %[[Y0:.+]] = lathe.linear %[[X]], %[[BF16]] : (tensor<?x?x64xf32>, tensor<128x64xbf16>) -> tensor<?x?x128xf32>
  %0 = lathe.linear %x, %bf16 : (tensor<?x?x64xf32>, tensor<128x64xbf16>) -> tensor<?x?x128xf32>
  // CHECK: %[[Y1:.+]] = lathe.linear %[[X]], %[[F32]] : (tensor<?x?x64xf32>, tensor<32x64xf32>) -> tensor<?x?x32xf32>
  %1 = lathe.linear %x, %f32 : (tensor<?x?x64xf32>, tensor<32x64xf32>) -> tensor<?x?x32xf32>
  // CHECK: %[[Y2:.+]] = lathe.linear %[[X]], %[[F16]] : (tensor<?x?x64xf32>, tensor<16x64xf16>) -> tensor<?x?x16xf32>
  %2 = lathe.linear %x, %f16 : (tensor<?x?x64xf32>, tensor<16x64xf16>) -> tensor<?x?x16xf32>
  // CHECK: return %[[Y0]], %[[Y1]], %[[Y2]]
  return %0, %1, %2 : tensor<?x?x128xf32>, tensor<?x?x32xf32>, tensor<?x?x16xf32>
}

// 200x300 over 128x128 blocks: partial edge blocks give ceil(200/128) x
// ceil(300/128) = 2x3 scales.
// CHECK-LABEL: func.func @fp8_block_scaled(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<?x?x300xf32>
func.func @fp8_block_scaled(%x: tensor<?x?x300xf32>) -> tensor<?x?x200xf32> {
  // CHECK: %[[Q:.+]] = lathe.weight "model.layers.0.mlp.up_proj.weight" in "model.safetensors" at 0 : tensor<200x300xf8E4M3FN>
  // CHECK: %[[S:.+]] = lathe.weight "model.layers.0.mlp.up_proj.weight_scale_inv" in "model.safetensors" at 60000 : tensor<2x3xf32>
  %q = lathe.weight "model.layers.0.mlp.up_proj.weight" in "model.safetensors" at 0 : tensor<200x300xf8E4M3FN>
  %s = lathe.weight "model.layers.0.mlp.up_proj.weight_scale_inv" in "model.safetensors" at 60000 : tensor<2x3xf32>
  // CHECK: %[[Y:.+]] = lathe.linear %[[X]], %[[Q]] scales(%[[S]]) {block_size = array<i64: 128, 128>} : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<2x3xf32>) -> tensor<?x?x200xf32>
  %y = lathe.linear %x, %q scales(%s) {block_size = array<i64: 128, 128>}
      : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<2x3xf32>) -> tensor<?x?x200xf32>
  // CHECK: return %[[Y]]
  return %y : tensor<?x?x200xf32>
}

// e5m2 codes, non-square blocks (one scale per output row and 64 inputs:
// 8 x ceil(100/64) = 8x2), bf16 activations of rank 2 and a static rank-4
// input with a dynamic result dim.
// CHECK-LABEL: func.func @fp8_variants(
// CHECK-SAME: %[[A:[a-z0-9_]+]]: tensor<5x100xbf16>, %[[B:[a-z0-9_]+]]: tensor<2x3x4x100xf16>, %[[Q:[a-z0-9_]+]]: tensor<8x100xf8E5M2>, %[[S:[a-z0-9_]+]]: tensor<8x2xf32>
func.func @fp8_variants(%a: tensor<5x100xbf16>, %b: tensor<2x3x4x100xf16>,
                        %q: tensor<8x100xf8E5M2>, %s: tensor<8x2xf32>)
    -> (tensor<5x8xbf16>, tensor<2x3x?x8xf16>) {
  // CHECK: lathe.linear %[[A]], %[[Q]] scales(%[[S]]) {block_size = array<i64: 1, 64>} : (tensor<5x100xbf16>, tensor<8x100xf8E5M2>, tensor<8x2xf32>) -> tensor<5x8xbf16>
  %0 = lathe.linear %a, %q scales(%s) {block_size = array<i64: 1, 64>}
      : (tensor<5x100xbf16>, tensor<8x100xf8E5M2>, tensor<8x2xf32>) -> tensor<5x8xbf16>
  // CHECK: lathe.linear %[[B]], %[[Q]] scales(%[[S]]) {block_size = array<i64: 1, 64>} : (tensor<2x3x4x100xf16>, tensor<8x100xf8E5M2>, tensor<8x2xf32>) -> tensor<2x3x?x8xf16>
  %1 = lathe.linear %b, %q scales(%s) {block_size = array<i64: 1, 64>}
      : (tensor<2x3x4x100xf16>, tensor<8x100xf8E5M2>, tensor<8x2xf32>) -> tensor<2x3x?x8xf16>
  return %0, %1 : tensor<5x8xbf16>, tensor<2x3x?x8xf16>
}

// The scales are a variadic operand group; block_size an optional property.
// GENERIC: "lathe.linear"(%{{.+}}, %{{.+}}) : (tensor<?x?x64xf32>, tensor<128x64xbf16>) -> tensor<?x?x128xf32>
// GENERIC: "lathe.linear"(%{{.+}}, %{{.+}}, %{{.+}}) <{block_size = array<i64: 128, 128>}> : (tensor<?x?x300xf32>, tensor<200x300xf8E4M3FN>, tensor<2x3xf32>) -> tensor<?x?x200xf32>
