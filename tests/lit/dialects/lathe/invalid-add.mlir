// lathe.add has no C++ verifier: its ODS constraints are the rules. The
// custom syntax writes one type, so mismatches are reachable in generic form
// only.
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

func.func @mismatched_operands(%x: tensor<?x?x64xf32>, %y: tensor<?x?x64xbf16>) {
  // expected-error @+1 {{'lathe.add' op failed to verify that all of {lhs, rhs, result} have same type}}
  %0 = "lathe.add"(%x, %y) : (tensor<?x?x64xf32>, tensor<?x?x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @mismatched_result(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'lathe.add' op failed to verify that all of {lhs, rhs, result} have same type}}
  %0 = "lathe.add"(%x, %x) : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x32xf32>
  return
}

// -----

// Compatible is not enough: `?x?x64` and `2x3x64` would print as one type
// and not parse back.
func.func @static_vs_dynamic(%x: tensor<?x?x64xf32>, %y: tensor<2x3x64xf32>) {
  // expected-error @+1 {{'lathe.add' op failed to verify that all of {lhs, rhs, result} have same type}}
  %0 = "lathe.add"(%x, %y) : (tensor<?x?x64xf32>, tensor<2x3x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @integer(%x: tensor<4xi32>) {
  // expected-error @+1 {{'lathe.add' op operand #0 must be ranked tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<4xi32>'}}
  %0 = lathe.add %x, %x : tensor<4xi32>
  return
}

// -----

// Activations are never FP8: only weights are quantized.
func.func @fp8(%x: tensor<4xf8E4M3FN>) {
  // expected-error @+1 {{'lathe.add' op operand #0 must be ranked tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<4xf8E4M3FN>'}}
  %0 = lathe.add %x, %x : tensor<4xf8E4M3FN>
  return
}
