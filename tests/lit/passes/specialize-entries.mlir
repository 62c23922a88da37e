// RUN: lathe-opt %s --split-input-file --lathe-specialize-entries="max-batch=4 max-seq-len=256" | FileCheck %s
// RUN: lathe-opt %s --split-input-file --lathe-specialize-entries | FileCheck %s --check-prefix=DEFAULT

// One layer of attention, then the head: @forward becomes @prefill and
// @decode, each returning the last position's logits and caching layer 0.

// CHECK-LABEL: module attributes
// CHECK-SAME: lathe.limits = {max_batch = 4 : i64, max_seq_len = 256 : i64}
// CHECK-NOT: @forward
// CHECK: func.func @prefill(%[[TOK:.*]]: tensor<?x?xi32>, %[[POS:.*]]: tensor<?x?xi32>) -> tensor<?x1x256xf32> attributes {lathe.entry = "prefill"}
// CHECK: %[[H:.*]] = lathe.embedding %[[TOK]]
// CHECK: %[[A:.*]] = lathe.mla {{.*}}kv_cache_layer = 0 : i64
// CHECK: %[[X:.*]] = lathe.add %[[H]], %[[A]]
// CHECK: %[[B:.*]] = tensor.dim %[[X]], %c0
// CHECK: %[[SEQ:.*]] = tensor.dim %[[X]], %c1
// CHECK: %[[LAST:.*]] = arith.subi %[[SEQ]], %{{.*}}
// CHECK: %[[ROW:.*]] = tensor.extract_slice %[[X]][%{{.*}}, %[[LAST]], %{{.*}}] [%[[B]], 1, 64] [1, 1, 1] : tensor<?x?x64xf32> to tensor<?x1x64xf32>
// CHECK: %[[N:.*]] = lathe.rms_norm %[[ROW]], %{{.*}} : tensor<?x1x64xf32>
// CHECK: %[[L:.*]] = lathe.lm_head %[[N]], %{{.*}} -> tensor<?x1x256xf32>
// CHECK: return %[[L]] : tensor<?x1x256xf32>
// CHECK: func.func @decode(%[[DTOK:.*]]: tensor<?x1xi32>, %[[DPOS:.*]]: tensor<?x1xi32>) -> tensor<?x1x256xf32> attributes {lathe.entry = "decode"}
// CHECK-DAG: tensor.cast %[[DTOK]] : tensor<?x1xi32> to tensor<?x?xi32>
// CHECK-DAG: tensor.cast %[[DPOS]] : tensor<?x1xi32> to tensor<?x?xi32>
// CHECK: lathe.mla {{.*}}kv_cache_layer = 0 : i64

// Without options: 8 rows, and the smaller of 4096 and max_position_embeddings.
// DEFAULT: lathe.limits = {max_batch = 8 : i64, max_seq_len = 2048 : i64}

module attributes {lathe.config = {hidden_size = 64 : i64, max_position_embeddings = 2048 : i64, num_hidden_layers = 1 : i64, vocab_size = 256 : i64}, lathe.model_type = "deepseek_v3"} {
  func.func @forward(%tokens: tensor<?x?xi32>, %positions: tensor<?x?xi32>) -> tensor<?x?x256xf32> {
    %embed = lathe.weight "model.embed_tokens.weight" in "model.safetensors" at 0 : tensor<256x64xbf16>
    %ln = lathe.weight "model.layers.0.input_layernorm.weight" in "model.safetensors" at 32768 : tensor<64xbf16>
    %wq = lathe.weight "model.layers.0.self_attn.q_proj.weight" in "model.safetensors" at 32896 : tensor<96x64xbf16>
    %kva = lathe.weight "model.layers.0.self_attn.kv_a_proj_with_mqa.weight" in "model.safetensors" at 45184 : tensor<40x64xbf16>
    %kvn = lathe.weight "model.layers.0.self_attn.kv_a_layernorm.weight" in "model.safetensors" at 50304 : tensor<32xbf16>
    %kvb = lathe.weight "model.layers.0.self_attn.kv_b_proj.weight" in "model.safetensors" at 50368 : tensor<128x32xbf16>
    %wo = lathe.weight "model.layers.0.self_attn.o_proj.weight" in "model.safetensors" at 58560 : tensor<64x64xbf16>
    %norm = lathe.weight "model.norm.weight" in "model.safetensors" at 66752 : tensor<64xbf16>
    %head = lathe.weight "lm_head.weight" in "model.safetensors" at 66880 : tensor<256x64xbf16>
    %h = lathe.embedding %tokens, %embed : tensor<?x?xi32>, tensor<256x64xbf16> -> tensor<?x?x64xf32>
    %x = lathe.rms_norm %h, %ln eps 1.0e-06 : tensor<?x?x64xf32>, tensor<64xbf16>
    %a = lathe.mla %x, %positions q(%wq) kv(%kva, %kvn, %kvb) out(%wo)
        {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64,
         qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2,
         rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>}
        : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<96x64xbf16>, tensor<40x64xbf16>,
           tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
    %y = lathe.add %h, %a : tensor<?x?x64xf32>
    %n = lathe.rms_norm %y, %norm eps 1.0e-06 : tensor<?x?x64xf32>, tensor<64xbf16>
    %logits = lathe.lm_head %n, %head : tensor<?x?x64xf32>, tensor<256x64xbf16> -> tensor<?x?x256xf32>
    return %logits : tensor<?x?x256xf32>
  }
}
