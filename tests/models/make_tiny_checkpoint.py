#!/usr/bin/python3
"""Writes a tiny Hugging Face DeepSeek-family checkpoint with random weights.

usage: make_tiny_checkpoint.py --flavour {v3,v2-lite,v3-fp8,bench-0.3b} [--seed N]
                               [--shards K] [--mtp-layers M] OUT_DIR

OUT_DIR gets config.json and either model.safetensors (K = 1) or K shards
model-0000i-of-0000K.safetensors with model.safetensors.index.json
(`weight_map`). Earlier model*.safetensors files and index there are removed
first, so that a directory never mixes two runs.

Flavours (dims in tests/models/README.md):
  v3       deepseek_v3: q_lora_rank, sigmoid scoring with
           e_score_correction_bias (noaux_tc), 4 expert groups of which 2 are
           kept, norm_topk_prob, routed_scaling_factor 2.5, YaRN RoPE
           (factor 40), first layer dense, 1 shared expert, bf16.
  v2-lite  deepseek_v2: q_proj (q_lora_rank null), softmax scoring, greedy
           top-k, no groups, no normalisation, routed_scaling_factor 1, plain
           RoPE, 2 shared experts, bf16.
  v3-fp8   v3 with quantization_config fp8 e4m3 [128, 128]: every attention,
           dense-MLP and expert projection is F8_E4M3 with an F32
           `weight_scale_inv`, with dims that leave partial 128-blocks in
           both directions. Embeddings, norms, router and lm_head stay bf16.
  bench-0.3b  not tiny: the ~0.3B-parameter DeepSeek-V3-shaped model of
           bench/cpu (hidden 1024, 8 layers, 64 experts top-6 in 8 groups
           of which 4 are kept, V3's MLA dims), bf16, no MTP layer;
           616 MB, about 15 s.

--seed N        (default 0) weights are a pure function of (seed, tensor
                name), so the same seed gives the same bytes on any machine.
--shards K      (default 1) split the tensors, in name order, over K files
                of roughly equal size.
--mtp-layers M  multi-token-prediction layers stored as
                model.layers.{num_hidden_layers + i}.* as real V3 checkpoints
                do (num_nextn_predict_layers = M). Default 1 for v3 and
                v3-fp8, 0 for v2-lite and bench-0.3b.

Weights: approximately normal (Irwin-Hall sum of 4 uniforms from PCG64 raw
output, rescaled to unit variance; only correctly rounded IEEE arithmetic, so
no libm differences) with std 1/sqrt(fan_in) for projections, router and
lm_head, std 1 for embeddings, 1 + 0.1 n for norms, 0.05 n for the
correction bias (F32, as in real V3). Nothing is printed except errors.
"""

import argparse
import json
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fp8  # noqa: E402
from safetensors_io import float32_to_bf16, write_safetensors  # noqa: E402

FLAVOURS = {
    "v3": dict(
        model_type="deepseek_v3", vocab_size=512, hidden_size=64,
        intermediate_size=128, moe_intermediate_size=32, num_hidden_layers=3,
        num_attention_heads=4, q_lora_rank=40, kv_lora_rank=32,
        qk_nope_head_dim=32, qk_rope_head_dim=16, v_head_dim=32,
        n_routed_experts=16, n_shared_experts=1, num_experts_per_tok=4,
        n_group=4, topk_group=2, topk_method="noaux_tc", scoring_func="sigmoid",
        norm_topk_prob=True, routed_scaling_factor=2.5, yarn=True, fp8=False,
        mtp_layers=1),
    "v2-lite": dict(
        model_type="deepseek_v2", vocab_size=384, hidden_size=80,
        intermediate_size=160, moe_intermediate_size=48, num_hidden_layers=3,
        num_attention_heads=4, q_lora_rank=None, kv_lora_rank=32,
        qk_nope_head_dim=32, qk_rope_head_dim=16, v_head_dim=32,
        n_routed_experts=12, n_shared_experts=2, num_experts_per_tok=3,
        n_group=1, topk_group=1, topk_method="greedy", scoring_func="softmax",
        norm_topk_prob=False, routed_scaling_factor=1.0, yarn=False, fp8=False,
        mtp_layers=0),
    "v3-fp8": dict(
        model_type="deepseek_v3", vocab_size=256, hidden_size=320,
        intermediate_size=200, moe_intermediate_size=96, num_hidden_layers=3,
        num_attention_heads=4, q_lora_rank=96, kv_lora_rank=144,
        qk_nope_head_dim=32, qk_rope_head_dim=16, v_head_dim=32,
        n_routed_experts=8, n_shared_experts=1, num_experts_per_tok=3,
        n_group=4, topk_group=2, topk_method="noaux_tc", scoring_func="sigmoid",
        norm_topk_prob=True, routed_scaling_factor=2.5, yarn=True, fp8=True,
        mtp_layers=1),
    # Not tiny: the ~0.3B-parameter model of bench/cpu (choices in README.md).
    "bench-0.3b": dict(
        model_type="deepseek_v3", vocab_size=16384, hidden_size=1024,
        intermediate_size=1120, moe_intermediate_size=160, num_hidden_layers=8,
        num_attention_heads=16, q_lora_rank=256, kv_lora_rank=512,
        qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128,
        n_routed_experts=64, n_shared_experts=1, num_experts_per_tok=6,
        n_group=8, topk_group=4, topk_method="noaux_tc", scoring_func="sigmoid",
        norm_topk_prob=True, routed_scaling_factor=2.5, yarn=True, fp8=False,
        mtp_layers=0),
}

FIRST_K_DENSE_REPLACE = 1
ORIGINAL_MAX_POSITION_EMBEDDINGS = 4096
YARN_FACTOR = 40


def make_config(flavour, mtp_layers):
    """config.json contents, with the fields (and the ignored extras) of a
    real checkpoint of that family."""
    f = FLAVOURS[flavour]
    v3 = f["model_type"] == "deepseek_v3"
    config = {
        "architectures": ["DeepseekV3ForCausalLM" if v3 else "DeepseekV2ForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 0,
        "eos_token_id": 1,
        "ep_size": 1,
        "first_k_dense_replace": FIRST_K_DENSE_REPLACE,
        "hidden_act": "silu",
        "hidden_size": f["hidden_size"],
        "initializer_range": 0.02,
        "intermediate_size": f["intermediate_size"],
        "kv_lora_rank": f["kv_lora_rank"],
        "max_position_embeddings":
            ORIGINAL_MAX_POSITION_EMBEDDINGS * (YARN_FACTOR if f["yarn"] else 1),
        "model_type": f["model_type"],
        "moe_intermediate_size": f["moe_intermediate_size"],
        "moe_layer_freq": 1,
        "n_group": f["n_group"],
        "n_routed_experts": f["n_routed_experts"],
        "n_shared_experts": f["n_shared_experts"],
        "norm_topk_prob": f["norm_topk_prob"],
        "num_attention_heads": f["num_attention_heads"],
        "num_experts_per_tok": f["num_experts_per_tok"],
        "num_hidden_layers": f["num_hidden_layers"],
        "num_key_value_heads": f["num_attention_heads"],
        "pretraining_tp": 1,
        "q_lora_rank": f["q_lora_rank"],
        "qk_nope_head_dim": f["qk_nope_head_dim"],
        "qk_rope_head_dim": f["qk_rope_head_dim"],
        "rms_norm_eps": 1e-06,
        "rope_scaling": None,
        "rope_theta": 10000,
        "routed_scaling_factor": f["routed_scaling_factor"],
        "scoring_func": f["scoring_func"],
        "tie_word_embeddings": False,
        "topk_group": f["topk_group"],
        "topk_method": f["topk_method"],
        "torch_dtype": "bfloat16",
        "use_cache": True,
        "v_head_dim": f["v_head_dim"],
        "vocab_size": f["vocab_size"],
    }
    if not v3:
        config["aux_loss_alpha"] = 0.001
        config["seq_aux"] = True
    if v3 or mtp_layers:
        config["num_nextn_predict_layers"] = mtp_layers
    if f["yarn"]:
        config["rope_scaling"] = {
            "beta_fast": 32,
            "beta_slow": 1,
            "factor": YARN_FACTOR,
            "mscale": 1.0,
            "mscale_all_dim": 1.0,
            "original_max_position_embeddings": ORIGINAL_MAX_POSITION_EMBEDDINGS,
            "type": "yarn",
        }
    if f["fp8"]:
        config["quantization_config"] = {
            "activation_scheme": "dynamic",
            "fmt": "e4m3",
            "quant_method": "fp8",
            "weight_block_size": [fp8.BLOCK, fp8.BLOCK],
        }
    return config


def layout(config):
    """{name: (kind, shape)} of every tensor a checkpoint of `config` holds.
    kind: embed, head, norm, proj (quantized under FP8), router, bias,
    eh_proj (the MTP projection, bf16 even in FP8 checkpoints)."""
    hidden, vocab = config["hidden_size"], config["vocab_size"]
    heads, kv = config["num_attention_heads"], config["kv_lora_rank"]
    nope, rope, v = (config["qk_nope_head_dim"], config["qk_rope_head_dim"],
                     config["v_head_dim"])
    q_rank = config["q_lora_rank"]
    experts, moe_inter = config["n_routed_experts"], config["moe_intermediate_size"]
    shared = config["n_shared_experts"] * moe_inter
    layers = config["num_hidden_layers"]
    mtp = config.get("num_nextn_predict_layers", 0)

    t = {"model.embed_tokens.weight": ("embed", [vocab, hidden]),
         "model.norm.weight": ("norm", [hidden]),
         "lm_head.weight": ("head", [vocab, hidden])}

    def mlp(prefix, inter):
        t[prefix + "gate_proj.weight"] = ("proj", [inter, hidden])
        t[prefix + "up_proj.weight"] = ("proj", [inter, hidden])
        t[prefix + "down_proj.weight"] = ("proj", [hidden, inter])

    for layer in range(layers + mtp):
        p = f"model.layers.{layer}."
        t[p + "input_layernorm.weight"] = ("norm", [hidden])
        t[p + "post_attention_layernorm.weight"] = ("norm", [hidden])
        a = p + "self_attn."
        if q_rank is None:
            t[a + "q_proj.weight"] = ("proj", [heads * (nope + rope), hidden])
        else:
            t[a + "q_a_proj.weight"] = ("proj", [q_rank, hidden])
            t[a + "q_a_layernorm.weight"] = ("norm", [q_rank])
            t[a + "q_b_proj.weight"] = ("proj", [heads * (nope + rope), q_rank])
        t[a + "kv_a_proj_with_mqa.weight"] = ("proj", [kv + rope, hidden])
        t[a + "kv_a_layernorm.weight"] = ("norm", [kv])
        t[a + "kv_b_proj.weight"] = ("proj", [heads * (nope + v), kv])
        t[a + "o_proj.weight"] = ("proj", [hidden, heads * v])
        if layer < config["first_k_dense_replace"] or layer % config["moe_layer_freq"]:
            mlp(p + "mlp.", config["intermediate_size"])
        else:
            t[p + "mlp.gate.weight"] = ("router", [experts, hidden])
            if config["topk_method"] == "noaux_tc":
                t[p + "mlp.gate.e_score_correction_bias"] = ("bias", [experts])
            for e in range(experts):
                mlp(f"{p}mlp.experts.{e}.", moe_inter)
            if shared:
                mlp(p + "mlp.shared_experts.", shared)
        if layer >= layers:
            # The MTP module's own tensors; embed_tokens and shared_head.head
            # duplicate the main model's, as in DeepSeek-V3's release.
            t[p + "embed_tokens.weight"] = ("embed", [vocab, hidden])
            t[p + "enorm.weight"] = ("norm", [hidden])
            t[p + "hnorm.weight"] = ("norm", [hidden])
            t[p + "eh_proj.weight"] = ("eh_proj", [hidden, 2 * hidden])
            t[p + "shared_head.norm.weight"] = ("norm", [hidden])
            t[p + "shared_head.head.weight"] = ("head", [vocab, hidden])
    return t


SQRT3 = 1.7320508075688772


# Elements generated per step of standard_normal: small enough for the
# temporaries to stay in cache, large enough to amortise numpy's overhead.
_CHUNK = 1 << 15


def standard_normal(seed, name, shape):
    """Approximately N(0, 1) float64 values, a pure function of (seed, name):
    (u1 + u2 + u3 + u4 - 2) * sqrt(3) with u uniform in [0, 1) on 53 bits
    from PCG64's raw output.

    With n elements, element i takes raw outputs i, n + i, 2n + i and 3n + i
    of PCG64 seeded with SeedSequence([seed, crc32(name)]) (numpy's
    default_rng of that list): u_k = (raw[k n + i] >> 11) * 2^-53. Four copies
    of the generator, advanced to 0, n, 2n, 3n, walk the four streams in
    chunks, which gives the same bits as drawing all 4n at once and is an
    order of magnitude faster on large tensors (every operation is
    elementwise and exact or correctly rounded in the same order)."""
    n = int(np.prod(shape, dtype=np.int64))
    seq = np.random.SeedSequence([seed, zlib.crc32(name.encode("utf-8"))])
    streams = []
    for k in range(4):
        stream = np.random.PCG64(seq)
        stream.advance(k * n)
        streams.append(stream)
    out = np.empty(n, dtype=np.float64)
    shift = np.uint64(11)
    for begin in range(0, n, _CHUNK):
        count = min(_CHUNK, n - begin)
        # raw >> 11 < 2^53: exact through int64 to float64 (numpy converts
        # int64 much faster than uint64).
        u = [(s.random_raw(count) >> shift).view(np.int64).astype(np.float64)
             for s in streams]
        for x in u:
            x *= 2.0 ** -53
        z = u[0]
        z += u[1]
        z += u[2]
        z += u[3]
        z -= 2.0
        z *= SQRT3
        out[begin:begin + count] = z
    return out.reshape(shape)


def source_name(name):
    """The tensor whose values `name` copies (MTP duplicates), else itself."""
    if name.endswith(".embed_tokens.weight"):
        return "model.embed_tokens.weight"
    if name.endswith(".shared_head.head.weight"):
        return "lm_head.weight"
    return name


def original_value(seed, name, kind, shape):
    """float32 values of a tensor before storage rounding (bf16 or FP8)."""
    z = standard_normal(seed, source_name(name), shape)
    if kind == "embed":
        w = z
    elif kind == "norm":
        w = 1.0 + 0.1 * z
    elif kind == "bias":
        w = 0.05 * z
    else:  # proj, router, head, eh_proj
        w = z / np.sqrt(float(shape[1]))
    return w.astype(np.float32)


def build(flavour, seed, mtp_layers=None):
    """(config, {name: (dtype, raw ndarray)}, {name: float32 original of each
    FP8 weight}) of a checkpoint."""
    if mtp_layers is None:
        mtp_layers = FLAVOURS[flavour]["mtp_layers"]
    config = make_config(flavour, mtp_layers)
    quantize = "quantization_config" in config
    tensors, originals = {}, {}
    for name, (kind, shape) in sorted(layout(config).items()):
        w = original_value(seed, name, kind, shape)
        if kind == "bias":
            tensors[name] = ("F32", w)
        elif kind == "proj" and quantize:
            codes, scale = fp8.quantize_blocks(w)
            tensors[name] = ("F8_E4M3", codes)
            tensors[name + "_scale_inv"] = ("F32", scale)
            originals[name] = w
        else:
            tensors[name] = ("BF16", float32_to_bf16(w))
    return config, tensors, originals


def nbytes(value):
    return value[1].nbytes


def shard_names(total):
    if total == 1:
        return ["model.safetensors"]
    return [f"model-{i + 1:05d}-of-{total:05d}.safetensors" for i in range(total)]


def split(tensors, shards):
    """Tensors in name order over `shards` contiguous, non-empty groups of
    about equal byte size."""
    names = sorted(tensors)
    if shards > len(names):
        raise ValueError(f"--shards {shards} exceeds the {len(names)} tensors")
    total = sum(nbytes(tensors[n]) for n in names)
    groups, acc = [[]], 0
    for i, name in enumerate(names):
        groups_left = shards - len(groups)
        if groups[-1] and groups_left and (acc * shards >= total * len(groups) or
                                           len(names) - i == groups_left):
            groups.append([])
        groups[-1].append(name)
        acc += nbytes(tensors[name])
    return groups


def write_checkpoint(out_dir, flavour, seed=0, shards=1, mtp_layers=None):
    config, tensors, _ = build(flavour, seed, mtp_layers)
    groups = split(tensors, shards)
    os.makedirs(out_dir, exist_ok=True)
    for old in os.listdir(out_dir):
        if old == "model.safetensors.index.json" or (
                old.startswith("model") and old.endswith(".safetensors")):
            os.remove(os.path.join(out_dir, old))
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")
    metadata = {"format": "pt", "lathe_flavour": flavour, "lathe_seed": str(seed)}
    files = shard_names(shards)
    weight_map = {}
    for file, group in zip(files, groups):
        write_safetensors(os.path.join(out_dir, file),
                          {n: tensors[n] for n in group}, metadata)
        weight_map.update({n: file for n in group})
    if shards > 1:
        index = {"metadata": {"total_size": sum(nbytes(v) for v in tensors.values())},
                 "weight_map": dict(sorted(weight_map.items()))}
        with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
            f.write(json.dumps(index, indent=2) + "\n")


def main(argv):
    parser = argparse.ArgumentParser(
        prog="make_tiny_checkpoint.py",
        description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flavour", required=True, choices=sorted(FLAVOURS),
                        help="model family and storage (see above)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="default 0")
    parser.add_argument("--shards", type=int, default=1, metavar="K", help="default 1")
    parser.add_argument("--mtp-layers", type=int, default=None, metavar="M",
                        help="default 1 for v3 and v3-fp8, 0 for v2-lite and bench-0.3b")
    parser.add_argument("out_dir", metavar="OUT_DIR", help="created if missing")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    if args.shards < 1:
        parser.error("--shards must be >= 1")
    if args.mtp_layers is not None and args.mtp_layers < 0:
        parser.error("--mtp-layers must be >= 0")
    try:
        write_checkpoint(args.out_dir, args.flavour, args.seed, args.shards, args.mtp_layers)
    except (OSError, ValueError) as e:
        print(f"make_tiny_checkpoint.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
