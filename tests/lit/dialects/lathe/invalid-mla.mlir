// Every rule of lathe.mla's verifier, and the ODS constraints worth pinning.
// The valid op these cases bend: hidden 64, 4 heads, nope/rope/v 16/8/16,
// kv_lora 32 (q_lora 48): q_proj [96, 64], q_a_proj [48, 64], q_a_norm [48],
// q_b_proj [96, 48], kv_a_proj [40, 64], kv_a_norm [32], kv_b_proj [128, 32],
// o_proj [64, 64].
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

func.func @input_rank(%h: tensor<?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op input must be [batch, seq, hidden], got [?, 64]}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x64xf32>
  return
}

// -----

func.func @dynamic_hidden(%h: tensor<?x?x?xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op input must have a static last dim, got [?, ?, ?]}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x?xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x?xf32>
  return
}

// -----

func.func @positions_rank(%h: tensor<?x?x64xf32>, %pos: tensor<?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op positions must be [batch, seq], got [?]}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @leading_dims(%h: tensor<2x5x64xf32>, %pos: tensor<2x6xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op leading dims of input [2, 5, 64] and positions [2, 6] disagree}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<2x5x64xf32>, tensor<2x6xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<2x5x64xf32>
  return
}

// -----

func.func @num_heads(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op num_heads must be positive, got 0}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 0 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @kv_lora_rank(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op kv_lora_rank must be positive, got -32}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = -32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @qk_nope_head_dim(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op qk_nope_head_dim must be positive, got 0}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 0 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @qk_rope_head_dim(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op qk_rope_head_dim must be positive, got -8}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = -8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @v_head_dim(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op v_head_dim must be positive, got 0}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 0 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @softmax_scale(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op softmax_scale must be positive and finite, got 0.000000e+00}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.0, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// +inf, written as its bits.
func.func @softmax_scale_inf(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op softmax_scale must be positive and finite, got INF}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0x7FF0000000000000 : f64, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @rms_norm_eps(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op rms_norm_eps must be positive and finite, got -1.000000e-06}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = -1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @odd_rope_dim(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op qk_rope_head_dim must be even (RoPE rotates pairs), got 7}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 7 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// 2^62 heads: the weight shapes would overflow int64, so no weight can match.
func.func @overflow_heads(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op head dims overflow int64}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4611686018427387904 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @overflow_kv(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op head dims overflow int64}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 9223372036854775807 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @both_query_paths(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %qa: tensor<48x64xbf16>, %qan: tensor<48xbf16>, %qb: tensor<96x48xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op takes either q_proj or the q_lora path (q_a_proj, q_a_norm, q_b_proj), not both}}
  %0 = lathe.mla %h, %pos q(%wq) q_lora(%qa, %qan, %qb) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>, q_lora_rank = 48 : i64}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<48x64xbf16>, tensor<48xbf16>, tensor<96x48xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// The custom syntax groups the three; the generic form can leave q_a_norm out.
func.func @partial_q_lora(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %qa: tensor<48x64xbf16>, %qb: tensor<96x48xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op q_lora path needs q_a_proj, q_a_norm and q_b_proj together}}
  %0 = "lathe.mla"(%h, %pos, %qa, %qb, %kva, %kvn, %kvb, %wo) <{num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>, q_lora_rank = 48 : i64, operandSegmentSizes = array<i32: 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0>}>
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<48x64xbf16>, tensor<96x48xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @q_lora_without_rank(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %qa: tensor<48x64xbf16>, %qan: tensor<48xbf16>, %qb: tensor<96x48xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op has a q_lora path but no q_lora_rank}}
  %0 = lathe.mla %h, %pos q_lora(%qa, %qan, %qb) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<48x64xbf16>, tensor<48xbf16>, tensor<96x48xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @q_lora_rank_zero(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %qa: tensor<48x64xbf16>, %qan: tensor<48xbf16>, %qb: tensor<96x48xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op q_lora_rank must be positive, got 0}}
  %0 = lathe.mla %h, %pos q_lora(%qa, %qan, %qb) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>, q_lora_rank = 0 : i64}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<48x64xbf16>, tensor<48xbf16>, tensor<96x48xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @q_a_proj(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %qan: tensor<48xbf16>, %qb: tensor<96x48xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  %qa = lathe.weight "model.layers.0.self_attn.q_a_proj.weight" in "model.safetensors" at 0 : tensor<32x64xbf16>
  // expected-error @+1 {{'lathe.mla' op q_a_proj ('model.layers.0.self_attn.q_a_proj.weight') has shape [32, 64] but [q_lora_rank, hidden] needs [48, 64]}}
  %0 = lathe.mla %h, %pos q_lora(%qa, %qan, %qb) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>, q_lora_rank = 48 : i64}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<32x64xbf16>, tensor<48xbf16>, tensor<96x48xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @q_a_norm(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %qa: tensor<48x64xbf16>, %qb: tensor<96x48xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  %qan = lathe.weight "model.layers.0.self_attn.q_a_layernorm.weight" in "model.safetensors" at 0 : tensor<64xbf16>
  // expected-error @+1 {{'lathe.mla' op q_a_norm ('model.layers.0.self_attn.q_a_layernorm.weight') has shape [64] but [q_lora_rank] needs [48]}}
  %0 = lathe.mla %h, %pos q_lora(%qa, %qan, %qb) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>, q_lora_rank = 48 : i64}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<48x64xbf16>, tensor<64xbf16>, tensor<96x48xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// q_b_proj sized for nope only (4 * 16), forgetting the rope dims.
func.func @q_b_proj(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %qa: tensor<48x64xbf16>, %qan: tensor<48xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  %qb = lathe.weight "model.layers.0.self_attn.q_b_proj.weight" in "model.safetensors" at 0 : tensor<64x48xbf16>
  // expected-error @+1 {{'lathe.mla' op q_b_proj ('model.layers.0.self_attn.q_b_proj.weight') has shape [64, 48] but [num_heads * (qk_nope_head_dim + qk_rope_head_dim), q_lora_rank] needs [96, 48]}}
  %0 = lathe.mla %h, %pos q_lora(%qa, %qan, %qb) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>, q_lora_rank = 48 : i64}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<48x64xbf16>, tensor<48xbf16>, tensor<64x48xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @no_query(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op needs q_proj or the q_lora path}}
  %0 = lathe.mla %h, %pos kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @q_lora_rank_without_path(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op has q_lora_rank but no q_lora path}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>, q_lora_rank = 48 : i64}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @q_proj(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  %wq = lathe.weight "model.layers.0.self_attn.q_proj.weight" in "model.safetensors" at 0 : tensor<128x64xbf16>
  // expected-error @+1 {{'lathe.mla' op q_proj ('model.layers.0.self_attn.q_proj.weight') has shape [128, 64] but [num_heads * (qk_nope_head_dim + qk_rope_head_dim), hidden] needs [96, 64]}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<128x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// kv_a_proj without the shared rope key head.
func.func @kv_a_proj(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  %kva = lathe.weight "model.layers.0.self_attn.kv_a_proj_with_mqa.weight" in "model.safetensors" at 0 : tensor<32x64xbf16>
  // expected-error @+1 {{'lathe.mla' op kv_a_proj ('model.layers.0.self_attn.kv_a_proj_with_mqa.weight') has shape [32, 64] but [kv_lora_rank + qk_rope_head_dim, hidden] needs [40, 64]}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<32x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// The latent norm covers c_kv only, not the rope key.
func.func @kv_a_norm(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  %kvn = lathe.weight "model.layers.0.self_attn.kv_a_layernorm.weight" in "model.safetensors" at 0 : tensor<40xbf16>
  // expected-error @+1 {{'lathe.mla' op kv_a_norm ('model.layers.0.self_attn.kv_a_layernorm.weight') has shape [40] but [kv_lora_rank] needs [32]}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<40xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// kv_b_proj holds W_UK and W_UV per head: nope + v rows, not nope + rope.
func.func @kv_b_proj(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %wo: tensor<64x64xbf16>) {
  %kvb = lathe.weight "model.layers.0.self_attn.kv_b_proj.weight" in "model.safetensors" at 0 : tensor<96x32xbf16>
  // expected-error @+1 {{'lathe.mla' op kv_b_proj ('model.layers.0.self_attn.kv_b_proj.weight') has shape [96, 32] but [num_heads * (qk_nope_head_dim + v_head_dim), kv_lora_rank] needs [128, 32]}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<96x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @o_proj(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>) {
  %wo = lathe.weight "model.layers.0.self_attn.o_proj.weight" in "model.safetensors" at 0 : tensor<64x96xbf16>
  // expected-error @+1 {{'lathe.mla' op o_proj ('model.layers.0.self_attn.o_proj.weight') has shape [64, 96] but [hidden, num_heads * v_head_dim] needs [64, 64]}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x96xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// v_head_dim feeds kv_b_proj and o_proj; the first mismatch is reported.
func.func @v_head_dim_mismatch(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op kv_b_proj has shape [128, 32] but [num_heads * (qk_nope_head_dim + v_head_dim), kv_lora_rank] needs [112, 32]}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 12 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @fp8_without_block_size(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  %wq = lathe.weight "model.layers.0.self_attn.q_proj.weight" in "model.safetensors" at 0 : tensor<96x64xf8E4M3FN>
  // expected-error @+1 {{'lathe.mla' op q_proj ('model.layers.0.self_attn.q_proj.weight') is FP8 but the op has no block_size}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xf8E4M3FN>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @fp8_scale_count(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xf8E4M3FN>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xf8E4M3FN>, %s0: tensor<1x1xf32>) {
  // expected-error @+1 {{'lathe.mla' op has 1 scale operand(s) but 2 FP8 weight(s); each FP8 weight needs one}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo) scales(%s0)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>, block_size = array<i64: 128, 128>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xf8E4M3FN>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xf8E4M3FN>, tensor<1x1xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

// q_a [48,64] -> 3x2, q_b [96,48] -> 6x2, kv_a [40,64] -> 3x2 match; the fourth
// scale is kv_b's.
func.func @fp8_scale_shape(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %qa: tensor<48x64xf8E4M3FN>, %qan: tensor<48xbf16>, %qb: tensor<96x48xf8E4M3FN>, %kva: tensor<40x64xf8E4M3FN>, %kvn: tensor<32xbf16>, %wo: tensor<64x64xf8E4M3FN>, %s0: tensor<3x2xf32>, %s1: tensor<6x2xf32>, %s2: tensor<3x2xf32>, %s3: tensor<1x1xf32>, %s4: tensor<4x2xf32>) {
  %kvb = lathe.weight "model.layers.0.self_attn.kv_b_proj.weight" in "model.safetensors" at 0 : tensor<128x32xf8E4M3FN>
  // expected-error @+1 {{'lathe.mla' op scale of kv_b_proj ('model.layers.0.self_attn.kv_b_proj.weight') has shape [1, 1] but block [16, 32] over [128, 32] needs [8, 1]}}
  %0 = lathe.mla %h, %pos q_lora(%qa, %qan, %qb) kv(%kva, %kvn, %kvb) out(%wo) scales(%s0, %s1, %s2, %s3, %s4)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>, q_lora_rank = 48 : i64, block_size = array<i64: 16, 32>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<48x64xf8E4M3FN>, tensor<48xbf16>, tensor<96x48xf8E4M3FN>, tensor<40x64xf8E4M3FN>, tensor<32xbf16>, tensor<128x32xf8E4M3FN>, tensor<64x64xf8E4M3FN>, tensor<3x2xf32>, tensor<6x2xf32>, tensor<3x2xf32>, tensor<1x1xf32>, tensor<4x2xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @scales_without_fp8(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>, %s0: tensor<1x1xf32>) {
  // expected-error @+1 {{'lathe.mla' op has 1 scale operand(s) but no FP8 weight}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo) scales(%s0)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>, tensor<1x1xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @block_size_without_fp8(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op has block_size but no FP8 weight}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>, block_size = array<i64: 128, 128>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @result_type(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op failed to verify that all of {input, result} have same type}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xbf16>
  return
}

// -----

func.func @missing_attribute(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{'lathe.mla' op requires attribute 'num_heads'}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// rope must be a #lathe.rope; the custom parser checks it at the attribute dict.
func.func @rope_attribute(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %wq: tensor<96x64xbf16>, %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+2 {{'lathe.mla' op attribute 'rope' failed to satisfy constraint: rotary position embedding over interleaved pairs}}
  %0 = lathe.mla %h, %pos q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
      {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2, rms_norm_eps = 1.0e-06, rope = 10000.0}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}
