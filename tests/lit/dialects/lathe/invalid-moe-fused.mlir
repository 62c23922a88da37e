// The verifier rules of the fused MoE ops. lathe.moe_router shares
// lathe.moe's router rules (invalid-moe.mlir has them all); one case here
// shows they apply.
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

func.func @router_topk(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>) {
  // expected-error @+1 {{'lathe.moe_router' op top_k must be in [1, 4], got 5}}
  %ids, %w = lathe.moe_router %h scoring softmax router(%r) {top_k = 5 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>) -> (tensor<?x?x5xi32>, tensor<?x?x5xf32>)
  return
}

// -----

func.func @router_ids(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>) {
  // expected-error @+1 {{'lathe.moe_router' op ids has shape [?, ?, 3] but needs [?, ?, 2]}}
  %ids, %w = lathe.moe_router %h scoring softmax router(%r) {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>) -> (tensor<?x?x3xi32>, tensor<?x?x2xf32>)
  return
}

// -----

func.func @router_weights(%h: tensor<2x7x64xf32>, %r: tensor<4x64xf32>) {
  // expected-error @+1 {{'lathe.moe_router' op weights has shape [2, 2] but needs [2, 7, 2]}}
  %ids, %w = lathe.moe_router %h scoring softmax router(%r) {top_k = 2 : i64}
      : (tensor<2x7x64xf32>, tensor<4x64xf32>) -> (tensor<2x7x2xi32>, tensor<2x2xf32>)
  return
}

// -----

func.func @dispatch_offsets(%ids: tensor<?x?x2xi32>) {
  // expected-error @+1 {{'lathe.moe_dispatch' op offsets has shape [4] but one entry per expert and one past the last needs [5]}}
  %offsets, %order = lathe.moe_dispatch %ids {num_experts = 4 : i64}
      : (tensor<?x?x2xi32>) -> (tensor<4xi32>, tensor<?xi32>)
  return
}

// -----

func.func @dispatch_tile(%ids: tensor<?x?x2xi32>) {
  // expected-error @+1 {{'lathe.moe_dispatch' op m_tile must be positive, got 0}}
  %offsets, %order = lathe.moe_dispatch %ids {num_experts = 4 : i64, m_tile = 0 : i64}
      : (tensor<?x?x2xi32>) -> (tensor<5xi32>, tensor<?xi32>)
  return
}

// -----

func.func @dispatch_experts(%ids: tensor<?x?x2xi32>) {
  // expected-error @+1 {{'lathe.moe_dispatch' op num_experts must be positive, got 0}}
  %offsets, %order = lathe.moe_dispatch %ids {num_experts = 0 : i64}
      : (tensor<?x?x2xi32>) -> (tensor<1xi32>, tensor<?xi32>)
  return
}

// -----

func.func @experts_offsets(%h: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %offsets: tensor<4xi32>, %order: tensor<?xi32>, %g: tensor<32x64xbf16>, %u: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe_experts' op offsets has shape [4] but one entry per expert and one past the last needs [3]}}
  %y = lathe.moe_experts %h routing(%w, %offsets, %order) gate [%g, %g] up [%u, %u] down [%d, %d]
      : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<4xi32>, tensor<?xi32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @experts_weights(%h: tensor<2x5x64xf32>, %w: tensor<2x4x2xf32>, %offsets: tensor<3xi32>, %order: tensor<?xi32>, %g: tensor<32x64xbf16>, %u: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe_experts' op weights has shape [2, 4, 2] but needs [2, 5, 2]}}
  %y = lathe.moe_experts %h routing(%w, %offsets, %order) gate [%g, %g] up [%u, %u] down [%d, %d]
      : (tensor<2x5x64xf32>, tensor<2x4x2xf32>, tensor<3xi32>, tensor<?xi32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<2x5x64xf32>
  return
}

// -----

func.func @experts_up_count(%h: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %offsets: tensor<3xi32>, %order: tensor<?xi32>, %g: tensor<32x64xbf16>, %u: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe_experts' op expert_gate holds 2 experts but expert_up has 1}}
  %y = lathe.moe_experts %h routing(%w, %offsets, %order) gate [%g, %g] up [%u] down [%d, %d]
      : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<3xi32>, tensor<?xi32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @experts_down_shape(%h: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %offsets: tensor<3xi32>, %order: tensor<?xi32>, %g: tensor<32x64xbf16>, %u: tensor<32x64xbf16>, %d: tensor<64x16xbf16>) {
  // expected-error @+1 {{'lathe.moe_experts' op expert 0 down has shape [64, 16] but its gate needs [64, 32]}}
  %y = lathe.moe_experts %h routing(%w, %offsets, %order) gate [%g, %g] up [%u, %u] down [%d, %d]
      : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<3xi32>, tensor<?xi32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x16xbf16>, tensor<64x16xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @experts_accumulate(%h: tensor<?x?x64xf32>, %w: tensor<?x?x2xf32>, %offsets: tensor<3xi32>, %order: tensor<?xi32>, %g: tensor<32x64xbf16>, %u: tensor<32x64xbf16>, %d: tensor<64x32xbf16>, %s: tensor<?x?x64xbf16>) {
  // expected-error @+1 {{'lathe.moe_experts' op accumulate has type 'tensor<?x?x64xbf16>' but must match input's 'tensor<?x?x64xf32>'}}
  %y = lathe.moe_experts %h routing(%w, %offsets, %order) gate [%g, %g] up [%u, %u] down [%d, %d] accumulate(%s)
      : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<3xi32>, tensor<?xi32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<?x?x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @experts_fp8_scales(%h: tensor<?x?x64xf32>, %w: tensor<?x?x1xf32>, %offsets: tensor<2xi32>, %order: tensor<?xi32>, %g: tensor<32x64xf8E4M3FN>, %u: tensor<32x64xf8E4M3FN>, %d: tensor<64x32xf8E4M3FN>, %s: tensor<1x1xf32>) {
  // expected-error @+1 {{'lathe.moe_experts' op has 1 scale operand(s) but 3 FP8 weight(s); each FP8 weight needs one}}
  %y = lathe.moe_experts %h routing(%w, %offsets, %order) gate [%g] up [%u] down [%d] scales(%s) {block_size = array<i64: 128, 128>}
      : (tensor<?x?x64xf32>, tensor<?x?x1xf32>, tensor<2xi32>, tensor<?xi32>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<64x32xf8E4M3FN>, tensor<1x1xf32>) -> tensor<?x?x64xf32>
  return
}
