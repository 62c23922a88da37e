// lathe.moe: router (softmax or sigmoid scoring, optional correction bias),
// routed experts as three equal-length lists, optional shared experts, FP8
// scales in operand order (all expert gates, ups, downs, then shared gate,
// up, down). n_group, topk_group, norm_topk_prob and routed_scaling_factor
// have defaults (1, 1, false, 1.0) that the printer leaves out.
// RUN: lathe-opt %s | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// V2-Lite style: softmax, no bias, no groups, no shared experts.
// CHECK-LABEL: func.func @softmax_plain(
// CHECK-SAME: %[[H:[a-z0-9_]+]]: tensor<?x?x64xf32>, %[[R:[a-z0-9_]+]]: tensor<4x64xbf16>, %[[G0:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[G1:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[G2:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[G3:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[U0:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[U1:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[U2:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[U3:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[D0:[a-z0-9_]+]]: tensor<64x32xbf16>, %[[D1:[a-z0-9_]+]]: tensor<64x32xbf16>, %[[D2:[a-z0-9_]+]]: tensor<64x32xbf16>, %[[D3:[a-z0-9_]+]]: tensor<64x32xbf16>)
func.func @softmax_plain(%h: tensor<?x?x64xf32>, %r: tensor<4x64xbf16>,
    %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>,
    %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>,
    %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>)
    -> tensor<?x?x64xf32> {
  // CHECK: %[[Y:.+]] = lathe.moe %[[H]] scoring softmax router(%[[R]]) experts gate[%[[G0]], %[[G1]], %[[G2]], %[[G3]]] up[%[[U0]], %[[U1]], %[[U2]], %[[U3]]] down[%[[D0]], %[[D1]], %[[D2]], %[[D3]]] {top_k = 2 : i64} : (tensor<?x?x64xf32>, tensor<4x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  // Defaults written out explicitly print as if omitted.
  %y = lathe.moe %h scoring softmax router(%r)
      experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64, n_group = 1 : i64, topk_group = 1 : i64, norm_topk_prob = false, routed_scaling_factor = 1.0}
      : (tensor<?x?x64xf32>, tensor<4x64xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  // CHECK: return %[[Y]]
  return %y : tensor<?x?x64xf32>
}

// V3 style: sigmoid + correction bias, 2 groups of 2 with 1 kept, top-2,
// normalized weights scaled by 2.5, one shared expert of width 64.
// CHECK-LABEL: func.func @sigmoid_v3(
// CHECK-SAME: %[[H:[a-z0-9_]+]]: tensor<?x?x64xf32>
func.func @sigmoid_v3(%h: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  // CHECK: %[[R:.+]] = lathe.weight "model.layers.1.mlp.gate.weight" in "model.safetensors" at 0 : tensor<4x64xf32>
  // CHECK: %[[B:.+]] = lathe.weight "model.layers.1.mlp.gate.e_score_correction_bias" in "model.safetensors" at 1024 : tensor<4xf32>
  %r = lathe.weight "model.layers.1.mlp.gate.weight" in "model.safetensors" at 0 : tensor<4x64xf32>
  %b = lathe.weight "model.layers.1.mlp.gate.e_score_correction_bias" in "model.safetensors" at 1024 : tensor<4xf32>
  // CHECK: %[[G:.+]] = lathe.weight "model.layers.1.mlp.experts.gate_proj.weight"
  // CHECK: %[[U:.+]] = lathe.weight "model.layers.1.mlp.experts.up_proj.weight"
  // CHECK: %[[D:.+]] = lathe.weight "model.layers.1.mlp.experts.down_proj.weight"
  %g = lathe.weight "model.layers.1.mlp.experts.gate_proj.weight" in "model.safetensors" at 2048 : tensor<32x64xbf16>
  %u = lathe.weight "model.layers.1.mlp.experts.up_proj.weight" in "model.safetensors" at 6144 : tensor<32x64xbf16>
  %d = lathe.weight "model.layers.1.mlp.experts.down_proj.weight" in "model.safetensors" at 10240 : tensor<64x32xbf16>
  // CHECK: %[[SG:.+]] = lathe.weight "model.layers.1.mlp.shared_experts.gate_proj.weight"
  // CHECK: %[[SU:.+]] = lathe.weight "model.layers.1.mlp.shared_experts.up_proj.weight"
  // CHECK: %[[SD:.+]] = lathe.weight "model.layers.1.mlp.shared_experts.down_proj.weight"
  %sg = lathe.weight "model.layers.1.mlp.shared_experts.gate_proj.weight" in "model.safetensors" at 14336 : tensor<64x64xbf16>
  %su = lathe.weight "model.layers.1.mlp.shared_experts.up_proj.weight" in "model.safetensors" at 22528 : tensor<64x64xbf16>
  %sd = lathe.weight "model.layers.1.mlp.shared_experts.down_proj.weight" in "model.safetensors" at 30720 : tensor<64x64xbf16>
  // CHECK: lathe.moe %[[H]] scoring sigmoid router(%[[R]] bias %[[B]]) experts gate[%[[G]], %[[G]], %[[G]], %[[G]]] up[%[[U]], %[[U]], %[[U]], %[[U]]] down[%[[D]], %[[D]], %[[D]], %[[D]]] shared(%[[SG]], %[[SU]], %[[SD]])
  // CHECK-SAME: {n_group = 2 : i64, norm_topk_prob = true, routed_scaling_factor = 2.500000e+00 : f64, top_k = 2 : i64}
  // CHECK-SAME: : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<4xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  %y = lathe.moe %h scoring sigmoid router(%r bias %b)
      experts gate [%g, %g, %g, %g] up [%u, %u, %u, %u] down [%d, %d, %d, %d] shared(%sg, %su, %sd)
      {top_k = 2 : i64, n_group = 2 : i64, topk_group = 1 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<4xf32>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>,
         tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// The other two combinations: softmax with a bias and no shared experts;
// sigmoid without a bias but with shared experts; a single expert; non-default
// topk_group (4 groups of 2, 3 kept).
// CHECK-LABEL: func.func @combinations(
// CHECK-SAME: %[[H:[a-z0-9_]+]]: tensor<3x64xbf16>, %[[R8:[a-z0-9_]+]]: tensor<8x64xf32>, %[[B8:[a-z0-9_]+]]: tensor<8xbf16>, %[[R1:[a-z0-9_]+]]: tensor<1x64xf16>, %[[G:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[U:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[D:[a-z0-9_]+]]: tensor<64x32xbf16>
func.func @combinations(%h: tensor<3x64xbf16>, %r8: tensor<8x64xf32>, %b8: tensor<8xbf16>,
                        %r1: tensor<1x64xf16>, %g: tensor<32x64xbf16>, %u: tensor<32x64xbf16>,
                        %d: tensor<64x32xbf16>) -> (tensor<3x64xbf16>, tensor<3x64xbf16>) {
  // CHECK: lathe.moe %[[H]] scoring softmax router(%[[R8]] bias %[[B8]]) experts gate[%[[G]], %[[G]], %[[G]], %[[G]], %[[G]], %[[G]], %[[G]], %[[G]]] up[%[[U]], %[[U]], %[[U]], %[[U]], %[[U]], %[[U]], %[[U]], %[[U]]] down[%[[D]], %[[D]], %[[D]], %[[D]], %[[D]], %[[D]], %[[D]], %[[D]]] {n_group = 4 : i64, top_k = 6 : i64, topk_group = 3 : i64} : (tensor<3x64xbf16>, tensor<8x64xf32>, tensor<8xbf16>,
  %0 = lathe.moe %h scoring softmax router(%r8 bias %b8)
      experts gate [%g, %g, %g, %g, %g, %g, %g, %g] up [%u, %u, %u, %u, %u, %u, %u, %u]
      down [%d, %d, %d, %d, %d, %d, %d, %d] {top_k = 6 : i64, n_group = 4 : i64, topk_group = 3 : i64}
      : (tensor<3x64xbf16>, tensor<8x64xf32>, tensor<8xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>,
         tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<3x64xbf16>
  // CHECK: lathe.moe %[[H]] scoring sigmoid router(%[[R1]]) experts gate[%[[G]]] up[%[[U]]] down[%[[D]]] shared(%[[G]], %[[U]], %[[D]]) {routed_scaling_factor = 1.600000e+01 : f64, top_k = 1 : i64} : (tensor<3x64xbf16>, tensor<1x64xf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>) -> tensor<3x64xbf16>
  %1 = lathe.moe %h scoring sigmoid router(%r1) experts gate [%g] up [%u] down [%d] shared(%g, %u, %d)
      {top_k = 1 : i64, routed_scaling_factor = 16.0}
      : (tensor<3x64xbf16>, tensor<1x64xf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>) -> tensor<3x64xbf16>
  return %0, %1 : tensor<3x64xbf16>, tensor<3x64xbf16>
}

// Without a bias a group scores its best expert, so groups of one are fine
// (with a bias they are not: see invalid-moe.mlir).
// CHECK-LABEL: func.func @singleton_groups_without_bias(
func.func @singleton_groups_without_bias(%h: tensor<?x64xf32>, %r: tensor<2x64xf32>, %g: tensor<32x64xbf16>,
                                         %u: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) -> tensor<?x64xf32> {
  // CHECK: lathe.moe %{{.+}} scoring softmax router(%{{[a-z0-9_]+}}) experts gate[%{{.+}}] up[%{{.+}}] down[%{{.+}}] {n_group = 2 : i64, top_k = 1 : i64} : (tensor<?x64xf32>, tensor<2x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x64xf32>
  %y = lathe.moe %h scoring softmax router(%r) experts gate [%g, %g] up [%u, %u] down [%d, %d]
      {top_k = 1 : i64, n_group = 2 : i64, topk_group = 1 : i64}
      : (tensor<?x64xf32>, tensor<2x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// FP8 routed and shared experts with 16x32 blocks: expert gate/up [32,64] ->
// 2x2, expert down [64,32] -> 4x1, shared gate/up [96,64] -> 6x2, shared
// down [64,96] -> 4x3. Two experts: 2 gate + 2 up + 2 down + 3 shared scales.
// CHECK-LABEL: func.func @fp8(
// CHECK-SAME: %[[GS:[a-z0-9_]+]]: tensor<2x2xf32>, %[[DS:[a-z0-9_]+]]: tensor<4x1xf32>, %[[SGS:[a-z0-9_]+]]: tensor<6x2xf32>, %[[SDS:[a-z0-9_]+]]: tensor<4x3xf32>)
func.func @fp8(%h: tensor<?x?x64xf32>, %r: tensor<2x64xf32>, %b: tensor<2xf32>,
               %g: tensor<32x64xf8E4M3FN>, %u: tensor<32x64xf8E4M3FN>, %d: tensor<64x32xf8E4M3FN>,
               %sg: tensor<96x64xf8E4M3FN>, %su: tensor<96x64xf8E4M3FN>, %sd: tensor<64x96xf8E4M3FN>,
               %gs: tensor<2x2xf32>, %ds: tensor<4x1xf32>, %sgs: tensor<6x2xf32>, %sds: tensor<4x3xf32>)
    -> tensor<?x?x64xf32> {
  // CHECK: shared(%{{.+}}, %{{.+}}, %{{.+}}) scales(%[[GS]], %[[GS]], %[[GS]], %[[GS]], %[[DS]], %[[DS]], %[[SGS]], %[[SGS]], %[[SDS]]) {block_size = array<i64: 16, 32>, top_k = 2 : i64}
  // CHECK-SAME: tensor<64x96xf8E4M3FN>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<4x1xf32>, tensor<4x1xf32>, tensor<6x2xf32>, tensor<6x2xf32>, tensor<4x3xf32>) -> tensor<?x?x64xf32>
  %y = lathe.moe %h scoring sigmoid router(%r bias %b) experts gate [%g, %g] up [%u, %u] down [%d, %d]
      shared(%sg, %su, %sd) scales(%gs, %gs, %gs, %gs, %ds, %ds, %sgs, %sgs, %sds)
      {top_k = 2 : i64, block_size = array<i64: 16, 32>}
      : (tensor<?x?x64xf32>, tensor<2x64xf32>, tensor<2xf32>,
         tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>,
         tensor<64x32xf8E4M3FN>, tensor<64x32xf8E4M3FN>,
         tensor<96x64xf8E4M3FN>, tensor<96x64xf8E4M3FN>, tensor<64x96xf8E4M3FN>,
         tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<4x1xf32>, tensor<4x1xf32>,
         tensor<6x2xf32>, tensor<6x2xf32>, tensor<4x3xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// Generic form: the scoring enum is an i32 (softmax 0, sigmoid 1), defaults
// are materialized, and operand segments count input, router, bias, gates,
// ups, downs, shared gate/up/down and scales.
// GENERIC-LABEL: sym_name = "softmax_plain"
// GENERIC: "lathe.moe"(
// GENERIC-SAME: <{n_group = 1 : i64, norm_topk_prob = false, operandSegmentSizes = array<i32: 1, 1, 0, 4, 4, 4, 0, 0, 0, 0>, routed_scaling_factor = 1.000000e+00 : f64, scoring = 0 : i32, top_k = 2 : i64, topk_group = 1 : i64}>
// GENERIC-LABEL: sym_name = "sigmoid_v3"
// GENERIC: "lathe.moe"(
// GENERIC-SAME: <{n_group = 2 : i64, norm_topk_prob = true, operandSegmentSizes = array<i32: 1, 1, 1, 4, 4, 4, 1, 1, 1, 0>, routed_scaling_factor = 2.500000e+00 : f64, scoring = 1 : i32, top_k = 2 : i64, topk_group = 1 : i64}>
// GENERIC-LABEL: sym_name = "fp8"
// GENERIC: "lathe.moe"(
// GENERIC-SAME: <{block_size = array<i64: 16, 32>, n_group = 1 : i64, norm_topk_prob = false, operandSegmentSizes = array<i32: 1, 1, 1, 2, 2, 2, 1, 1, 1, 9>,
