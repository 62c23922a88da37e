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

def FuseMoERouting : Pass<"lathe-fuse-moe-routing"> {
  let summary = "Rewrites lathe.moe into a fused router, a dispatch and "
                "grouped expert GEMMs";
  let description = [{
    Every `lathe.moe` becomes

    - `lathe.moe_router`: the gate GEMM, scoring (softmax or sigmoid), the
      correction bias, the group-limited top-k, the gather of the unbiased
      scores, renormalization and `routed_scaling_factor` in one op, giving
      each token's expert ids and weights;
    - `lathe.moe_dispatch`: the token-expert pairs grouped by expert, each
      expert's segment padded to `m-tile` rows;
    - the shared experts, when the model has them, as a `lathe.mlp` beside
      the routed ones;
    - `lathe.moe_experts`: the routed experts as two grouped GEMMs (gate and
      up with SwiGLU in the epilogue; down with the routing weight and the
      scatter-add back to token order in the epilogue), accumulating into
      the shared experts' output.

    The shared experts run beside the grouped GEMM, not inside it as an
    always-selected expert of weight 1, by measurement: on bench-0.3b's
    shapes (128 tokens, 6 of 64 experts, width 160, hidden 1024; one
    thread of the CPU target, lathe-kernel-bench, docs/performance.md)
    beside took 20.0 ms (gate/up) + 12.7 ms (down), inside 20.5 + 13.4 ms:
    the same micro-kernels over the same rows, but beside the dense GEMM
    splits the tokens over workgroups where inside one workgroup per column
    tile takes all of them. Beside, the shared experts' output is the down
    GEMM's starting value, so the routed results are added to it with no
    separate combine.

    Numerics are those of `lathe.moe`; a token's routed terms are summed in
    expert order instead of selection order.
  }];
  let options = [
    Option<"mTile", "m-tile", "int64_t", "1",
           "Rows each expert's segment is padded to a multiple of (the "
           "grouped GEMM's row tile; the CPU target's takes any count)">,
  ];
}

#endif // LATHE_PASSES_TD
