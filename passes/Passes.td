//===- Passes.td - lathe's graph passes --------------------*- tablegen -*-===//
//
// Passes over the graph ops of the lathe dialect, from phase `input` to
// phase `optimized`. Each is runnable alone from lathe-opt.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_PASSES_TD
#define LATHE_PASSES_TD

include "mlir/Pass/PassBase.td"

def SpecializeEntries : Pass<"lathe-specialize-entries", "mlir::ModuleOp"> {
  let summary = "Turns @forward into the @prefill and @decode entries over "
                "the latent KV cache";
  let description = [{
    The imported `@forward(tokens, positions) -> logits [batch, seq, vocab]`
    attends only within one call. Serving needs two entries that keep state
    between calls:

    - `@prefill(tokens [batch, seq], positions)` and
      `@decode(tokens [batch, 1], positions)`, both returning the logits of
      each row's last position, `[batch, 1, vocab]` (the final norm and
      `lathe.lm_head` run on that position only);
    - every `lathe.mla` gets `kv_cache_layer = L`, its index in the layer
      order, so that it stores each new token's latent `c_kv` and `k_pe` at
      the token's position and attends to everything its row has cached.

    `@forward` is removed. The module records the cache's and the buffers'
    bounds as `lathe.limits = {max_batch, max_seq_len}`: `max-seq-len`
    defaults to the smaller of 4096 and the model's
    `max_position_embeddings`, and may not exceed the latter.
  }];
  let options = [
    Option<"maxBatch", "max-batch", "int64_t", "8",
           "Largest batch the entries accept">,
    Option<"maxSeqLen", "max-seq-len", "int64_t", "0",
           "Longest sequence (cached positions + new tokens) per row; 0 for "
           "min(4096, max_position_embeddings)">,
  ];
  let dependentDialects = ["mlir::tensor::TensorDialect"];
}

#endif // LATHE_PASSES_TD
