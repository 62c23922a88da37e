// Every rule of lathe.moe's verifier, and the ODS constraints worth pinning.
// The valid op these cases bend: hidden 64, router [4, 64], 4 experts with
// gate/up [32, 64] and down [64, 32], top_k = 2.
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

func.func @scalar_input(%h: tensor<f32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op input must have rank at least 1, got []}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<f32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<f32>
  return
}

// -----

func.func @dynamic_hidden(%h: tensor<?x?x?xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op input must have a static last dim, got [?, ?, ?]}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<?x?x?xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x?xf32>
  return
}

// -----

// The router's rows count the experts, so they must be known.
func.func @dynamic_router(%h: tensor<?x?x64xf32>, %r: tensor<?x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op router_weight must have a static shape, got [?, 64]}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<?x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @router_hidden(%h: tensor<?x?x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  %r = lathe.weight "model.layers.1.mlp.gate.weight" in "model.safetensors" at 0 : tensor<4x32xf32>
  // expected-error @+1 {{'lathe.moe' op router_weight ('model.layers.1.mlp.gate.weight') has shape [4, 32] but must be [experts, 64]}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x32xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @no_experts(%h: tensor<?x?x64xf32>, %r: tensor<0x64xf32>) {
  // expected-error @+1 {{'lathe.moe' op number of experts must be positive, got 0}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [] up [] down []
      {top_k = 1 : i64}
      : (tensor<?x?x64xf32>, tensor<0x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @bias_shape(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  %b = lathe.weight "model.layers.1.mlp.gate.e_score_correction_bias" in "model.safetensors" at 0 : tensor<8xf32>
  // expected-error @+1 {{'lathe.moe' op correction_bias ('model.layers.1.mlp.gate.e_score_correction_bias') has shape [8] but one entry per expert needs [4]}}
  %0 = lathe.moe %h scoring sigmoid router(%r bias %b) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<8xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @gate_count(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op router_weight scores 4 experts but expert_gate has 3}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @up_count(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %u4: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op router_weight scores 4 experts but expert_up has 5}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3, %u4] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @down_count(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op router_weight scores 4 experts but expert_down has 3}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2]
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @expert_gate(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  %g2 = lathe.weight "model.layers.1.mlp.experts.2.gate_proj.weight" in "model.safetensors" at 0 : tensor<32x32xbf16>
  // expected-error @+1 {{'lathe.moe' op expert 2 gate ('model.layers.1.mlp.experts.2.gate_proj.weight') has shape [32, 32] but must be [inter, 64] for hidden size 64}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x32xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @expert_gate_dynamic(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<?x64xbf16>, %g1: tensor<?x64xbf16>, %g2: tensor<?x64xbf16>, %g3: tensor<?x64xbf16>, %u0: tensor<?x64xbf16>, %u1: tensor<?x64xbf16>, %u2: tensor<?x64xbf16>, %u3: tensor<?x64xbf16>, %d0: tensor<64x?xbf16>, %d1: tensor<64x?xbf16>, %d2: tensor<64x?xbf16>, %d3: tensor<64x?xbf16>) {
  // expected-error @+1 {{'lathe.moe' op expert 0 gate must have a static shape, got [?, 64]}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<?x64xbf16>, tensor<64x?xbf16>, tensor<64x?xbf16>, tensor<64x?xbf16>, tensor<64x?xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @expert_up(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  %u1 = lathe.weight "model.layers.1.mlp.experts.1.up_proj.weight" in "model.safetensors" at 0 : tensor<16x64xbf16>
  // expected-error @+1 {{'lathe.moe' op expert 1 up ('model.layers.1.mlp.experts.1.up_proj.weight') has shape [16, 64] but its gate needs [32, 64]}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<16x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @expert_down(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>) {
  %d3 = lathe.weight "model.layers.1.mlp.experts.3.down_proj.weight" in "model.safetensors" at 0 : tensor<32x64xbf16>
  // expected-error @+1 {{'lathe.moe' op expert 3 down ('model.layers.1.mlp.experts.3.down_proj.weight') has shape [32, 64] but its gate needs [64, 32]}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<32x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// Each expert is a consistent SwiGLU, but routed experts share one width.
func.func @expert_width(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<16x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x16xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  %g1 = lathe.weight "model.layers.1.mlp.experts.1.gate_proj.weight" in "model.safetensors" at 0 : tensor<16x64xbf16>
  // expected-error @+1 {{'lathe.moe' op expert 1 gate ('model.layers.1.mlp.experts.1.gate_proj.weight') differs in shape from expert 0's}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<16x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<16x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x16xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// The custom syntax groups the three; the generic form can leave up out.
func.func @partial_shared(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>, %sg: tensor<64x64xbf16>, %sd: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.moe' op shared experts need gate, up and down together}}
  %0 = "lathe.moe"(%h, %r, %g0, %g1, %g2, %g3, %u0, %u1, %u2, %u3, %d0, %d1, %d2, %d3, %sg, %sd) <{scoring = 0 : i32, top_k = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 0, 4, 4, 4, 1, 0, 1, 0>}>
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @shared_gate(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>, %su: tensor<64x64xbf16>, %sd: tensor<64x64xbf16>) {
  %sg = lathe.weight "model.layers.1.mlp.shared_experts.gate_proj.weight" in "model.safetensors" at 0 : tensor<64x32xbf16>
  // expected-error @+1 {{'lathe.moe' op shared gate ('model.layers.1.mlp.shared_experts.gate_proj.weight') has shape [64, 32] but must be [inter, 64] for hidden size 64}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3] shared(%sg, %su, %sd)
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// Shared experts may be wider than routed ones (n_shared_experts * moe width).
func.func @shared_down(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>, %sg: tensor<96x64xbf16>, %su: tensor<96x64xbf16>, %sd: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op shared down has shape [64, 32] but its gate needs [64, 96]}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3] shared(%sg, %su, %sd)
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<96x64xbf16>, tensor<96x64xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @top_k_zero(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op top_k must be in [1, 4], got 0}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 0 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @top_k_too_large(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op top_k must be in [1, 4], got 5}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 5 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @n_group_zero(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op n_group must divide the 4 experts, got 0}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64, n_group = 0 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @n_group_not_dividing(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op n_group must divide the 4 experts, got 3}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64, n_group = 3 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @topk_group_zero(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op topk_group must be in [1, n_group = 2], got 0}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64, n_group = 2 : i64, topk_group = 0 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @topk_group_too_large(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op topk_group must be in [1, n_group = 2], got 3}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64, n_group = 2 : i64, topk_group = 3 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// 2 groups of 2, 1 kept: only 2 experts stay eligible.
func.func @top_k_beyond_kept_groups(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op top_k = 3 exceeds the 2 experts of the topk_group kept groups}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 3 : i64, n_group = 2 : i64, topk_group = 1 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// With a correction bias a group's score sums its two best selection scores,
// so every group needs two experts.
func.func @bias_singleton_groups(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %b: tensor<4xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op with correction_bias a group scores its top-2 experts, but n_group = 4 leaves 1 expert per group}}
  %0 = lathe.moe %h scoring sigmoid router(%r bias %b) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64, n_group = 4 : i64, topk_group = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<4xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @routed_scaling_factor(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op routed_scaling_factor must be positive and finite, got 0.000000e+00}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64, routed_scaling_factor = 0.0}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @routed_scaling_factor_nan(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op routed_scaling_factor must be positive and finite, got nan}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64, routed_scaling_factor = 0x7FF8000000000000 : f64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @fp8_without_block_size(%h: tensor<?x?x64xf32>, %r: tensor<2x64xf32>, %g0: tensor<32x64xf8E4M3FN>, %g1: tensor<32x64xf8E4M3FN>, %u0: tensor<32x64xf8E4M3FN>, %u1: tensor<32x64xf8E4M3FN>, %d0: tensor<64x32xf8E4M3FN>, %d1: tensor<64x32xf8E4M3FN>) {
  // expected-error @+1 {{'lathe.moe' op expert 0 gate is FP8 but the op has no block_size}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1] up [%u0, %u1] down [%d0, %d1]
      {top_k = 1 : i64}
      : (tensor<?x?x64xf32>, tensor<2x64xf32>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<64x32xf8E4M3FN>, tensor<64x32xf8E4M3FN>) -> tensor<?x?x64xf32>
  return
}

// -----

// One scale per FP8 weight, not one per expert.
func.func @fp8_scale_count(%h: tensor<?x?x64xf32>, %r: tensor<2x64xf32>, %g0: tensor<32x64xf8E4M3FN>, %g1: tensor<32x64xf8E4M3FN>, %u0: tensor<32x64xf8E4M3FN>, %u1: tensor<32x64xf8E4M3FN>, %d0: tensor<64x32xf8E4M3FN>, %d1: tensor<64x32xf8E4M3FN>, %s0: tensor<1x1xf32>, %s1: tensor<1x1xf32>) {
  // expected-error @+1 {{'lathe.moe' op has 2 scale operand(s) but 6 FP8 weight(s); each FP8 weight needs one}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1] up [%u0, %u1] down [%d0, %d1] scales(%s0, %s1)
      {top_k = 1 : i64, block_size = array<i64: 128, 128>}
      : (tensor<?x?x64xf32>, tensor<2x64xf32>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<64x32xf8E4M3FN>, tensor<64x32xf8E4M3FN>, tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

// Scales run over all gates, then all ups, then all downs (operand order),
// not expert by expert: given as g0 u0 d0 g1 u1 d1, the third scale (d0's [4, 1])
// lands on expert 0's up.
func.func @fp8_scale_order(%h: tensor<?x?x64xf32>, %r: tensor<2x64xf32>, %g0: tensor<32x64xf8E4M3FN>, %g1: tensor<32x64xf8E4M3FN>, %u1: tensor<32x64xf8E4M3FN>, %d0: tensor<64x32xf8E4M3FN>, %d1: tensor<64x32xf8E4M3FN>, %sg0: tensor<2x2xf32>, %su0: tensor<2x2xf32>, %sd0: tensor<4x1xf32>, %sg1: tensor<2x2xf32>, %su1: tensor<2x2xf32>, %sd1: tensor<4x1xf32>) {
  %u0 = lathe.weight "model.layers.1.mlp.experts.0.up_proj.weight" in "model.safetensors" at 0 : tensor<32x64xf8E4M3FN>
  // expected-error @+1 {{'lathe.moe' op scale of expert 0 up ('model.layers.1.mlp.experts.0.up_proj.weight') has shape [4, 1] but block [16, 32] over [32, 64] needs [2, 2]}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1] up [%u0, %u1] down [%d0, %d1] scales(%sg0, %su0, %sd0, %sg1, %su1, %sd1)
      {top_k = 1 : i64, block_size = array<i64: 16, 32>}
      : (tensor<?x?x64xf32>, tensor<2x64xf32>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<64x32xf8E4M3FN>, tensor<64x32xf8E4M3FN>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<4x1xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<4x1xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

// Shared experts' scales follow the routed experts'.
func.func @fp8_shared_scale(%h: tensor<?x?x64xf32>, %r: tensor<1x64xf32>, %g0: tensor<32x64xf8E4M3FN>, %u0: tensor<32x64xf8E4M3FN>, %d0: tensor<64x32xf8E4M3FN>, %sg: tensor<96x64xf8E4M3FN>, %su: tensor<96x64xf8E4M3FN>, %sd: tensor<64x96xf8E4M3FN>, %s0: tensor<2x2xf32>, %s1: tensor<2x2xf32>, %s2: tensor<4x1xf32>, %s3: tensor<2x2xf32>, %s4: tensor<6x2xf32>, %s5: tensor<4x3xf32>) {
  // expected-error @+1 {{'lathe.moe' op scale of shared gate has shape [2, 2] but block [16, 32] over [96, 64] needs [6, 2]}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0] up [%u0] down [%d0] shared(%sg, %su, %sd) scales(%s0, %s1, %s2, %s3, %s4, %s5)
      {top_k = 1 : i64, block_size = array<i64: 16, 32>}
      : (tensor<?x?x64xf32>, tensor<1x64xf32>, tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<64x32xf8E4M3FN>, tensor<96x64xf8E4M3FN>, tensor<96x64xf8E4M3FN>, tensor<64x96xf8E4M3FN>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<4x1xf32>, tensor<2x2xf32>, tensor<6x2xf32>, tensor<4x3xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @scales_without_fp8(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>, %s0: tensor<1x1xf32>) {
  // expected-error @+1 {{'lathe.moe' op has 1 scale operand(s) but no FP8 weight}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3] scales(%s0)
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<1x1xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @block_size_without_fp8(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op has block_size but no FP8 weight}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64, block_size = array<i64: 128, 128>}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @result_type(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op failed to verify that all of {input, result} have same type}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xbf16>
  return
}

// -----

// The router gate is never quantized.
func.func @fp8_router(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf8E4M3FN>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op operand #1 must be 2D tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<4x64xf8E4M3FN>'}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {top_k = 2 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf8E4M3FN>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @missing_top_k(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{'lathe.moe' op requires attribute 'top_k'}}
  %0 = lathe.moe %h scoring softmax router(%r) experts gate [%g0, %g1, %g2, %g3] up [%u0, %u1, %u2, %u3] down [%d0, %d1, %d2, %d3]
      {n_group = 1 : i64}
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// In generic form the scoring enum is an i32: 0 softmax, 1 sigmoid.
func.func @scoring_out_of_range(%h: tensor<?x?x64xf32>, %r: tensor<4x64xf32>, %g0: tensor<32x64xbf16>, %g1: tensor<32x64xbf16>, %g2: tensor<32x64xbf16>, %g3: tensor<32x64xbf16>, %u0: tensor<32x64xbf16>, %u1: tensor<32x64xbf16>, %u2: tensor<32x64xbf16>, %u3: tensor<32x64xbf16>, %d0: tensor<64x32xbf16>, %d1: tensor<64x32xbf16>, %d2: tensor<64x32xbf16>, %d3: tensor<64x32xbf16>) {
  // expected-error @+1 {{Invalid attribute `scoring` in property conversion: 2 : i32}}
  %0 = "lathe.moe"(%h, %r, %g0, %g1, %g2, %g3, %u0, %u1, %u2, %u3, %d0, %d1, %d2, %d3) <{scoring = 2 : i32, top_k = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 0, 4, 4, 4, 0, 0, 0, 0>}>
      : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}
