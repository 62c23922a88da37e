// The fused MoE ops of lathe-fuse-moe-routing: lathe.moe_router (gate GEMM,
// scoring, group-limited top-k, weights), lathe.moe_dispatch (pairs grouped
// by expert; m_tile defaults to 1 and then prints nothing) and
// lathe.moe_experts (grouped expert GEMMs accumulating into the shared
// experts' output, FP8 scales in operand order).
// RUN: lathe-opt %s | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | lathe-opt | FileCheck %s

// CHECK-LABEL: func.func @fused(
// CHECK-SAME: %[[H:[a-z0-9_]+]]: tensor<?x?x64xf32>, %[[R:[a-z0-9_]+]]: tensor<4x64xf32>, %[[B:[a-z0-9_]+]]: tensor<4xf32>, %[[G:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[U:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[D:[a-z0-9_]+]]: tensor<64x32xbf16>, %[[S:[a-z0-9_]+]]: tensor<?x?x64xf32>)
func.func @fused(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %b: tensor<4xf32>,
    %g: tensor<32x64xbf16>, %u: tensor<32x64xbf16>, %d: tensor<64x32xbf16>,
    %s: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  // CHECK: %[[IDS:.+]], %[[W:.+]] = lathe.moe_router %[[H]] scoring sigmoid router(%[[R]] bias %[[B]]) {n_group = 2 : i64, norm_topk_prob = true, routed_scaling_factor = 2.500000e+00 : f64, top_k = 2 : i64} : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<4xf32>) -> (tensor<?x?x2xi32>, tensor<?x?x2xf32>)
  %ids, %w = lathe.moe_router %h scoring sigmoid router(%r bias %b)
      {top_k = 2 : i64, n_group = 2 : i64, topk_group = 1 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<4xf32>) -> (tensor<?x?x2xi32>, tensor<?x?x2xf32>)
  // CHECK: %[[OFF:.+]], %[[ORDER:.+]] = lathe.moe_dispatch %[[IDS]] {num_experts = 4 : i64} : (tensor<?x?x2xi32>) -> (tensor<5xi32>, tensor<?xi32>)
  %offsets, %order = lathe.moe_dispatch %ids {num_experts = 4 : i64, m_tile = 1 : i64}
      : (tensor<?x?x2xi32>) -> (tensor<5xi32>, tensor<?xi32>)
  // CHECK: %[[Y:.+]] = lathe.moe_experts %[[H]] routing(%[[W]], %[[OFF]], %[[ORDER]]) gate[%[[G]], %[[G]], %[[G]], %[[G]]] up[%[[U]], %[[U]], %[[U]], %[[U]]] down[%[[D]], %[[D]], %[[D]], %[[D]]] accumulate(%[[S]]) : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<5xi32>, tensor<?xi32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %y = lathe.moe_experts %h routing(%w, %offsets, %order)
      gate [%g, %g, %g, %g] up [%u, %u, %u, %u] down [%d, %d, %d, %d] accumulate(%s)
      : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<5xi32>, tensor<?xi32>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>,
         tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  // CHECK: return %[[Y]]
  return %y : tensor<?x?x64xf32>
}

// Softmax without bias; padded segments; FP8 experts without shared ones.
// CHECK-LABEL: func.func @fp8(
func.func @fp8(%h: tensor<3x64xf32>, %r: tensor<2x64xbf16>,
    %g: tensor<32x64xf8E4M3FN>, %u: tensor<32x64xf8E4M3FN>, %d: tensor<64x32xf8E4M3FN>,
    %sg: tensor<1x1xf32>, %su: tensor<1x1xf32>, %sd: tensor<1x1xf32>) -> tensor<3x64xf32> {
  // CHECK: lathe.moe_router %{{.+}} scoring softmax router(%{{.+}}) {top_k = 1 : i64} : (tensor<3x64xf32>, tensor<2x64xbf16>) -> (tensor<3x1xi32>, tensor<3x1xf32>)
  %ids, %w = lathe.moe_router %h scoring softmax router(%r) {top_k = 1 : i64}
      : (tensor<3x64xf32>, tensor<2x64xbf16>) -> (tensor<3x1xi32>, tensor<3x1xf32>)
  // CHECK: lathe.moe_dispatch %{{.+}} {m_tile = 16 : i64, num_experts = 2 : i64}
  %offsets, %order = lathe.moe_dispatch %ids {num_experts = 2 : i64, m_tile = 16 : i64}
      : (tensor<3x1xi32>) -> (tensor<3xi32>, tensor<?xi32>)
  // CHECK: lathe.moe_experts %{{.+}} routing(%{{.+}}, %{{.+}}, %{{.+}}) gate[%{{.+}}, %{{.+}}] up[%{{.+}}, %{{.+}}] down[%{{.+}}, %{{.+}}] scales(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) {block_size = array<i64: 128, 128>}
  %y = lathe.moe_experts %h routing(%w, %offsets, %order)
      gate [%g, %g] up [%u, %u] down [%d, %d] scales(%sg, %sg, %su, %su, %sd, %sd) {block_size = array<i64: 128, 128>}
      : (tensor<3x64xf32>, tensor<3x1xf32>, tensor<3xi32>, tensor<?xi32>,
         tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>,
         tensor<64x32xf8E4M3FN>, tensor<64x32xf8E4M3FN>,
         tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<3x64xf32>
  return %y : tensor<3x64xf32>
}
