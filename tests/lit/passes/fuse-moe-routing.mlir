// lathe-fuse-moe-routing on each router variant: every lathe.moe becomes
// lathe.moe_router (same scoring, bias, groups, top_k, normalization and
// scaling), lathe.moe_dispatch, the shared experts as lathe.mlp (when
// present) and lathe.moe_experts accumulating into them; FP8 scales are
// split between the routed and the shared experts.
// RUN: lathe-opt %s --lathe-fuse-moe-routing --split-input-file | FileCheck %s
// RUN: lathe-opt %s --lathe-fuse-moe-routing=m-tile=16 --split-input-file | FileCheck %s --check-prefix=TILE
// RUN: not lathe-opt %s --lathe-fuse-moe-routing=m-tile=0 --split-input-file 2>&1 | FileCheck %s --check-prefix=BADTILE

// BADTILE: error: lathe-fuse-moe-routing: m-tile must be positive, got 0

// V3: sigmoid, correction bias, groups, normalized and scaled; shared experts.
// CHECK-LABEL: func.func @v3(
// CHECK-SAME: %[[H:[a-z0-9_]+]]: tensor<?x?x64xf32>, %[[R:[a-z0-9_]+]]: tensor<4x64xf32>, %[[B:[a-z0-9_]+]]: tensor<4xf32>, %[[G:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[U:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[D:[a-z0-9_]+]]: tensor<64x32xbf16>, %[[SG:[a-z0-9_]+]]: tensor<48x64xbf16>, %[[SU:[a-z0-9_]+]]: tensor<48x64xbf16>, %[[SD:[a-z0-9_]+]]: tensor<64x48xbf16>)
// CHECK-NOT: lathe.moe %
// CHECK: %[[IDS:[a-z0-9_]+]], %[[W:[a-z0-9_]+]] = lathe.moe_router %[[H]] scoring sigmoid router(%[[R]] bias %[[B]]) {n_group = 2 : i64, norm_topk_prob = true, routed_scaling_factor = 2.500000e+00 : f64, top_k = 2 : i64} : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<4xf32>) -> (tensor<?x?x2xi32>, tensor<?x?x2xf32>)
// CHECK: %[[OFF:[a-z0-9_]+]], %[[ORDER:[a-z0-9_]+]] = lathe.moe_dispatch %[[IDS]] {num_experts = 4 : i64} : (tensor<?x?x2xi32>) -> (tensor<5xi32>, tensor<?xi32>)
// CHECK: %[[S:.+]] = lathe.mlp %[[H]], %[[SG]], %[[SU]], %[[SD]] : (tensor<?x?x64xf32>, tensor<48x64xbf16>, tensor<48x64xbf16>, tensor<64x48xbf16>) -> tensor<?x?x64xf32>
// CHECK: %[[Y:.+]] = lathe.moe_experts %[[H]] routing(%[[W]], %[[OFF]], %[[ORDER]]) gate[%[[G]], %[[G]], %[[G]], %[[G]]] up[%[[U]], %[[U]], %[[U]], %[[U]]] down[%[[D]], %[[D]], %[[D]], %[[D]]] accumulate(%[[S]]) :
// CHECK-NOT: lathe.moe %
// CHECK: return %[[Y]]
// TILE-LABEL: func.func @v3(
// TILE: lathe.moe_dispatch %{{.+}} {m_tile = 16 : i64, num_experts = 4 : i64}
func.func @v3(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %b: tensor<4xf32>,
    %g: tensor<32x64xbf16>, %u: tensor<32x64xbf16>, %d: tensor<64x32xbf16>,
    %sg: tensor<48x64xbf16>, %su: tensor<48x64xbf16>, %sd: tensor<64x48xbf16>) -> tensor<?x?x64xf32> {
  %y = lathe.moe %h scoring sigmoid router(%r bias %b)
      experts gate [%g, %g, %g, %g] up [%u, %u, %u, %u] down [%d, %d, %d, %d] shared(%sg, %su, %sd)
      {top_k = 2 : i64, n_group = 2 : i64, topk_group = 1 : i64, norm_topk_prob = true, routed_scaling_factor = 2.5}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<4xf32>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>,
         tensor<48x64xbf16>, tensor<48x64xbf16>, tensor<64x48xbf16>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// V2-Lite: softmax, no bias, no groups, no shared experts; two blocks.
// CHECK-LABEL: func.func @v2_lite(
// CHECK: %[[IDS:[a-z0-9_]+]], %[[W:[a-z0-9_]+]] = lathe.moe_router %{{.+}} scoring softmax router(%{{.+}}) {top_k = 3 : i64} : (tensor<2x5x64xf32>, tensor<4x64xbf16>) -> (tensor<2x5x3xi32>, tensor<2x5x3xf32>)
// CHECK: %[[OFF:[a-z0-9_]+]], %[[ORDER:[a-z0-9_]+]] = lathe.moe_dispatch %[[IDS]] {num_experts = 4 : i64}
// CHECK-NOT: lathe.mlp
// CHECK: %[[Y:.+]] = lathe.moe_experts %{{.+}} routing(%[[W]], %[[OFF]], %[[ORDER]]) gate[{{.+}}] up[{{.+}}] down[{{.+}}] : (
// CHECK: lathe.moe_router %[[Y]] scoring softmax
// CHECK: lathe.moe_experts %[[Y]]
// CHECK-NOT: lathe.moe %
func.func @v2_lite(%h: tensor<2x5x64xf32>, %r: tensor<4x64xbf16>,
    %g: tensor<32x64xbf16>, %u: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) -> tensor<2x5x64xf32> {
  %y = lathe.moe %h scoring softmax router(%r)
      experts gate [%g, %g, %g, %g] up [%u, %u, %u, %u] down [%d, %d, %d, %d]
      {top_k = 3 : i64}
      : (tensor<2x5x64xf32>, tensor<4x64xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x5x64xf32>
  %z = lathe.moe %y scoring softmax router(%r)
      experts gate [%g, %g, %g, %g] up [%u, %u, %u, %u] down [%d, %d, %d, %d]
      {top_k = 3 : i64}
      : (tensor<2x5x64xf32>, tensor<4x64xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
         tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x5x64xf32>
  return %z : tensor<2x5x64xf32>
}

// -----

// FP8 routed experts with bf16 shared ones: every scale goes to the routed
// experts; then FP8 shared experts too: the last three scales are theirs.
// CHECK-LABEL: func.func @fp8(
// CHECK-SAME: %[[S0:[a-z0-9_]+]]: tensor<1x1xf32>, %[[S1:[a-z0-9_]+]]: tensor<1x1xf32>, %[[S2:[a-z0-9_]+]]: tensor<1x1xf32>, %[[S3:[a-z0-9_]+]]: tensor<1x1xf32>, %[[S4:[a-z0-9_]+]]: tensor<1x1xf32>, %[[S5:[a-z0-9_]+]]: tensor<1x1xf32>, %[[S6:[a-z0-9_]+]]: tensor<1x1xf32>, %[[S7:[a-z0-9_]+]]: tensor<1x1xf32>, %[[S8:[a-z0-9_]+]]: tensor<1x1xf32>)
// CHECK: lathe.mlp %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} : (tensor<?x64xf32>, tensor<48x64xbf16>
// CHECK: lathe.moe_experts {{.+}} scales(%[[S0]], %[[S1]], %[[S2]], %[[S3]], %[[S4]], %[[S5]]) {block_size = array<i64: 128, 128>}
// CHECK: lathe.mlp %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} scales(%[[S6]], %[[S7]], %[[S8]]) {block_size = array<i64: 128, 128>}
// CHECK: lathe.moe_experts {{.+}} scales(%[[S0]], %[[S1]], %[[S2]], %[[S3]], %[[S4]], %[[S5]]) {block_size = array<i64: 128, 128>}
func.func @fp8(%h: tensor<?x64xf32>, %r: tensor<2x64xf32>,
    %g: tensor<32x64xf8E4M3FN>, %u: tensor<32x64xf8E4M3FN>, %d: tensor<64x32xf8E4M3FN>,
    %sg: tensor<48x64xbf16>, %su: tensor<48x64xbf16>, %sd: tensor<64x48xbf16>,
    %fg: tensor<48x64xf8E4M3FN>, %fu: tensor<48x64xf8E4M3FN>, %fd: tensor<64x48xf8E4M3FN>,
    %s0: tensor<1x1xf32>, %s1: tensor<1x1xf32>, %s2: tensor<1x1xf32>, %s3: tensor<1x1xf32>, %s4: tensor<1x1xf32>, %s5: tensor<1x1xf32>,
    %s6: tensor<1x1xf32>, %s7: tensor<1x1xf32>, %s8: tensor<1x1xf32>) -> tensor<?x64xf32> {
  %y = lathe.moe %h scoring softmax router(%r)
      experts gate [%g, %g] up [%u, %u] down [%d, %d] shared(%sg, %su, %sd)
      scales(%s0, %s1, %s2, %s3, %s4, %s5) {top_k = 1 : i64, block_size = array<i64: 128, 128>}
      : (tensor<?x64xf32>, tensor<2x64xf32>,
         tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>,
         tensor<64x32xf8E4M3FN>, tensor<64x32xf8E4M3FN>,
         tensor<48x64xbf16>, tensor<48x64xbf16>, tensor<64x48xbf16>,
         tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<?x64xf32>
  %z = lathe.moe %y scoring softmax router(%r)
      experts gate [%g, %g] up [%u, %u] down [%d, %d] shared(%fg, %fu, %fd)
      scales(%s0, %s1, %s2, %s3, %s4, %s5, %s6, %s7, %s8) {top_k = 1 : i64, block_size = array<i64: 128, 128>}
      : (tensor<?x64xf32>, tensor<2x64xf32>,
         tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>,
         tensor<64x32xf8E4M3FN>, tensor<64x32xf8E4M3FN>,
         tensor<48x64xf8E4M3FN>, tensor<48x64xf8E4M3FN>, tensor<64x48xf8E4M3FN>,
         tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x1xf32>,
         tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<?x64xf32>
  return %z : tensor<?x64xf32>
}
