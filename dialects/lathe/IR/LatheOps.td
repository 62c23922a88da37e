//===- LatheOps.td - graph ops of DeepSeek-family models ----*- tablegen -*-===//
//
// Shapes follow the model: activations are `[batch, seq, ...]` float tensors
// (dynamic batch and seq), weights are statically shaped `[out, in]` tensors
// as stored in the checkpoint. Each verifier names the operand (and the
// checkpoint tensor behind it) whose shape or attribute is inconsistent.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_OPS_TD
#define LATHE_OPS_TD

include "dialects/lathe/IR/LatheBase.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

class Lathe_Op<string mnemonic, list<Trait> traits = []>
    : Op<Lathe_Dialect, mnemonic, traits>;

// Activations are computed in a float type; f32 unless a pass says otherwise.
def Lathe_Activation : RankedTensorOf<[F32, BF16, F16]>;
// Weights as checkpoints store them.
def Lathe_WeightTensor : RankedTensorOf<[F32, BF16, F16, F8E4M3FN, F8E5M2]>;
// A weight in the kernels phase, where entry functions pass buffers.
def Lathe_WeightMemRef : MemRefRankOf<[F32, BF16, F16, F8E4M3FN, F8E5M2], [1, 2, 3]>;
def Lathe_FloatWeight : RankedTensorOf<[F32, BF16, F16]>;
def Lathe_ScaleTensor : TensorRankOf<[F32], [2]>;
def Lathe_TokenTensor : RankedTensorOf<[I32, I64]>;

// Ops whose FP8 weights carry block scales: the scales are a variadic group
// holding one `[ceil(out/bo), ceil(in/bi)]` f32 tensor per e4m3/e5m2 weight,
// in operand order, and `block_size = [bo, bi]` says the block.
defvar BlockScaleArgs = (ins Variadic<Lathe_ScaleTensor>:$scales,
                             OptionalAttr<DenseI64ArrayAttr>:$block_size);

//===----------------------------------------------------------------------===//
// lathe.weight
//===----------------------------------------------------------------------===//

def Lathe_WeightOp : Lathe_Op<"weight", [Pure,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>]> {
  let summary = "a tensor stored in an external weights file";
  let description = [{
    Names one checkpoint tensor: its name, the file that holds it (relative
    to the checkpoint or bundle directory) and the byte offset of its data in
    that file. The result type gives dtype and shape: a tensor in the graph
    phases, a memref in the kernels phase. Weights never live in the IR. The printer names the result after the tensor
    (`model.layers.3.self_attn.kv_b_proj.weight` prints as `%l3_kv_b_proj`),
    so that imported models read like the checkpoint.

    ```mlir
    %w = lathe.weight "model.embed_tokens.weight" in "model.safetensors" at 128
        : tensor<1024x64xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$tensor_name, StrAttr:$file,
                       I64Attr:$offset);
  let results = (outs AnyTypeOf<[Lathe_WeightTensor, Lathe_WeightMemRef]>:$result);
  let assemblyFormat = [{
    $tensor_name `in` $file `at` $offset attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Bytes of data this tensor occupies in its file.
    int64_t getNumBytes();
    /// N of a decoder layer's tensor, `model.layers.N.*`.
    std::optional<int64_t> getLayer();
    ::mlir::ShapedType getShapedType() {
      return ::llvm::cast<::mlir::ShapedType>(getType());
    }
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise and normalization
//===----------------------------------------------------------------------===//

def Lathe_AddOp : Lathe_Op<"add", [Pure, Commutative, SameOperandsAndResultType,
                                   AllTypesMatch<["lhs", "rhs", "result"]>]> {
  let summary = "residual add";
  let description = [{
    Both operands and the result have one and the same type (not merely
    compatible shapes: the syntax writes the type once).

    ```mlir
    %y = lathe.add %x, %attn : tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Lathe_Activation:$lhs, Lathe_Activation:$rhs);
  let results = (outs Lathe_Activation:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Lathe_RMSNormOp : Lathe_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "root-mean-square norm over the last dim, times a weight";
  let description = [{
    `y = x / sqrt(mean(x^2, -1) + eps) * weight`, computed in f32.

    ```mlir
    %y = lathe.rms_norm %x, %w eps 1.0e-06 : tensor<?x?x64xf32>, tensor<64xbf16>
    ```
  }];
  let arguments = (ins Lathe_Activation:$input, TensorRankOf<[F32, BF16, F16], [1]>:$weight,
                       F64Attr:$eps);
  let results = (outs Lathe_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight `eps` $eps attr-dict `:` type($input) `,` type($weight)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Embedding, linear, LM head
//===----------------------------------------------------------------------===//

def Lathe_EmbeddingOp : Lathe_Op<"embedding", [Pure]> {
  let summary = "gathers rows of an embedding table by token id";
  let description = [{
    `y[b, s, :] = table[tokens[b, s], :]`, converted to the result's type.

    ```mlir
    %h = lathe.embedding %tokens, %table
        : tensor<?x?xi32>, tensor<1024x64xbf16> -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Lathe_TokenTensor:$tokens,
                       TensorRankOf<[F32, BF16, F16], [2]>:$table);
  let results = (outs Lathe_Activation:$result);
  let assemblyFormat = [{
    $tokens `,` $table attr-dict `:` type($tokens) `,` type($table) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$tokens, "::mlir::Value":$table),
      [{ build($_builder, $_state, inferResultType(tokens, table), tokens, table); }]>
  ];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// `tokens.shape + [table.dim(1)]` in f32.
    static ::mlir::RankedTensorType inferResultType(::mlir::Value tokens, ::mlir::Value table);
  }];
}

def Lathe_LinearOp : Lathe_Op<"linear", [Pure]> {
  let summary = "y = x · Wᵀ, with W optionally FP8 with 128×128 block scales";
  let description = [{
    `weight` is `[out, in]` as checkpoints store it; `input` is `[..., in]`
    and the result `[..., out]`. An e4m3/e5m2 weight carries a scale operand
    of shape `[ceil(out/bo), ceil(in/bi)]` and `block_size = [bo, bi]`; the
    dequantized weight is `code * scale` of its block.

    ```mlir
    %y = lathe.linear %x, %w : (tensor<?x?x64xf32>, tensor<128x64xbf16>) -> tensor<?x?x128xf32>
    %z = lathe.linear %x, %q scales(%s) {block_size = array<i64: 128, 128>}
        : (tensor<?x?x64xf32>, tensor<200x64xf8E4M3FN>, tensor<2x1xf32>) -> tensor<?x?x200xf32>
    ```
  }];
  let arguments = !con((ins Lathe_Activation:$input, Lathe_WeightTensor:$weight),
                       BlockScaleArgs);
  let results = (outs Lathe_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight (`scales` `(` $scales^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight),
      [{ build($_builder, $_state, inferResultType(input, weight), input, weight,
               ::mlir::ValueRange(), nullptr); }]>
  ];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// `input.shape[:-1] + [weight.dim(0)]` in the input's element type.
    static ::mlir::RankedTensorType inferResultType(::mlir::Value input, ::mlir::Value weight);
  }];
}

def Lathe_LMHeadOp : Lathe_Op<"lm_head", [Pure]> {
  let summary = "logits over the vocabulary";
  let description = [{
    `logits = x · Wᵀ` with `W` `[vocab, hidden]`; the weight stays in high
    precision (never FP8). Logits are f32.

    ```mlir
    %logits = lathe.lm_head %h, %w : tensor<?x?x64xf32>, tensor<1024x64xbf16> -> tensor<?x?x1024xf32>
    ```
  }];
  let arguments = (ins Lathe_Activation:$input, TensorRankOf<[F32, BF16, F16], [2]>:$weight);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight)>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

def Lathe_RopeOp : Lathe_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding on interleaved pairs of the last dim";
  let description = [{
    Rotates pairs `(2i, 2i+1)` of the last dim of `input` by
    `positions * freq_i` (see `#lathe.rope`). `input` is `[batch, seq, d]`
    or `[batch, seq, heads, d]`; `positions` is `[batch, seq]`.

    The attribute is written without its `#lathe.rope` prefix: after an SSA
    value, `#` would read as a result number (`%pos#0`).

    ```mlir
    %y = lathe.rope %q_pe, %pos <theta = 10000.0>
        : tensor<?x?x4x16xf32>, tensor<?x?xi32>
    ```
  }];
  let arguments = (ins Lathe_Activation:$input, Lathe_TokenTensor:$positions,
                       Lathe_RopeAttr:$rope);
  let results = (outs Lathe_Activation:$result);
  let assemblyFormat = [{
    $input `,` $positions $rope attr-dict `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// MLP, MLA, MoE
//===----------------------------------------------------------------------===//

def Lathe_MLPOp : Lathe_Op<"mlp", [Pure,
                                   AllTypesMatch<["input", "result"]>]> {
  let summary = "SwiGLU MLP: down(silu(gate(x)) * up(x))";
  let description = [{
    `gate` and `up` are `[inter, hidden]`, `down` is `[hidden, inter]`.

    ```mlir
    %y = lathe.mlp %h, %gate, %up, %down
        : (tensor<?x?x64xf32>, tensor<160x64xbf16>, tensor<160x64xbf16>, tensor<64x160xbf16>)
          -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = !con((ins Lathe_Activation:$input, Lathe_WeightTensor:$gate,
                            Lathe_WeightTensor:$up, Lathe_WeightTensor:$down),
                       BlockScaleArgs);
  let results = (outs Lathe_Activation:$result);
  let assemblyFormat = [{
    $input `,` $gate `,` $up `,` $down (`scales` `(` $scales^ `)`)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Lathe_MLAOp : Lathe_Op<"mla", [AttrSizedOperandSegments,
    ConditionallySpeculatable,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "multi-head latent attention, the whole block";
  let description = [{
    DeepSeek's attention on the normalized hidden state `input`
    (`[batch, seq, hidden]`), causal over the sequence, returning the output
    projection. Queries come from `q_proj`, or through the low-rank path
    `q_b_proj(rms_norm(q_a_proj(x)) * q_a_norm)` when `q_lora_rank` is set.
    `kv_a_proj` gives the latent `c_kv` (`kv_lora_rank`, normed by `kv_a_norm`)
    and one shared RoPE key head (`qk_rope_head_dim`); `kv_b_proj` holds W_UK
    and W_UV per head. `softmax_scale` is final (any YaRN factor included);
    `rope` rotates `q_pe` and `k_pe`.

    Without `kv_cache_layer` (the imported `@forward`), attention is causal
    over this op's own tokens. With `kv_cache_layer = L` (the `@prefill` and
    `@decode` entries), the op reads and writes layer L of the latent KV
    cache: each new token's normalized `c_kv` and roped `k_pe` are stored at
    its position in its batch row, and each token attends to every entry of
    its row at positions up to its own, whether this call or an earlier one
    wrote it. Rows may be at different positions.

    ```mlir
    %o = lathe.mla %h, %pos q(%wq) kv(%wkva, %kvnorm, %wkvb) out(%wo)
        {num_heads = 4 : i64, kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64,
         qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, softmax_scale = 0.2,
         rms_norm_eps = 1.0e-06, rope = #lathe.rope<theta = 10000.0>} : (...) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = !con((ins Lathe_Activation:$input, Lathe_TokenTensor:$positions,
      Optional<Lathe_WeightTensor>:$q_proj,
      Optional<Lathe_WeightTensor>:$q_a_proj,
      Optional<TensorRankOf<[F32, BF16, F16], [1]>>:$q_a_norm,
      Optional<Lathe_WeightTensor>:$q_b_proj,
      Lathe_WeightTensor:$kv_a_proj,
      TensorRankOf<[F32, BF16, F16], [1]>:$kv_a_norm,
      Lathe_WeightTensor:$kv_b_proj,
      Lathe_WeightTensor:$o_proj,
      I64Attr:$num_heads,
      OptionalAttr<I64Attr>:$q_lora_rank,
      I64Attr:$kv_lora_rank,
      I64Attr:$qk_nope_head_dim,
      I64Attr:$qk_rope_head_dim,
      I64Attr:$v_head_dim,
      F64Attr:$softmax_scale,
      F64Attr:$rms_norm_eps,
      Lathe_RopeAttr:$rope,
      OptionalAttr<I64Attr>:$kv_cache_layer), BlockScaleArgs);
  let results = (outs Lathe_Activation:$result);
  let assemblyFormat = [{
    $input `,` $positions
    (`q` `(` $q_proj^ `)`)?
    (`q_lora` `(` $q_a_proj^ `,` $q_a_norm `,` $q_b_proj `)`)?
    `kv` `(` $kv_a_proj `,` $kv_a_norm `,` $kv_b_proj `)`
    `out` `(` $o_proj `)`
    (`scales` `(` $scales^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Values cached per token for this layer: kv_lora_rank + qk_rope_head_dim.
    int64_t getLatentCacheWidth() {
      return getKvLoraRank() + getQkRopeHeadDim();
    }
    /// An op that writes the KV cache must not be speculated or reordered.
    ::mlir::Speculation::Speculatability getSpeculatability() {
      return getKvCacheLayer() ? ::mlir::Speculation::NotSpeculatable
                               : ::mlir::Speculation::Speculatable;
    }
  }];
}

def Lathe_MoEOp : Lathe_Op<"moe", [Pure, AttrSizedOperandSegments,
                                   AllTypesMatch<["input", "result"]>]> {
  let summary = "mixture of experts: router, routed experts, shared experts";
  let description = [{
    Router: `s = input · router_weightᵀ`, scored by `scoring`; selection adds
    `correction_bias` when present. With `n_group > 1`, each group scores the
    sum of its top-2 selection scores (the max without a bias) and only the
    `topk_group` best groups stay eligible. The `top_k` best experts are
    picked (lower index first on ties); their weights are the unbiased scores,
    divided by their sum if `norm_topk_prob`, times `routed_scaling_factor`.
    Output = Σ weight · expert(input) + shared(input), each expert and the
    shared block a SwiGLU MLP.

    ```mlir
    %y = lathe.moe %h scoring sigmoid router(%gate bias %b) experts gate [%g0, %g1] up [%u0, %u1] down [%d0, %d1]
        shared(%sg, %su, %sd)
        {top_k = 1 : i64, n_group = 1 : i64, topk_group = 1 : i64,
         norm_topk_prob = true, routed_scaling_factor = 2.5} : (...) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = !con((ins Lathe_Activation:$input,
      TensorRankOf<[F32, BF16, F16], [2]>:$router_weight,
      Optional<TensorRankOf<[F32, BF16, F16], [1]>>:$correction_bias,
      Variadic<Lathe_WeightTensor>:$expert_gate,
      Variadic<Lathe_WeightTensor>:$expert_up,
      Variadic<Lathe_WeightTensor>:$expert_down,
      Optional<Lathe_WeightTensor>:$shared_gate,
      Optional<Lathe_WeightTensor>:$shared_up,
      Optional<Lathe_WeightTensor>:$shared_down,
      Lathe_ScoringFunc:$scoring,
      I64Attr:$top_k,
      DefaultValuedAttr<I64Attr, "1">:$n_group,
      DefaultValuedAttr<I64Attr, "1">:$topk_group,
      DefaultValuedAttr<BoolAttr, "false">:$norm_topk_prob,
      DefaultValuedAttr<F64Attr, "1.0">:$routed_scaling_factor), BlockScaleArgs);
  let results = (outs Lathe_Activation:$result);
  let assemblyFormat = [{
    $input `scoring` $scoring `router` `(` $router_weight (`bias` $correction_bias^)? `)`
    `experts` `gate` `[` $expert_gate `]` `up` `[` $expert_up `]` `down` `[` $expert_down `]`
    (`shared` `(` $shared_gate^ `,` $shared_up `,` $shared_down `)`)?
    (`scales` `(` $scales^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumExperts() { return getExpertGate().size(); }
  }];
}

//===----------------------------------------------------------------------===//
// Fused MoE (lathe-fuse-moe-routing)
//===----------------------------------------------------------------------===//

def Lathe_MoERouterOp : Lathe_Op<"moe_router", [Pure]> {
  let summary = "MoE router: gate GEMM, scoring, group-limited top-k, weights";
  let description = [{
    The router of `lathe.moe` as one op: `s = input · router_weightᵀ`,
    scored by `scoring`; selection adds `correction_bias`; with
    `n_group > 1` only the `topk_group` best groups (by the sum of their
    top-2 selection scores, or their max without a bias) stay eligible; the
    `top_k` best experts are picked, lower index first on ties. `ids` holds
    them in order of selection; `weights` their unbiased scores, divided by
    their sum if `norm_topk_prob`, times `routed_scaling_factor`.

    ```mlir
    %ids, %weights = lathe.moe_router %h scoring sigmoid router(%gate bias %b)
        {top_k = 2 : i64, n_group = 2 : i64, topk_group = 1 : i64}
        : (tensor<?x?x64xf32>, tensor<4x64xbf16>, tensor<4xf32>)
          -> (tensor<?x?x2xi32>, tensor<?x?x2xf32>)
    ```
  }];
  let arguments = (ins Lathe_Activation:$input,
      TensorRankOf<[F32, BF16, F16], [2]>:$router_weight,
      Optional<TensorRankOf<[F32, BF16, F16], [1]>>:$correction_bias,
      Lathe_ScoringFunc:$scoring,
      I64Attr:$top_k,
      DefaultValuedAttr<I64Attr, "1">:$n_group,
      DefaultValuedAttr<I64Attr, "1">:$topk_group,
      DefaultValuedAttr<BoolAttr, "false">:$norm_topk_prob,
      DefaultValuedAttr<F64Attr, "1.0">:$routed_scaling_factor);
  let results = (outs RankedTensorOf<[I32]>:$ids, RankedTensorOf<[F32]>:$weights);
  let assemblyFormat = [{
    $input `scoring` $scoring `router` `(` $router_weight (`bias` $correction_bias^)? `)`
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumExperts() {
      return getRouterWeight().getType().getDimSize(0);
    }
  }];
}

def Lathe_MoEDispatchOp : Lathe_Op<"moe_dispatch", [Pure]> {
  let summary = "token-expert pairs grouped by expert";
  let description = [{
    Pair `p = token · top_k + j` is token `token`'s `j`-th choice `ids[p]`.
    `order` lists the pairs grouped by expert, in pair order within an
    expert; expert `e`'s segment is `order[offsets[e] : offsets[e + 1]]`.
    Each segment is padded to a multiple of `m_tile` entries (the grouped
    GEMM's row tile) with entries of -1; `m_tile = 1` pads nothing.

    ```mlir
    %offsets, %order = lathe.moe_dispatch %ids {num_experts = 4 : i64}
        : (tensor<?x?x2xi32>) -> (tensor<5xi32>, tensor<?xi32>)
    ```
  }];
  let arguments = (ins RankedTensorOf<[I32]>:$ids, I64Attr:$num_experts,
                       DefaultValuedAttr<I64Attr, "1">:$m_tile);
  let results = (outs TensorRankOf<[I32], [1]>:$offsets,
                      TensorRankOf<[I32], [1]>:$order);
  let assemblyFormat = [{
    $ids attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Lathe_MoEExpertsOp : Lathe_Op<"moe_experts", [Pure,
    AttrSizedOperandSegments, AllTypesMatch<["input", "result"]>]> {
  let summary = "routed experts as grouped GEMMs, scatter-added to token order";
  let description = [{
    For every pair `p` of `lathe.moe_dispatch`'s `order` (token `p / top_k`,
    expert `e` whose segment holds it), `result[token] += weights[p] ·
    down_e(silu(gate_e(x)) · up_e(x))` with `x = input[token]`; `result`
    starts as `accumulate` (the shared experts' output) or as zeros. Targets
    run it as one grouped GEMM for gate and up with SwiGLU in its epilogue
    and one for down with the routing weight and the scatter-add in its
    epilogue. `top_k` is the last dimension of `weights`.

    ```mlir
    %y = lathe.moe_experts %h routing(%weights, %offsets, %order)
        gate [%g0, %g1] up [%u0, %u1] down [%d0, %d1] accumulate(%shared)
        : (...) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = !con((ins Lathe_Activation:$input,
      RankedTensorOf<[F32]>:$weights,
      TensorRankOf<[I32], [1]>:$offsets,
      TensorRankOf<[I32], [1]>:$order,
      Variadic<Lathe_WeightTensor>:$expert_gate,
      Variadic<Lathe_WeightTensor>:$expert_up,
      Variadic<Lathe_WeightTensor>:$expert_down,
      Optional<Lathe_Activation>:$accumulate), BlockScaleArgs);
  let results = (outs Lathe_Activation:$result);
  let assemblyFormat = [{
    $input `routing` `(` $weights `,` $offsets `,` $order `)`
    `gate` `[` $expert_gate `]` `up` `[` $expert_up `]` `down` `[` $expert_down `]`
    (`accumulate` `(` $accumulate^ `)`)?
    (`scales` `(` $scales^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumExperts() { return getExpertGate().size(); }
  }];
}

include "dialects/lathe/IR/LatheKernelOps.td"

#endif // LATHE_OPS_TD
