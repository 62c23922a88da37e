// One dense and one MoE layer of a tiny DeepSeek-V3-shaped model: the lathe
// graph as the HF frontend imports it (weights referenced, never inlined).
//   hidden 64, 4 heads, q_lora 48, kv_lora 32, nope/rope/v 16/8/16,
//   4 routed experts (2 groups, 1 kept, top-2) + 1 shared, sigmoid + bias, YaRN.
module attributes {lathe.model_type = "deepseek_v3"} {
  func.func @forward(%tokens: tensor<?x?xi32>, %positions: tensor<?x?xi32>) -> tensor<?x?x256xf32> {
    %embed = lathe.weight "model.embed_tokens.weight" in "model.safetensors" at 0 : tensor<256x64xbf16>
    %h0 = lathe.embedding %tokens, %embed : tensor<?x?xi32>, tensor<256x64xbf16> -> tensor<?x?x64xf32>

    // Layer 0: MLA + dense SwiGLU MLP.
    %ln0 = lathe.weight "model.layers.0.input_layernorm.weight" in "model.safetensors" at 32768 : tensor<64xbf16>
    %qa = lathe.weight "model.layers.0.self_attn.q_a_proj.weight" in "model.safetensors" at 32896 : tensor<48x64xbf16>
    %qan = lathe.weight "model.layers.0.self_attn.q_a_layernorm.weight" in "model.safetensors" at 39040 : tensor<48xbf16>
    %qb = lathe.weight "model.layers.0.self_attn.q_b_proj.weight" in "model.safetensors" at 39136 : tensor<96x48xbf16>
    %kva = lathe.weight "model.layers.0.self_attn.kv_a_proj_with_mqa.weight" in "model.safetensors" at 48352 : tensor<40x64xbf16>
    %kvn = lathe.weight "model.layers.0.self_attn.kv_a_layernorm.weight" in "model.safetensors" at 53472 : tensor<32xbf16>
    %kvb = lathe.weight "model.layers.0.self_attn.kv_b_proj.weight" in "model.safetensors" at 53536 : tensor<128x32xbf16>
    %wo = lathe.weight "model.layers.0.self_attn.o_proj.weight" in "model.safetensors" at 61728 : tensor<64x64xbf16>
    %x0 = lathe.rms_norm %h0, %ln0 eps 1.0e-06 : tensor<?x?x64xf32>, tensor<64xbf16>
    %a0 = lathe.mla %x0, %positions q_lora(%qa, %qan, %qb) kv(%kva, %kvn, %kvb) out(%wo)
        {num_heads = 4 : i64, q_lora_rank = 48 : i64, kv_lora_rank = 32 : i64,
         qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64,
         softmax_scale = 0.31, rms_norm_eps = 1.0e-06,
         rope = #lathe.rope<theta = 10000.0, yarn = <factor = 40.0, original_max_position_embeddings = 64,
                beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>>}
        : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<48x64xbf16>, tensor<48xbf16>, tensor<96x48xbf16>,
           tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
    %h1 = lathe.add %h0, %a0 : tensor<?x?x64xf32>
    %pln0 = lathe.weight "model.layers.0.post_attention_layernorm.weight" in "model.safetensors" at 69920 : tensor<64xbf16>
    %g0 = lathe.weight "model.layers.0.mlp.gate_proj.weight" in "model.safetensors" at 70048 : tensor<160x64xbf16>
    %u0 = lathe.weight "model.layers.0.mlp.up_proj.weight" in "model.safetensors" at 90528 : tensor<160x64xbf16>
    %d0 = lathe.weight "model.layers.0.mlp.down_proj.weight" in "model.safetensors" at 111008 : tensor<64x160xbf16>
    %y0 = lathe.rms_norm %h1, %pln0 eps 1.0e-06 : tensor<?x?x64xf32>, tensor<64xbf16>
    %m0 = lathe.mlp %y0, %g0, %u0, %d0
        : (tensor<?x?x64xf32>, tensor<160x64xbf16>, tensor<160x64xbf16>, tensor<64x160xbf16>) -> tensor<?x?x64xf32>
    %h2 = lathe.add %h1, %m0 : tensor<?x?x64xf32>

    // Layer 1's FFN: a mixture of experts (attention elided for brevity).
    %router = lathe.weight "model.layers.1.mlp.gate.weight" in "model.safetensors" at 131488 : tensor<4x64xf32>
    %bias = lathe.weight "model.layers.1.mlp.gate.e_score_correction_bias" in "model.safetensors" at 132512 : tensor<4xf32>
    %eg0 = lathe.weight "model.layers.1.mlp.experts.0.gate_proj.weight" in "model.safetensors" at 132528 : tensor<32x64xbf16>
    %eg1 = lathe.weight "model.layers.1.mlp.experts.1.gate_proj.weight" in "model.safetensors" at 136624 : tensor<32x64xbf16>
    %eg2 = lathe.weight "model.layers.1.mlp.experts.2.gate_proj.weight" in "model.safetensors" at 140720 : tensor<32x64xbf16>
    %eg3 = lathe.weight "model.layers.1.mlp.experts.3.gate_proj.weight" in "model.safetensors" at 144816 : tensor<32x64xbf16>
    %eu0 = lathe.weight "model.layers.1.mlp.experts.0.up_proj.weight" in "model.safetensors" at 148912 : tensor<32x64xbf16>
    %eu1 = lathe.weight "model.layers.1.mlp.experts.1.up_proj.weight" in "model.safetensors" at 153008 : tensor<32x64xbf16>
    %eu2 = lathe.weight "model.layers.1.mlp.experts.2.up_proj.weight" in "model.safetensors" at 157104 : tensor<32x64xbf16>
    %eu3 = lathe.weight "model.layers.1.mlp.experts.3.up_proj.weight" in "model.safetensors" at 161200 : tensor<32x64xbf16>
    %ed0 = lathe.weight "model.layers.1.mlp.experts.0.down_proj.weight" in "model.safetensors" at 165296 : tensor<64x32xbf16>
    %ed1 = lathe.weight "model.layers.1.mlp.experts.1.down_proj.weight" in "model.safetensors" at 169392 : tensor<64x32xbf16>
    %ed2 = lathe.weight "model.layers.1.mlp.experts.2.down_proj.weight" in "model.safetensors" at 173488 : tensor<64x32xbf16>
    %ed3 = lathe.weight "model.layers.1.mlp.experts.3.down_proj.weight" in "model.safetensors" at 177584 : tensor<64x32xbf16>
    %sg = lathe.weight "model.layers.1.mlp.shared_experts.gate_proj.weight" in "model.safetensors" at 181680 : tensor<32x64xbf16>
    %su = lathe.weight "model.layers.1.mlp.shared_experts.up_proj.weight" in "model.safetensors" at 185776 : tensor<32x64xbf16>
    %sd = lathe.weight "model.layers.1.mlp.shared_experts.down_proj.weight" in "model.safetensors" at 189872 : tensor<64x32xbf16>
    %pln1 = lathe.weight "model.layers.1.post_attention_layernorm.weight" in "model.safetensors" at 193968 : tensor<64xbf16>
    %y1 = lathe.rms_norm %h2, %pln1 eps 1.0e-06 : tensor<?x?x64xf32>, tensor<64xbf16>
    %m1 = lathe.moe %y1 scoring sigmoid router(%router bias %bias)
        experts gate [%eg0, %eg1, %eg2, %eg3] up [%eu0, %eu1, %eu2, %eu3] down [%ed0, %ed1, %ed2, %ed3]
        shared(%sg, %su, %sd)
        {top_k = 2 : i64, n_group = 2 : i64, topk_group = 1 : i64, norm_topk_prob = true,
         routed_scaling_factor = 2.5}
        : (tensor<?x?x64xf32>, tensor<4x64xf32>, tensor<4xf32>,
           tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
           tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>,
           tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>, tensor<64x32xbf16>,
           tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
    %h3 = lathe.add %h2, %m1 : tensor<?x?x64xf32>

    %norm = lathe.weight "model.norm.weight" in "model.safetensors" at 194096 : tensor<64xbf16>
    %head = lathe.weight "lm_head.weight" in "model.safetensors" at 194224 : tensor<256x64xbf16>
    %hn = lathe.rms_norm %h3, %norm eps 1.0e-06 : tensor<?x?x64xf32>, tensor<64xbf16>
    %logits = lathe.lm_head %hn, %head : tensor<?x?x64xf32>, tensor<256x64xbf16> -> tensor<?x?x256xf32>
    return %logits : tensor<?x?x256xf32>
  }
}
