#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into corpus/<target>/.

The seeds are checked in; run this again only to change them. Each seed is
small: valid files of every shape the parsers accept and one of each kind of
broken file, so that the fuzzers start next to every check.
"""

import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def safetensors(header, data=b"", header_length=None, pad=0):
    text = (json.dumps(header, separators=(",", ":")) if not isinstance(header, (str, bytes))
            else header)
    if isinstance(text, str):
        text = text.encode("utf-8")
    text += b" " * pad
    length = len(text) if header_length is None else header_length
    return struct.pack("<Q", length) + text + data


def tensor(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def safetensors_seeds():
    t = "safetensors"
    write(t, "valid-one.safetensors",
          safetensors({"w": tensor("BF16", [2, 2], 0, 8)}, bytes(range(8))))
    multi = {
        "__metadata__": {"format": "pt"},
        "model.embed_tokens.weight": tensor("BF16", [4, 2], 0, 16),
        "model.layers.0.self_attn.kv_a_proj_with_mqa.weight": tensor("F8_E4M3", [3, 4], 16, 28),
        "model.layers.0.self_attn.kv_a_proj_with_mqa.weight_scale_inv": tensor("F32", [1, 1], 28, 32),
        "ids": tensor("I64", [2], 32, 48),
        "empty": tensor("F16", [0, 5], 48, 48),
        "scalar": tensor("F64", [], 48, 56),
        "flags": tensor("BOOL", [3], 56, 59),
        "e5": tensor("F8_E5M2", [1], 59, 60),
    }
    write(t, "valid-multi.safetensors", safetensors(multi, bytes(60)))
    write(t, "valid-padded.safetensors",
          safetensors({"a": tensor("U16", [2], 0, 4)}, bytes(4), pad=7))
    write(t, "valid-empty.safetensors", safetensors({}))
    write(t, "truncated-data.safetensors",
          safetensors({"w": tensor("BF16", [2, 2], 0, 8)}, bytes(5)))
    write(t, "overlap.safetensors",
          safetensors({"a": tensor("U8", [8], 0, 8), "b": tensor("U8", [4], 4, 8)}, bytes(8)))
    write(t, "span-mismatch.safetensors",
          safetensors({"w": tensor("BF16", [2, 2], 0, 6)}, bytes(8)))
    write(t, "unknown-dtype.safetensors",
          safetensors({"w": tensor("F9", [2], 0, 2)}, bytes(2)))
    write(t, "shape-overflow.safetensors",
          safetensors({"w": tensor("U8", [4294967296, 4294967296], 0, 0)}))
    write(t, "bad-metadata.safetensors", safetensors({"__metadata__": {"n": 1}}))
    write(t, "header-too-long.safetensors",
          safetensors({"w": tensor("U8", [1], 0, 1)}, b"\0", header_length=1 << 40))
    write(t, "short-file.safetensors", b"\x02\0\0\0\0")
    write(t, "duplicate.safetensors",
          safetensors('{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                      '"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\0"))

    # The bare JSON of a header: the fuzzer also reads each input as one,
    # with 256 bytes of data behind it.
    write(t, "header-multi.json", json.dumps(multi))
    write(t, "header-edges.json", json.dumps({
        "a": tensor("I32", [2, 0, 3], 256, 256),
        "b": tensor("U64", [32], 0, 256),
    }))

    write(t, "index.json", json.dumps({
        "metadata": {"total_size": 688586727753},
        "weight_map": {
            "lm_head.weight": "model-00163-of-000163.safetensors",
            "model.embed_tokens.weight": "model-00001-of-000163.safetensors",
            "model.layers.0.mlp.down_proj.weight": "model-00001-of-000163.safetensors",
        },
    }, indent=2))
    write(t, "index-traversal.json", '{"weight_map": {"w": "../x.safetensors"}}')

    write(t, "json-strings.json",
          r'["plain", "esc \" \\ \/ \b \f \n \r \t", "\u00e9\u20ac", "\ud83d\ude00", '
          '"raw \u00e9\u20ac\U0001F600"]')
    write(t, "json-numbers.json",
          "[0, -0, 1, -1, 9223372036854775807, -9223372036854775808, "
          "9223372036854775808, 1.5, -2.5e-3, 1E+10, 1e-400, 123456789012345678901234567890]")
    write(t, "json-nested.json", '{"a": {"b": [[], {}, [null, true, false]]}, "c": ""}')


V3 = {
    "architectures": ["DeepseekV3ForCausalLM"],
    "attention_bias": False,
    "bos_token_id": 0,
    "eos_token_id": 1,
    "ep_size": 1,
    "first_k_dense_replace": 3,
    "hidden_act": "silu",
    "hidden_size": 7168,
    "intermediate_size": 18432,
    "kv_lora_rank": 512,
    "max_position_embeddings": 163840,
    "model_type": "deepseek_v3",
    "moe_intermediate_size": 2048,
    "moe_layer_freq": 1,
    "n_group": 8,
    "n_routed_experts": 256,
    "n_shared_experts": 1,
    "norm_topk_prob": True,
    "num_attention_heads": 128,
    "num_experts_per_tok": 8,
    "num_hidden_layers": 61,
    "num_key_value_heads": 128,
    "num_nextn_predict_layers": 1,
    "q_lora_rank": 1536,
    "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64,
    "quantization_config": {
        "activation_scheme": "dynamic",
        "fmt": "e4m3",
        "quant_method": "fp8",
        "weight_block_size": [128, 128],
    },
    "rms_norm_eps": 1e-06,
    "rope_scaling": {
        "beta_fast": 32,
        "beta_slow": 1,
        "factor": 40,
        "mscale": 1.0,
        "mscale_all_dim": 1.0,
        "original_max_position_embeddings": 4096,
        "type": "yarn",
    },
    "rope_theta": 10000,
    "routed_scaling_factor": 2.5,
    "scoring_func": "sigmoid",
    "tie_word_embeddings": False,
    "topk_group": 4,
    "topk_method": "noaux_tc",
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "v_head_dim": 128,
    "vocab_size": 129280,
}

V2_LITE = {
    "architectures": ["DeepseekV2ForCausalLM"],
    "attention_bias": False,
    "aux_loss_alpha": 0.001,
    "bos_token_id": 100000,
    "eos_token_id": 100001,
    "first_k_dense_replace": 1,
    "hidden_act": "silu",
    "hidden_size": 2048,
    "intermediate_size": 10944,
    "kv_lora_rank": 512,
    "max_position_embeddings": 163840,
    "model_type": "deepseek_v2",
    "moe_intermediate_size": 1408,
    "moe_layer_freq": 1,
    "n_group": 1,
    "n_routed_experts": 64,
    "n_shared_experts": 2,
    "norm_topk_prob": False,
    "num_attention_heads": 16,
    "num_experts_per_tok": 6,
    "num_hidden_layers": 27,
    "num_key_value_heads": 16,
    "q_lora_rank": None,
    "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64,
    "rms_norm_eps": 1e-06,
    "rope_scaling": {
        "beta_fast": 32,
        "beta_slow": 1,
        "factor": 40,
        "mscale": 0.707,
        "mscale_all_dim": 0.707,
        "original_max_position_embeddings": 4096,
        "type": "yarn",
    },
    "rope_theta": 10000,
    "routed_scaling_factor": 1.0,
    "scoring_func": "softmax",
    "seq_aux": True,
    "tie_word_embeddings": False,
    "topk_group": 1,
    "topk_method": "greedy",
    "torch_dtype": "bfloat16",
    "v_head_dim": 128,
    "vocab_size": 102400,
}


def hf_config_seeds():
    t = "hf-config"
    write(t, "deepseek-v3.json", json.dumps(V3, indent=2))
    write(t, "deepseek-v2-lite.json", json.dumps(V2_LITE, indent=2))
    tiny = dict(V3, hidden_size=64, intermediate_size=128, num_hidden_layers=3,
                num_attention_heads=4, q_lora_rank=32, kv_lora_rank=16,
                qk_nope_head_dim=8, qk_rope_head_dim=4, v_head_dim=8,
                moe_intermediate_size=32, n_routed_experts=8, n_group=2,
                topk_group=1, num_experts_per_tok=2, first_k_dense_replace=1,
                vocab_size=256, max_position_embeddings=512)
    write(t, "tiny-v3.json", json.dumps(tiny))
    dense = {k: v for k, v in V2_LITE.items()
             if k not in ("n_routed_experts", "rope_scaling")}
    write(t, "dense.json", json.dumps(dense))
    write(t, "bad-model-type.json", json.dumps(dict(V2_LITE, model_type="llama")))
    write(t, "bad-groups.json", json.dumps(dict(V3, n_group=7)))
    write(t, "bad-rope.json", json.dumps(dict(V3, rope_scaling={"type": "linear", "factor": 2})))
    write(t, "bad-quant.json",
          json.dumps(dict(V3, quantization_config={"quant_method": "fp8",
                                                   "weight_block_size": [128]})))
    write(t, "not-json.json", json.dumps(V3)[:200])


if __name__ == "__main__":
    safetensors_seeds()
    hf_config_seeds()
