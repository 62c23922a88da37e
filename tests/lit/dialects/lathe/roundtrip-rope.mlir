// lathe.rope rotates interleaved pairs (2i, 2i+1) of the last dim. Its
// #lathe.rope attribute is written without the `#lathe.rope` prefix (after
// an SSA value `#` would start a result number); YaRN is optional.
// RUN: lathe-opt %s | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// CHECK-LABEL: func.func @plain(
// CHECK-SAME: %[[Q:[a-z0-9_]+]]: tensor<?x?x4x8xf32>, %[[K:[a-z0-9_]+]]: tensor<?x?x8xbf16>, %[[POS:[a-z0-9_]+]]: tensor<?x?xi32>
func.func @plain(%q_pe: tensor<?x?x4x8xf32>, %k_pe: tensor<?x?x8xbf16>, %pos: tensor<?x?xi32>)
    -> (tensor<?x?x4x8xf32>, tensor<?x?x8xbf16>) {
  // Per-head queries [batch, seq, heads, d].
  // CHECK: %[[RQ:.+]] = lathe.rope %[[Q]], %[[POS]] <theta = 10000.0> : tensor<?x?x4x8xf32>, tensor<?x?xi32>
  %0 = lathe.rope %q_pe, %pos <theta = 10000.0> : tensor<?x?x4x8xf32>, tensor<?x?xi32>
  // The shared key head [batch, seq, d].
  // CHECK: %[[RK:.+]] = lathe.rope %[[K]], %[[POS]] <theta = 1000000.0> {note = "k_pe"} : tensor<?x?x8xbf16>, tensor<?x?xi32>
  %1 = lathe.rope %k_pe, %pos <theta = 1000000.0> {note = "k_pe"} : tensor<?x?x8xbf16>, tensor<?x?xi32>
  // CHECK: return %[[RQ]], %[[RK]]
  return %0, %1 : tensor<?x?x4x8xf32>, tensor<?x?x8xbf16>
}

// V3's rope_scaling. i64 positions; static shapes compatible with dynamic ones.
// CHECK-LABEL: func.func @yarn(
// CHECK-SAME: %[[Q:[a-z0-9_]+]]: tensor<2x?x16x64xf16>, %[[POS:[a-z0-9_]+]]: tensor<?x5xi64>
func.func @yarn(%q: tensor<2x?x16x64xf16>, %pos: tensor<?x5xi64>) -> tensor<2x?x16x64xf16> {
  // CHECK: lathe.rope %[[Q]], %[[POS]] <theta = 10000.0, yarn = <factor = 40.0, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>> : tensor<2x?x16x64xf16>, tensor<?x5xi64>
  %0 = lathe.rope %q, %pos <theta = 10000.0, yarn = <factor = 40.0, original_max_position_embeddings = 4096,
                  beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>>
      : tensor<2x?x16x64xf16>, tensor<?x5xi64>
  return %0 : tensor<2x?x16x64xf16>
}

// GENERIC: "lathe.rope"(%{{.+}}, %{{.+}}) <{rope = #lathe.rope<theta = 10000.0>}> : (tensor<?x?x4x8xf32>, tensor<?x?xi32>) -> tensor<?x?x4x8xf32>
// GENERIC: "lathe.rope"(%{{.+}}, %{{.+}}) <{rope = #lathe.rope<theta = 1000000.0>}> {note = "k_pe"} : (tensor<?x?x8xbf16>, tensor<?x?xi32>) -> tensor<?x?x8xbf16>
// GENERIC: "lathe.rope"(%{{.+}}, %{{.+}}) <{rope = #lathe.rope<theta = 10000.0, yarn = <factor = 40.0, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>>}>
