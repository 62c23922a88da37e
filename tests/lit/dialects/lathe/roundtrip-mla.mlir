// lathe.mla: the whole multi-head latent attention block. Queries come from
// q(q_proj) (V2-Lite) or from q_lora(q_a_proj, q_a_norm, q_b_proj) with
// q_lora_rank (V3); kv(kv_a_proj, kv_a_norm, kv_b_proj) and out(o_proj)
// always. FP8 weights take scales in operand order.
//   hidden 64, 4 heads, nope/rope/v 16/8/16, kv_lora 32, q_lora 48:
//   q_proj [4*(16+8), 64], kv_a_proj [32+8, 64], kv_b_proj [4*(16+16), 32],
//   o_proj [64, 4*16].
// RUN: lathe-opt %s | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// CHECK-LABEL: func.func @q_proj(
// CHECK-SAME: %[[H:[a-z0-9_]+]]: tensor<?x?x64xf32>, %[[POS:[a-z0-9_]+]]: tensor<?x?xi32>
func.func @q_proj(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>) -> tensor<?x?x64xf32> {
  // CHECK: %[[WQ:.+]] = lathe.weight "model.layers.0.self_attn.q_proj.weight"
  // CHECK: %[[WKVA:.+]] = lathe.weight "model.layers.0.self_attn.kv_a_proj_with_mqa.weight"
  // CHECK: %[[KVN:.+]] = lathe.weight "model.layers.0.self_attn.kv_a_layernorm.weight"
  // CHECK: %[[WKVB:.+]] = lathe.weight "model.layers.0.self_attn.kv_b_proj.weight"
  // CHECK: %[[WO:.+]] = lathe.weight "model.layers.0.self_attn.o_proj.weight"
  %wq = lathe.weight "model.layers.0.self_attn.q_proj.weight" in "model.safetensors" at 0 : tensor<96x64xbf16>
  %wkva = lathe.weight "model.layers.0.self_attn.kv_a_proj_with_mqa.weight" in "model.safetensors" at 12288 : tensor<40x64xbf16>
  %kvn = lathe.weight "model.layers.0.self_attn.kv_a_layernorm.weight" in "model.safetensors" at 17408 : tensor<32xbf16>
  %wkvb = lathe.weight "model.layers.0.self_attn.kv_b_proj.weight" in "model.safetensors" at 17472 : tensor<128x32xbf16>
  %wo = lathe.weight "model.layers.0.self_attn.o_proj.weight" in "model.safetensors" at 25664 : tensor<64x64xbf16>
  // CHECK: %[[O:.+]] = lathe.mla %[[H]], %[[POS]] q(%[[WQ]]) kv(%[[WKVA]], %[[KVN]], %[[WKVB]]) out(%[[WO]])
  // CHECK-SAME: {kv_lora_rank = 32 : i64, num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, rms_norm_eps = 9.9999999999999995E-7 : f64, rope = #lathe.rope<theta = 10000.0>, softmax_scale = 2.000000e-01 : f64, v_head_dim = 16 : i64}
  // CHECK-SAME: : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  %o = lathe.mla %h, %pos q(%wq) kv(%wkva, %kvn, %wkvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64,
       qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2,
       rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>,
         tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  // CHECK: return %[[O]]
  return %o : tensor<?x?x64xf32>
}

// The low-rank query path with YaRN; bf16 activations and i64 positions.
// CHECK-LABEL: func.func @q_lora_yarn(
// CHECK-SAME: %[[H:[a-z0-9_]+]]: tensor<2x?x64xbf16>, %[[POS:[a-z0-9_]+]]: tensor<2x?xi64>, %[[QA:[a-z0-9_]+]]: tensor<48x64xbf16>, %[[QAN:[a-z0-9_]+]]: tensor<48xf32>, %[[QB:[a-z0-9_]+]]: tensor<96x48xbf16>, %[[KVA:[a-z0-9_]+]]: tensor<40x64xbf16>, %[[KVN:[a-z0-9_]+]]: tensor<32xf32>, %[[KVB:[a-z0-9_]+]]: tensor<128x32xbf16>, %[[WO:[a-z0-9_]+]]: tensor<64x64xbf16>
func.func @q_lora_yarn(%h: tensor<2x?x64xbf16>, %pos: tensor<2x?xi64>,
                       %qa: tensor<48x64xbf16>, %qan: tensor<48xf32>, %qb: tensor<96x48xbf16>,
                       %kva: tensor<40x64xbf16>, %kvn: tensor<32xf32>, %kvb: tensor<128x32xbf16>,
                       %wo: tensor<64x64xbf16>) -> tensor<2x?x64xbf16> {
  // CHECK: lathe.mla %[[H]], %[[POS]] q_lora(%[[QA]], %[[QAN]], %[[QB]]) kv(%[[KVA]], %[[KVN]], %[[KVB]]) out(%[[WO]])
  // CHECK-SAME: {kv_lora_rank = 32 : i64, num_heads = 4 : i64, q_lora_rank = 48 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, rms_norm_eps = 1.562500e-02 : f64,
  // CHECK-SAME: rope = #lathe.rope<theta = 10000.0, yarn = <factor = 40.0, original_max_position_embeddings = 64, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>>, softmax_scale = 5.000000e-01 : f64, v_head_dim = 16 : i64}
  // CHECK-SAME: : (tensor<2x?x64xbf16>, tensor<2x?xi64>, tensor<48x64xbf16>, tensor<48xf32>, tensor<96x48xbf16>, tensor<40x64xbf16>, tensor<32xf32>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<2x?x64xbf16>
  %o = lathe.mla %h, %pos q_lora(%qa, %qan, %qb) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, q_lora_rank = 48 : i64, kv_lora_rank = 32 : i64,
       qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64,
       softmax_scale = 0.5, rms_norm_eps = 0.015625,
       rope = #lathe.rope<theta = 10000.0, yarn = <factor = 40.0, original_max_position_embeddings = 64,
              beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>>}
      : (tensor<2x?x64xbf16>, tensor<2x?xi64>, tensor<48x64xbf16>, tensor<48xf32>, tensor<96x48xbf16>,
         tensor<40x64xbf16>, tensor<32xf32>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<2x?x64xbf16>
  return %o : tensor<2x?x64xbf16>
}

// V3-style FP8: every projection e4m3 with 16x32 blocks, so each scale has
// its own shape: q_a [48,64] -> 3x2, q_b [96,48] -> 6x2, kv_a [40,64] -> 3x2,
// kv_b [128,32] -> 8x1, o [64,64] -> 4x2, in that (operand) order.
// CHECK-LABEL: func.func @fp8_q_lora(
// CHECK-SAME: %[[H:[a-z0-9_]+]]: tensor<?x?x64xf32>, %[[POS:[a-z0-9_]+]]: tensor<?x?xi32>, %[[QA:[a-z0-9_]+]]: tensor<48x64xf8E4M3FN>, %[[QAN:[a-z0-9_]+]]: tensor<48xbf16>, %[[QB:[a-z0-9_]+]]: tensor<96x48xf8E4M3FN>, %[[KVA:[a-z0-9_]+]]: tensor<40x64xf8E4M3FN>, %[[KVN:[a-z0-9_]+]]: tensor<32xbf16>, %[[KVB:[a-z0-9_]+]]: tensor<128x32xf8E4M3FN>, %[[WO:[a-z0-9_]+]]: tensor<64x64xf8E4M3FN>,
// CHECK-SAME: %[[S0:[a-z0-9_]+]]: tensor<3x2xf32>, %[[S1:[a-z0-9_]+]]: tensor<6x2xf32>, %[[S2:[a-z0-9_]+]]: tensor<3x2xf32>, %[[S3:[a-z0-9_]+]]: tensor<8x1xf32>, %[[S4:[a-z0-9_]+]]: tensor<4x2xf32>
func.func @fp8_q_lora(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>,
                      %qa: tensor<48x64xf8E4M3FN>, %qan: tensor<48xbf16>, %qb: tensor<96x48xf8E4M3FN>,
                      %kva: tensor<40x64xf8E4M3FN>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xf8E4M3FN>,
                      %wo: tensor<64x64xf8E4M3FN>,
                      %s0: tensor<3x2xf32>, %s1: tensor<6x2xf32>, %s2: tensor<3x2xf32>,
                      %s3: tensor<8x1xf32>, %s4: tensor<4x2xf32>) -> tensor<?x?x64xf32> {
  // CHECK: lathe.mla %[[H]], %[[POS]] q_lora(%[[QA]], %[[QAN]], %[[QB]]) kv(%[[KVA]], %[[KVN]], %[[KVB]]) out(%[[WO]]) scales(%[[S0]], %[[S1]], %[[S2]], %[[S3]], %[[S4]])
  // CHECK-SAME: {block_size = array<i64: 16, 32>, kv_lora_rank = 32 : i64, num_heads = 4 : i64, q_lora_rank = 48 : i64,
  // CHECK-SAME: : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<48x64xf8E4M3FN>, tensor<48xbf16>, tensor<96x48xf8E4M3FN>, tensor<40x64xf8E4M3FN>, tensor<32xbf16>, tensor<128x32xf8E4M3FN>, tensor<64x64xf8E4M3FN>, tensor<3x2xf32>, tensor<6x2xf32>, tensor<3x2xf32>, tensor<8x1xf32>, tensor<4x2xf32>) -> tensor<?x?x64xf32>
  %o = lathe.mla %h, %pos q_lora(%qa, %qan, %qb) kv(%kva, %kvn, %kvb) out(%wo) scales(%s0, %s1, %s2, %s3, %s4)
      {num_heads = 4 : i64, q_lora_rank = 48 : i64, kv_lora_rank = 32 : i64,
       qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64,
       softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>,
       block_size = array<i64: 16, 32>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<48x64xf8E4M3FN>, tensor<48xbf16>, tensor<96x48xf8E4M3FN>,
         tensor<40x64xf8E4M3FN>, tensor<32xbf16>, tensor<128x32xf8E4M3FN>, tensor<64x64xf8E4M3FN>,
         tensor<3x2xf32>, tensor<6x2xf32>, tensor<3x2xf32>, tensor<8x1xf32>, tensor<4x2xf32>) -> tensor<?x?x64xf32>
  return %o : tensor<?x?x64xf32>
}

// Only some projections FP8: q_proj [96,64] -> 6x2 and kv_b [128,32] -> 8x1;
// kv_a and o stay bf16 and take no scale.
// CHECK-LABEL: func.func @fp8_mixed(
// CHECK-SAME: %[[S0:[a-z0-9_]+]]: tensor<6x2xf32>, %[[S1:[a-z0-9_]+]]: tensor<8x1xf32>
func.func @fp8_mixed(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xf8E5M2>,
                     %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xf8E4M3FN>,
                     %wo: tensor<64x64xbf16>, %s0: tensor<6x2xf32>, %s1: tensor<8x1xf32>) -> tensor<?x?x64xf32> {
  // CHECK: lathe.mla %{{.+}}, %{{.+}} q(%{{.+}}) kv(%{{.+}}, %{{.+}}, %{{.+}}) out(%{{.+}}) scales(%[[S0]], %[[S1]]) {block_size = array<i64: 16, 32>,
  // CHECK-SAME: : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xf8E5M2>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xf8E4M3FN>, tensor<64x64xbf16>, tensor<6x2xf32>, tensor<8x1xf32>) -> tensor<?x?x64xf32>
  %o = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo) scales(%s0, %s1)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64,
       qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2,
       rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>, block_size = array<i64: 16, 32>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xf8E5M2>, tensor<40x64xbf16>, tensor<32xbf16>,
         tensor<128x32xf8E4M3FN>, tensor<64x64xbf16>, tensor<6x2xf32>, tensor<8x1xf32>) -> tensor<?x?x64xf32>
  return %o : tensor<?x?x64xf32>
}

// The optional q operands are segments of one operand list: q_proj present
// and the three q_lora operands absent, or the reverse; scales last.
// GENERIC-LABEL: "func.func"() <{function_type = (tensor<?x?x64xf32>, tensor<?x?xi32>) -> tensor<?x?x64xf32>, sym_name = "q_proj"}>
// GENERIC: "lathe.mla"(
// GENERIC-SAME: operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0>
// GENERIC-LABEL: sym_name = "q_lora_yarn"
// GENERIC: "lathe.mla"(
// GENERIC-SAME: operandSegmentSizes = array<i32: 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0>
// GENERIC-LABEL: sym_name = "fp8_q_lora"
// GENERIC: "lathe.mla"(
// GENERIC-SAME: operandSegmentSizes = array<i32: 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 5>
// GENERIC-LABEL: sym_name = "fp8_mixed"
// GENERIC: "lathe.mla"(
// GENERIC-SAME: operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 2>
