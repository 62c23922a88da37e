// lathe.embedding gathers table rows by token id: result = tokens' shape +
// [table width], in any activation type (f32 unless a pass says otherwise).
// RUN: lathe-opt %s | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | lathe-opt | FileCheck %s

// CHECK-LABEL: func.func @tokens_i32(
// CHECK-SAME: %[[T:[a-z0-9_]+]]: tensor<?x?xi32>
func.func @tokens_i32(%tokens: tensor<?x?xi32>) -> tensor<?x?x64xf32> {
  // CHECK: %[[TABLE:.+]] = lathe.weight "model.embed_tokens.weight" in "model.safetensors" at 0 : tensor<1024x64xbf16>
  %table = lathe.weight "model.embed_tokens.weight" in "model.safetensors" at 0 : tensor<1024x64xbf16>
  // CHECK: %[[H:.+]] = lathe.embedding %[[T]], %[[TABLE]] : tensor<?x?xi32>, tensor<1024x64xbf16> -> tensor<?x?x64xf32>
  %h = lathe.embedding %tokens, %table : tensor<?x?xi32>, tensor<1024x64xbf16> -> tensor<?x?x64xf32>
  // CHECK: return %[[H]]
  return %h : tensor<?x?x64xf32>
}

// i64 tokens of rank 1 and static rank 2; f32 and f16 tables; bf16 and f16
// results; a result with the leading dims dynamic where tokens are static.
// CHECK-LABEL: func.func @variants(
// CHECK-SAME: %[[T1:[a-z0-9_]+]]: tensor<7xi64>, %[[T2:[a-z0-9_]+]]: tensor<2x5xi64>, %[[F32:[a-z0-9_]+]]: tensor<100x16xf32>, %[[F16:[a-z0-9_]+]]: tensor<100x8xf16>
func.func @variants(%t1: tensor<7xi64>, %t2: tensor<2x5xi64>,
                    %f32: tensor<100x16xf32>, %f16: tensor<100x8xf16>)
    -> (tensor<7x16xbf16>, tensor<?x?x8xf16>) {
  // CHECK: lathe.embedding %[[T1]], %[[F32]] : tensor<7xi64>, tensor<100x16xf32> -> tensor<7x16xbf16>
  %0 = lathe.embedding %t1, %f32 : tensor<7xi64>, tensor<100x16xf32> -> tensor<7x16xbf16>
  // CHECK: lathe.embedding %[[T2]], %[[F16]] : tensor<2x5xi64>, tensor<100x8xf16> -> tensor<?x?x8xf16>
  %1 = lathe.embedding %t2, %f16 : tensor<2x5xi64>, tensor<100x8xf16> -> tensor<?x?x8xf16>
  return %0, %1 : tensor<7x16xbf16>, tensor<?x?x8xf16>
}

// As for lathe.linear, a result dim may stay dynamic where the operands know
// it (the verifier checks compatibility, not equality).
// CHECK-LABEL: func.func @dynamic_width(
func.func @dynamic_width(%t: tensor<?x?xi32>, %table: tensor<100x16xf32>) -> tensor<?x?x?xf32> {
  // CHECK: lathe.embedding %{{.+}}, %{{.+}} : tensor<?x?xi32>, tensor<100x16xf32> -> tensor<?x?x?xf32>
  %0 = lathe.embedding %t, %table : tensor<?x?xi32>, tensor<100x16xf32> -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}
