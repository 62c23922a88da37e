// An optimized-phase entry holding a standalone lathe.rope, which the kernel
// lowering has no kernel for (RoPE runs inside lathe.mla's kernels).
module attributes {lathe.config = {hidden_size = 8 : i64, max_position_embeddings = 64 : i64, num_hidden_layers = 0 : i64, vocab_size = 16 : i64}, lathe.limits = {max_batch = 1 : i64, max_seq_len = 64 : i64}, lathe.model_type = "deepseek_v3"} {
  func.func @prefill(%tokens: tensor<?x?xi32>, %positions: tensor<?x?xi32>) -> tensor<?x1x16xf32> attributes {lathe.entry = "prefill"} {
    %embed = lathe.weight "model.embed_tokens.weight" in "model.safetensors" at 0 : tensor<16x8xbf16>
    %head = lathe.weight "lm_head.weight" in "model.safetensors" at 256 : tensor<16x8xbf16>
    %h = lathe.embedding %tokens, %embed : tensor<?x?xi32>, tensor<16x8xbf16> -> tensor<?x?x8xf32>
    %r = lathe.rope %h, %positions <theta = 10000.0> : tensor<?x?x8xf32>, tensor<?x?xi32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %b = tensor.dim %r, %c0 : tensor<?x?x8xf32>
    %s = tensor.dim %r, %c1 : tensor<?x?x8xf32>
    %last = arith.subi %s, %c1 : index
    %row = tensor.extract_slice %r[0, %last, 0] [%b, 1, 8] [1, 1, 1] : tensor<?x?x8xf32> to tensor<?x1x8xf32>
    %logits = lathe.lm_head %row, %head : tensor<?x1x8xf32>, tensor<16x8xbf16> -> tensor<?x1x16xf32>
    return %logits : tensor<?x1x16xf32>
  }
}
