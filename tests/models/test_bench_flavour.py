#!/usr/bin/python3
"""Cheap checks of the generator's bench-0.3b flavour and of its fast
weight path, without writing the 616 MB checkpoint (bench/cpu makes that).

  - standard_normal (four PCG64 streams advanced to 0, n, 2n, 3n, walked in
    chunks) gives the bits of its definition (4n raw draws at once) for
    sizes around the chunk boundaries;
  - the bench flavour's tensors are those check_checkpoint.py derives from
    its config.json on its own, with the dims and parameter counts that
    tests/models/README.md states;
  - a few of its tensors keep pinned sha256 (the full file's is in the
    README; bench/cpu/bench_cpu.py checks it).

plain unittest, numpy only, a few seconds.
"""

import hashlib
import os
import sys
import unittest
import zlib

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_checkpoint  # noqa: E402
import make_tiny_checkpoint as gen  # noqa: E402
from safetensors_io import float32_to_bf16  # noqa: E402


def standard_normal_definition(seed, name, shape):
    """The generator's definition, drawing all 4n raw values at once."""
    n = int(np.prod(shape, dtype=np.int64))
    rng = np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])
    raw = rng.bit_generator.random_raw(4 * n).reshape(4, n)
    u = (raw >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    z = (((u[0] + u[1]) + u[2]) + u[3] - 2.0) * gen.SQRT3
    return z.reshape(shape)


class FastGenerator(unittest.TestCase):
    def test_same_bits_as_the_definition(self):
        chunk = gen._CHUNK
        for seed, name, shape in [(0, "a", [1]), (1, "b", [7, 3]), (0, "c", [chunk]),
                                  (2, "d", [chunk + 1]), (0, "e", [2, chunk + 5]),
                                  (5, "model.layers.1.mlp.gate.weight", [64, 1024])]:
            got = gen.standard_normal(seed, name, shape)
            want = standard_normal_definition(seed, name, shape)
            self.assertEqual(got.shape, want.shape)
            self.assertTrue(np.array_equal(got.view(np.uint64), want.view(np.uint64)),
                            f"{name} {shape}")


def count(shape):
    return int(np.prod(shape, dtype=np.int64))


class BenchFlavour(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.config = gen.make_config("bench-0.3b", gen.FLAVOURS["bench-0.3b"]["mtp_layers"])
        cls.layout = gen.layout(cls.config)

    def test_dims(self):
        c = self.config
        self.assertEqual(
            {k: c[k] for k in ("model_type", "hidden_size", "num_hidden_layers",
                               "first_k_dense_replace", "n_routed_experts",
                               "num_experts_per_tok", "n_group", "topk_group", "topk_method",
                               "scoring_func", "n_shared_experts", "q_lora_rank",
                               "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim",
                               "v_head_dim", "num_attention_heads", "moe_intermediate_size",
                               "intermediate_size", "vocab_size",
                               "num_nextn_predict_layers")},
            dict(model_type="deepseek_v3", hidden_size=1024, num_hidden_layers=8,
                 first_k_dense_replace=1, n_routed_experts=64, num_experts_per_tok=6,
                 n_group=8, topk_group=4, topk_method="noaux_tc", scoring_func="sigmoid",
                 n_shared_experts=1, q_lora_rank=256, kv_lora_rank=512, qk_nope_head_dim=128,
                 qk_rope_head_dim=64, v_head_dim=128, num_attention_heads=16,
                 moe_intermediate_size=160, intermediate_size=1120, vocab_size=16384,
                 num_nextn_predict_layers=0))
        self.assertEqual(c["rope_scaling"]["type"], "yarn")
        self.assertNotIn("quantization_config", c)

    def test_tensors_match_the_independent_derivation(self):
        expected = check_checkpoint.expected_tensors(self.config)
        self.assertEqual(sorted(expected), sorted(self.layout))
        for name, (kind, shape) in self.layout.items():
            dtype = "F32" if kind == "bias" else "BF16"
            self.assertEqual(expected[name], (dtype, shape), name)

    def test_parameter_counts(self):
        """The numbers tests/models/README.md and docs/performance.md state."""
        total = sum(count(s) for _, s in self.layout.values())
        routed = sum(count(s) for n, (_, s) in self.layout.items() if ".mlp.experts." in n)
        expert = routed // (7 * 64)
        embedding = count(self.layout["model.embed_tokens.weight"][1])
        active = total - routed - embedding + 7 * 6 * expert + 1024
        self.assertEqual(total, 307_781_056)
        self.assertEqual(expert, 491_520)
        self.assertEqual(active, 91_447_744)
        stored = sum(2 * count(s) if k != "bias" else 4 * count(s)
                     for k, s in self.layout.values())
        read_per_token = stored - 2 * routed - 2 * embedding + 2 * (7 * 6 * expert + 1024)
        self.assertEqual(read_per_token, 182_896_384)

    def test_pinned_tensors(self):
        pins = {
            "model.norm.weight":
                "14ca24ee2f32100a252c7940d44f0eaaa38a5b6ce5b2ad26f31d6f7e76a46211",
            "model.layers.1.mlp.gate.weight":
                "9bf33069dbb2a0bc6da0ad5eefc765681cde976ec939cb192a9a8b9130fb94b9",
            "model.layers.1.mlp.gate.e_score_correction_bias":
                "a03e1320170d9d4ad157f2c220bf1e50d649299668c2ed950457427ff6ce81aa",
            "model.layers.7.mlp.experts.63.down_proj.weight":
                "2d3e899acd41868c249e4f8db69b0a974fd307b6490e437bc1a619815150ac2a",
        }
        for name, want in pins.items():
            kind, shape = self.layout[name]
            w = gen.original_value(0, name, kind, shape)
            data = w.tobytes() if kind == "bias" else float32_to_bf16(w).tobytes()
            self.assertEqual(hashlib.sha256(data).hexdigest(), want, name)


if __name__ == "__main__":
    unittest.main()
