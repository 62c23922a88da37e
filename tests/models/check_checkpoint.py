#!/usr/bin/python3
"""Checks a checkpoint written by make_tiny_checkpoint.py: the test of the
generator itself.

usage: check_checkpoint.py [--flavour F --seed N] CKPT_DIR

Reads config.json and every tensor (through the index when there is one),
then checks, exiting 1 on the first class of mismatch:
  - file structure: header padded to 8 bytes, tensors contiguous and aligned
    to their element size, the index's weight_map and total_size agreeing
    with the shards;
  - the tensor set, shapes and dtypes implied by config.json (derived here
    independently of the generator): every projection F8_E4M3 with an F32
    `weight_scale_inv` of shape [ceil(out/128), ceil(in/128)] under
    quantization_config, bf16 otherwise; F32 e_score_correction_bias;
  - values: regenerated from (flavour, seed) -- read from the files'
    __metadata__ unless given -- every stored byte must match; FP8 weights
    dequantized with their block scales must lie within half an e4m3 quantum
    of the float32 originals, and the largest error is reported.
Prints one summary line on success.
"""

import argparse
import glob
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fp8  # noqa: E402
import make_tiny_checkpoint  # noqa: E402
from safetensors_io import (STORAGE, SafetensorsError, bf16_to_float32,  # noqa: E402
                            read_header, read_safetensors)


class Mismatch(Exception):
    pass


def expect(cond, message):
    if not cond:
        raise Mismatch(message)


def expected_tensors(config):
    """{name: (dtype, shape)} that config.json implies."""
    c = config
    h, vocab, heads = c["hidden_size"], c["vocab_size"], c["num_attention_heads"]
    qk, v = c["qk_nope_head_dim"] + c["qk_rope_head_dim"], c["v_head_dim"]
    fp8_block = None
    if c.get("quantization_config"):
        fp8_block = c["quantization_config"]["weight_block_size"]
    out = {}

    def plain(name, shape, dtype="BF16"):
        out[name] = (dtype, shape)

    def proj(name, rows, cols):
        if fp8_block:
            out[name] = ("F8_E4M3", [rows, cols])
            out[name + "_scale_inv"] = ("F32", [-(-rows // fp8_block[0]), -(-cols // fp8_block[1])])
        else:
            out[name] = ("BF16", [rows, cols])

    def swiglu(prefix, width):
        proj(prefix + "gate_proj.weight", width, h)
        proj(prefix + "up_proj.weight", width, h)
        proj(prefix + "down_proj.weight", h, width)

    plain("model.embed_tokens.weight", [vocab, h])
    plain("model.norm.weight", [h])
    plain("lm_head.weight", [vocab, h])
    n = c["num_hidden_layers"]
    for i in range(n + c.get("num_nextn_predict_layers", 0)):
        p = f"model.layers.{i}."
        plain(p + "input_layernorm.weight", [h])
        plain(p + "post_attention_layernorm.weight", [h])
        if c["q_lora_rank"] is None:
            proj(p + "self_attn.q_proj.weight", heads * qk, h)
        else:
            proj(p + "self_attn.q_a_proj.weight", c["q_lora_rank"], h)
            plain(p + "self_attn.q_a_layernorm.weight", [c["q_lora_rank"]])
            proj(p + "self_attn.q_b_proj.weight", heads * qk, c["q_lora_rank"])
        proj(p + "self_attn.kv_a_proj_with_mqa.weight",
             c["kv_lora_rank"] + c["qk_rope_head_dim"], h)
        plain(p + "self_attn.kv_a_layernorm.weight", [c["kv_lora_rank"]])
        proj(p + "self_attn.kv_b_proj.weight", heads * (c["qk_nope_head_dim"] + v),
             c["kv_lora_rank"])
        proj(p + "self_attn.o_proj.weight", h, heads * v)
        moe = (c.get("n_routed_experts") and i >= c["first_k_dense_replace"]
               and i % c["moe_layer_freq"] == 0)
        if not moe:
            swiglu(p + "mlp.", c["intermediate_size"])
        else:
            plain(p + "mlp.gate.weight", [c["n_routed_experts"], h])
            if c["topk_method"] == "noaux_tc":
                plain(p + "mlp.gate.e_score_correction_bias", [c["n_routed_experts"]], "F32")
            for e in range(c["n_routed_experts"]):
                swiglu(f"{p}mlp.experts.{e}.", c["moe_intermediate_size"])
            if c["n_shared_experts"]:
                swiglu(p + "mlp.shared_experts.",
                       c["n_shared_experts"] * c["moe_intermediate_size"])
        if i >= n:
            plain(p + "embed_tokens.weight", [vocab, h])
            plain(p + "enorm.weight", [h])
            plain(p + "hnorm.weight", [h])
            plain(p + "eh_proj.weight", [h, 2 * h])
            plain(p + "shared_head.norm.weight", [h])
            plain(p + "shared_head.head.weight", [vocab, h])
    return out


def weight_files(ckpt):
    """(files, weight_map or None)."""
    index_path = os.path.join(ckpt, "model.safetensors.index.json")
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
        weight_map = index["weight_map"]
        return sorted(set(weight_map.values())), index
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ckpt, "*.safetensors")))
    return files, None


def read_all(ckpt):
    files, index = weight_files(ckpt)
    expect(files, f"{ckpt}: no weight files")
    tensors, where, metadata = {}, {}, None
    for file in files:
        path = os.path.join(ckpt, file)
        header, n, _ = read_header(path)
        expect(n % 8 == 0, f"{file}: header length {n} is not a multiple of 8")
        with open(path, "rb") as f:
            expect(struct.unpack("<Q", f.read(8))[0] == n, f"{file}: header length")
        for name, info in header.items():
            if name != "__metadata__":
                begin = info["data_offsets"][0]
                expect((8 + n + begin) % STORAGE[info["dtype"]].itemsize == 0,
                       f"{file}: tensor '{name}' is not aligned to its element size")
        meta, file_tensors = read_safetensors(path)
        expect(metadata is None or meta == metadata, f"{file}: __metadata__ differs between shards")
        metadata = meta
        for name, value in file_tensors.items():
            expect(name not in tensors, f"tensor '{name}' is in {where.get(name)} and {file}")
            tensors[name], where[name] = value, file
    if index is not None:
        expect(index["weight_map"] == where, "index weight_map disagrees with the shards")
        expect(index["metadata"]["total_size"] == sum(a.nbytes for _, a in tensors.values()),
               "index total_size is not the sum of the tensor sizes")
    return metadata, tensors


def check(ckpt, flavour=None, seed=None):
    with open(os.path.join(ckpt, "config.json")) as f:
        config = json.load(f)
    metadata, tensors = read_all(ckpt)
    flavour = flavour or metadata.get("lathe_flavour")
    seed = seed if seed is not None else int(metadata.get("lathe_seed", "0"))
    expect(flavour in make_tiny_checkpoint.FLAVOURS, f"unknown flavour {flavour!r}")

    expected = expected_tensors(config)
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    expect(not missing, f"missing tensors: {missing[:5]} ({len(missing)} in all)")
    expect(not extra, f"unexpected tensors: {extra[:5]} ({len(extra)} in all)")
    for name, (dtype, shape) in expected.items():
        got_dtype, array = tensors[name]
        expect(got_dtype == dtype and list(array.shape) == shape,
               f"tensor '{name}': {got_dtype} {list(array.shape)}, config.json implies {dtype} {shape}")

    ref_config, ref_tensors, originals = make_tiny_checkpoint.build(
        flavour, seed, config.get("num_nextn_predict_layers", 0))
    expect(ref_config == config, f"config.json differs from flavour {flavour}'s")
    for name, (dtype, array) in ref_tensors.items():
        expect(np.array_equal(tensors[name][1], array), f"tensor '{name}': bytes differ from "
               f"flavour {flavour} seed {seed}")

    # Values are sane: finite, norms near 1, MTP copies equal to the main ones.
    for name, (dtype, array) in tensors.items():
        values = (bf16_to_float32(array) if dtype == "BF16" else
                  fp8.decode(array) if dtype == "F8_E4M3" else array.astype(np.float64))
        expect(np.all(np.isfinite(values)), f"tensor '{name}' has non-finite values")
        if name.endswith("norm.weight"):
            expect(np.all(np.abs(values - 1) < 0.5), f"norm '{name}' is not near 1")
        if name.endswith(".embed_tokens.weight") and name != "model.embed_tokens.weight":
            expect(np.array_equal(array, tensors["model.embed_tokens.weight"][1]), name)
        if name.endswith(".shared_head.head.weight"):
            expect(np.array_equal(array, tensors["lm_head.weight"][1]), name)

    worst_block, worst_rel = 0.0, 0.0
    for name, w in originals.items():
        codes, scale = tensors[name][1], tensors[name + "_scale_inv"][1]
        dq = fp8.dequantize_blocks(codes, scale)
        w = w.astype(np.float64)
        s = np.repeat(np.repeat(scale.astype(np.float64), fp8.BLOCK, 0), fp8.BLOCK, 1)
        s = s[:w.shape[0], :w.shape[1]]
        err = np.abs(dq - w)
        # Half a quantum: 2^-4 relative for normals, 2^-10 * scale below 2^-6 * scale.
        bound = np.maximum(np.abs(w) * 2.0 ** -4, s * 2.0 ** -10) * (1 + 2.0 ** -20)
        expect(np.all(err <= bound), f"tensor '{name}': FP8 error {np.max(err / bound):.3g} "
               "half-quanta")
        worst_block = max(worst_block, float(np.max(err / (s * fp8.MAX))))
        normal = np.abs(w) >= s * 2.0 ** -6
        worst_rel = max(worst_rel, float(np.max(err[normal] / np.abs(w[normal]))))

    summary = f"{ckpt}: {flavour} seed {seed}: {len(tensors)} tensors match config.json and the generator"
    if originals:
        summary += (f"; {len(originals)} FP8 weights: max |dequant - original| = "
                    f"{worst_block:.4f} x block amax, {worst_rel:.4f} x |original| "
                    f"in the normal range (bound 0.0625)")
    print(summary)


def main(argv):
    parser = argparse.ArgumentParser(
        prog="check_checkpoint.py", description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flavour", choices=sorted(make_tiny_checkpoint.FLAVOURS))
    parser.add_argument("--seed", type=int)
    parser.add_argument("ckpt", metavar="CKPT_DIR")
    args = parser.parse_args(argv)
    try:
        check(args.ckpt, args.flavour, args.seed)
    except (Mismatch, SafetensorsError, OSError, KeyError, ValueError) as e:
        print(f"check_checkpoint.py: {args.ckpt}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
