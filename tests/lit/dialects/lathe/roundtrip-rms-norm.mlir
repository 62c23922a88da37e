// lathe.rms_norm: y = x / sqrt(mean(x^2, -1) + eps) * weight. The eps is a
// builtin f64, printed by MLIR's float printer (1.0e-06 is not exact in
// binary, so it prints its 17 significant digits).
// RUN: lathe-opt %s | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | lathe-opt | FileCheck %s

// CHECK-LABEL: func.func @hidden_norm(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<?x?x64xf32>
func.func @hidden_norm(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  // CHECK: %[[W:.+]] = lathe.weight "model.layers.0.input_layernorm.weight" in "model.safetensors" at 0 : tensor<64xbf16>
  %w = lathe.weight "model.layers.0.input_layernorm.weight" in "model.safetensors" at 0 : tensor<64xbf16>
  // CHECK: %[[Y:.+]] = lathe.rms_norm %[[X]], %[[W]] eps 9.9999999999999995E-7 : tensor<?x?x64xf32>, tensor<64xbf16>
  %y = lathe.rms_norm %x, %w eps 1.0e-06 : tensor<?x?x64xf32>, tensor<64xbf16>
  // CHECK: return %[[Y]] : tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// Any rank with a static last dim (per-head vectors, a lone vector), f32 and
// f16 weights, bf16 and f16 activations, and a discardable attribute.
// CHECK-LABEL: func.func @ranks_and_types(
// CHECK-SAME: %[[A:[a-z0-9_]+]]: tensor<?x?x4x32xbf16>, %[[B:[a-z0-9_]+]]: tensor<512xf16>, %[[WA:[a-z0-9_]+]]: tensor<32xf32>, %[[WB:[a-z0-9_]+]]: tensor<512xf16>
func.func @ranks_and_types(%a: tensor<?x?x4x32xbf16>, %b: tensor<512xf16>,
                           %wa: tensor<32xf32>, %wb: tensor<512xf16>)
    -> (tensor<?x?x4x32xbf16>, tensor<512xf16>) {
  // CHECK: lathe.rms_norm %[[A]], %[[WA]] eps 1.562500e-02 : tensor<?x?x4x32xbf16>, tensor<32xf32>
  %0 = lathe.rms_norm %a, %wa eps 0.015625 : tensor<?x?x4x32xbf16>, tensor<32xf32>
  // CHECK: lathe.rms_norm %[[B]], %[[WB]] eps 1.000000e+00 {fused = true} : tensor<512xf16>, tensor<512xf16>
  %1 = lathe.rms_norm %b, %wb eps 1.0 {fused = true} : tensor<512xf16>, tensor<512xf16>
  return %0, %1 : tensor<?x?x4x32xbf16>, tensor<512xf16>
}
