// lathe.add is the residual add: both operands and the result share one
// activation type, written once.
// RUN: lathe-opt %s | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | lathe-opt | FileCheck %s

// CHECK-LABEL: func.func @residual(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<?x?x64xf32>, %[[Y:[a-z0-9_]+]]: tensor<?x?x64xf32>
func.func @residual(%x: tensor<?x?x64xf32>, %y: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  // CHECK: %[[SUM:.+]] = lathe.add %[[X]], %[[Y]] : tensor<?x?x64xf32>
  %0 = lathe.add %x, %y : tensor<?x?x64xf32>
  // CHECK: return %[[SUM]] : tensor<?x?x64xf32>
  return %0 : tensor<?x?x64xf32>
}

// Every activation element type, static shapes, and an operand used twice.
// CHECK-LABEL: func.func @types(
// CHECK-SAME: %[[B:[a-z0-9_]+]]: tensor<2x3x8xbf16>, %[[H:[a-z0-9_]+]]: tensor<4xf16>
func.func @types(%b: tensor<2x3x8xbf16>, %h: tensor<4xf16>) -> (tensor<2x3x8xbf16>, tensor<4xf16>) {
  // CHECK: %[[BB:.+]] = lathe.add %[[B]], %[[B]] : tensor<2x3x8xbf16>
  %0 = lathe.add %b, %b : tensor<2x3x8xbf16>
  // CHECK: %[[HH:.+]] = lathe.add %[[H]], %[[H]] {note = 1 : i64} : tensor<4xf16>
  %1 = lathe.add %h, %h {note = 1} : tensor<4xf16>
  // CHECK: return %[[BB]], %[[HH]]
  return %0, %1 : tensor<2x3x8xbf16>, tensor<4xf16>
}
