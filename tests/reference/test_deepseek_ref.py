#!/usr/bin/python3
"""Self-tests of the float64 DeepSeek reference (deepseek_ref.py).

Run: /usr/bin/python3 tests/reference/test_deepseek_ref.py [-v]
(plain unittest; numpy only). The tiny checkpoints come from
tests/models/make_tiny_checkpoint.py, written into a temporary directory.
"""

import contextlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "models")
sys.path.insert(0, HERE)
sys.path.insert(0, MODELS)
import deepseek_ref as ref  # noqa: E402
import fp8  # noqa: E402
import corrupt_checkpoint  # noqa: E402
import make_tiny_checkpoint  # noqa: E402
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

FLAVOURS = ("v3", "v2-lite", "v3-fp8")


def assert_close(test, got, want, rel, what=""):
    """max |got - want| <= rel * max |want|."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    test.assertEqual(got.shape, want.shape, what)
    err = float(np.max(np.abs(got - want))) if got.size else 0.0
    bound = rel * float(np.max(np.abs(want)))
    test.assertLessEqual(err, bound, f"{what}: max error {err:.3e} > {bound:.3e}")


def prompt_for(model, batch, length, seed):
    return np.random.default_rng(seed).integers(0, model.config.vocab_size, (batch, length))


def config_of(**fields):
    """A Config from a minimal V3-like config.json with `fields` overridden."""
    raw = dict(model_type="deepseek_v3", vocab_size=32, hidden_size=16, num_hidden_layers=2,
               max_position_embeddings=4096, num_attention_heads=2, q_lora_rank=None,
               kv_lora_rank=8, qk_nope_head_dim=8, qk_rope_head_dim=4, v_head_dim=8,
               intermediate_size=24)
    raw.update(fields)
    return ref.Config(raw)


class Checkpoints:
    """The tiny checkpoints, made once for all test classes."""
    dir = None
    models = {}

    @classmethod
    def get(cls, flavour, **kwargs):
        key = (flavour, tuple(sorted(kwargs.items())))
        if key not in cls.models:
            if cls.dir is None:
                cls.dir = tempfile.mkdtemp(prefix="deepseek_ref_test.")
            path = os.path.join(cls.dir, f"{flavour}-{len(cls.models)}")
            make_tiny_checkpoint.write_checkpoint(path, flavour, **kwargs)
            cls.models[key] = (path, ref.load(path))
        return cls.models[key]

    @classmethod
    def model(cls, flavour, **kwargs):
        return cls.get(flavour, **kwargs)[1]

    @classmethod
    def path(cls, flavour, **kwargs):
        return cls.get(flavour, **kwargs)[0]


def tearDownModule():
    if Checkpoints.dir is not None:
        shutil.rmtree(Checkpoints.dir, ignore_errors=True)


# ---------------------------------------------------------------------------
# (a), (b), (f): the KV cache, the two MLA forms, batching

class CacheAndFormsTest(unittest.TestCase):
    PROMPT, NEW = 5, 6

    def test_incremental_decode_matches_full_recompute(self):
        for flavour in FLAVOURS:
            with self.subTest(flavour=flavour):
                model = Checkpoints.model(flavour)
                prompt = prompt_for(model, 2, self.PROMPT, seed=1)
                tokens, logits = ref.generate(model, prompt, self.NEW, logits_dtype=np.float64)
                full = model.forward(np.concatenate([prompt, tokens[:, :-1]], axis=1))
                # Position P-1+i of the full sequence chose token i.
                want = full[:, self.PROMPT - 1:].transpose(1, 0, 2)
                assert_close(self, logits, want, 1e-12, "decode vs recompute")
                np.testing.assert_array_equal(tokens, np.argmax(want, axis=-1).T)

    def test_chunked_prefill_matches_full(self):
        # Several new tokens on top of a non-empty cache: the causal mask
        # must be offset by the cache length.
        for flavour in FLAVOURS:
            with self.subTest(flavour=flavour):
                model = Checkpoints.model(flavour)
                seq = prompt_for(model, 2, 9, seed=2)
                full = model.forward(seq)
                cache = ref.Cache(model.config.num_hidden_layers)
                parts = [model.forward(seq[:, a:b], a, cache) for a, b in [(0, 3), (3, 4), (4, 9)]]
                self.assertEqual(cache.length, 9)
                self.assertEqual(cache.c_kv[0].shape, (2, 9, model.config.kv_lora_rank))
                self.assertEqual(cache.k_pe[0].shape, (2, 9, model.config.qk_rope_head_dim))
                assert_close(self, np.concatenate(parts, axis=1), full, 1e-12, "chunked")

    def test_absorbed_matches_up_projected(self):
        for flavour in FLAVOURS:
            with self.subTest(flavour=flavour):
                model = Checkpoints.model(flavour)
                prompt = prompt_for(model, 2, self.PROMPT, seed=3)
                up = ref.generate(model, prompt, self.NEW, logits_dtype=np.float64)
                ab = ref.generate(model, prompt, self.NEW, absorbed=True,
                                  logits_dtype=np.float64)
                np.testing.assert_array_equal(ab[0], up[0])
                assert_close(self, ab[1], up[1], 1e-10, "absorbed generate")
                seq = prompt_for(model, 1, 12, seed=4)
                assert_close(self, model.forward(seq, absorbed=True), model.forward(seq),
                             1e-10, "absorbed forward")

    def test_batch_rows_equal_single_rows(self):
        for flavour in FLAVOURS:
            with self.subTest(flavour=flavour):
                model = Checkpoints.model(flavour)
                prompt = prompt_for(model, 2, self.PROMPT, seed=5)
                tokens, logits = ref.generate(model, prompt, self.NEW, logits_dtype=np.float64)
                for row in range(2):
                    t1, l1 = ref.generate(model, prompt[row:row + 1], self.NEW,
                                          logits_dtype=np.float64)
                    np.testing.assert_array_equal(tokens[row:row + 1], t1)
                    assert_close(self, logits[:, row:row + 1], l1, 1e-12, f"row {row}")

    def test_start_positions_must_match_cache(self):
        model = Checkpoints.model("v3")
        cache = ref.Cache(model.config.num_hidden_layers)
        model.forward(np.array([[1, 2, 3]]), 0, cache)
        with self.assertRaisesRegex(ref.ReferenceError, "lock-step"):
            model.forward(np.array([[4]]), 2, cache)
        model.forward(np.array([[4]]), [3], cache)
        self.assertEqual(cache.length, 4)


class NaiveAttentionTest(unittest.TestCase):
    """MLA against a per-token, per-head loop written from REFERENCE.md: keys
    [W_UK c_j ; rope(k_pe_j)], values W_UV c_j, RoPE as complex products."""

    def naive(self, model, layer, h, positions):
        cfg = model.config.raw
        w = model.tensors
        a = f"model.layers.{layer}.self_attn."
        H, nope, rope = cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"]
        vdim, r, eps = cfg["v_head_dim"], cfg["kv_lora_rank"], cfg["rms_norm_eps"]
        scale = (nope + rope) ** -0.5
        if cfg.get("rope_scaling"):
            m = 0.1 * cfg["rope_scaling"]["mscale_all_dim"] * math.log(
                cfg["rope_scaling"]["factor"]) + 1
            scale *= m * m
        freq = model.freq

        def norm(v, g):
            return v / math.sqrt(float(np.mean(v * v)) + eps) * g

        def rot(v, pos):
            z = (v[0::2] + 1j * v[1::2]) * np.exp(1j * pos * freq)
            out = np.empty_like(v)
            out[0::2], out[1::2] = z.real, z.imag
            return out

        keys, values = [], []
        for j in range(len(h)):
            kv = w[a + "kv_a_proj_with_mqa.weight"] @ h[j]
            c = norm(kv[:r], w[a + "kv_a_layernorm.weight"])
            up = (w[a + "kv_b_proj.weight"] @ c).reshape(H, nope + vdim)
            k_pe = rot(kv[r:], positions[j])
            keys.append([np.concatenate([up[i, :nope], k_pe]) for i in range(H)])
            values.append([up[i, nope:] for i in range(H)])
        out = []
        for t in range(len(h)):
            if cfg["q_lora_rank"] is None:
                q = w[a + "q_proj.weight"] @ h[t]
            else:
                q = w[a + "q_b_proj.weight"] @ norm(w[a + "q_a_proj.weight"] @ h[t],
                                                   w[a + "q_a_layernorm.weight"])
            q = q.reshape(H, nope + rope)
            heads = []
            for i in range(H):
                qi = np.concatenate([q[i, :nope], rot(q[i, nope:], positions[t])])
                s = np.array([qi @ keys[j][i] * scale for j in range(t + 1)])
                p = np.exp(s - s.max())
                p /= p.sum()
                heads.append(sum(p[j] * values[j][i] for j in range(t + 1)))
            out.append(w[a + "o_proj.weight"] @ np.concatenate(heads))
        return np.array(out)

    def test_mla_matches_naive_loop(self):
        for flavour in ("v3", "v2-lite"):
            model = Checkpoints.model(flavour)
            h = np.random.default_rng(6).standard_normal((7, model.config.hidden_size))
            want = self.naive(model, 1, h, np.arange(7))
            for absorbed in (False, True):
                with self.subTest(flavour=flavour, absorbed=absorbed):
                    cache = ref.Cache(model.config.num_hidden_layers)
                    first = model.attention(1, h[None, :4], np.arange(4), cache, absorbed)
                    rest = model.attention(1, h[None, 4:], 4 + np.arange(3), cache, absorbed)
                    got = np.concatenate([first, rest], axis=1)[0]
                    assert_close(self, got, want, 1e-12, "MLA vs naive loop")


# ---------------------------------------------------------------------------
# (c) the router

class RouterTest(unittest.TestCase):

    def test_ties_go_to_lower_index(self):
        picks = ref.select_experts(np.array([[0.5, 0.7, 0.5, 0.7, 0.5],
                                             [0.2, 0.2, 0.2, 0.2, 0.2]]), 3)
        np.testing.assert_array_equal(picks, [[1, 3, 0], [0, 1, 2]])

    def test_group_score_top2_sum_vs_max(self):
        # Group 0 = experts 0-2 has the largest single score (max 0.9, top-2
        # sum 1.0); group 1 = experts 3-5 the largest pair (max 0.6, sum 1.2).
        s = np.array([[0.9, 0.1, 0.1, 0.6, 0.6, 0.0]])
        np.testing.assert_array_equal(ref.select_experts(s, 2, 2, 1, "max"), [[0, 1]])
        np.testing.assert_array_equal(ref.select_experts(s, 2, 2, 1, "top2"), [[3, 4]])
        # Without groups the two best experts overall.
        np.testing.assert_array_equal(ref.select_experts(s, 2), [[0, 3]])

    def test_group_limiting_through_route(self):
        # noaux_tc (bias present) ranks groups by top-2 sums of biased scores,
        # group_limited_greedy by max; sigmoid(logit(p)) = p.
        p = np.array([[0.9, 0.1, 0.1, 0.6, 0.6, 0.05]])
        logits = np.log(p / (1 - p))
        common = dict(num_experts=6, top_k=2, scoring_func="sigmoid", n_group=2, topk_group=1)
        idx, _ = ref.route(logits, ref.RouterSpec(topk_method="group_limited_greedy", **common))
        np.testing.assert_array_equal(idx, [[0, 1]])
        idx, _ = ref.route(logits, ref.RouterSpec(topk_method="noaux_tc", **common),
                           bias=np.zeros(6))
        np.testing.assert_array_equal(idx, [[3, 4]])

    def test_group_ties_go_to_lower_group(self):
        # Three groups of two. Top-2 sums 1.0, 1.0, 0.5: groups 0 and 1 tie.
        s = np.array([[0.75, 0.25, 0.5, 0.5, 0.25, 0.25]])
        np.testing.assert_array_equal(ref.select_experts(s, 2, 3, 1, "top2"), [[0, 1]])
        # Maxes 0.75, 0.75, 0: groups 0 and 1 tie.
        s = np.array([[0.25, 0.75, 0.75, 0.5, 0.0, 0.0]])
        np.testing.assert_array_equal(ref.select_experts(s, 2, 3, 1, "max"), [[1, 0]])

    def test_bias_chooses_but_does_not_weight(self):
        p = np.array([[0.8, 0.7, 0.6, 0.5]])
        bias = np.array([0.0, 0.0, 0.0, 0.35])  # expert 3 selects at 0.85
        spec = ref.RouterSpec(4, 2, "sigmoid", "noaux_tc", norm_topk_prob=False,
                              routed_scaling_factor=1.0)
        idx, weights = ref.route(np.log(p / (1 - p)), spec, bias)
        np.testing.assert_array_equal(idx, [[3, 0]])
        np.testing.assert_allclose(weights, [[0.5, 0.8]], rtol=1e-14)
        with self.assertRaises(ref.ReferenceError):
            ref.route(np.log(p / (1 - p)), spec, None)

    def test_sigmoid_renormalized_and_scaled(self):
        logits = np.array([[1.0, -2.0, 0.5, 3.0, 0.0]])
        spec = ref.RouterSpec(5, 3, "sigmoid", "noaux_tc", norm_topk_prob=True,
                              routed_scaling_factor=2.5)
        idx, weights = ref.route(logits, spec, np.zeros(5))
        np.testing.assert_array_equal(idx, [[3, 0, 2]])
        s = [1 / (1 + math.exp(-v)) for v in (3.0, 1.0, 0.5)]
        np.testing.assert_allclose(weights, [[2.5 * v / sum(s) for v in s]], rtol=1e-14)
        self.assertAlmostEqual(float(weights.sum()), 2.5, places=14)

    def test_softmax_weights_are_over_all_experts(self):
        logits = np.array([[1.0, -2.0, 0.5, 3.0]])
        spec = ref.RouterSpec(4, 2, "softmax", "greedy", routed_scaling_factor=1.0)
        idx, weights = ref.route(logits, spec)
        e = np.exp(logits[0])
        np.testing.assert_array_equal(idx, [[3, 0]])
        np.testing.assert_allclose(weights, [[e[3] / e.sum(), e[0] / e.sum()]], rtol=1e-14)

    def test_v2_and_v3_scaling(self):
        logits = np.array([[1.0, -2.0, 0.5, 3.0]])
        e = np.exp(logits[0])
        orig = np.array([e[3], e[0]]) / e.sum()

        def weights(model_type, norm, top_k=2):
            spec = ref.RouterSpec(4, top_k, "softmax", "greedy", norm_topk_prob=norm,
                                  routed_scaling_factor=2.0, model_type=model_type)
            return ref.route(logits, spec)[1][0]

        # V2 renormalizes instead of scaling; V3 renormalizes and then scales.
        np.testing.assert_allclose(weights("deepseek_v2", True), orig / orig.sum(), rtol=1e-14)
        np.testing.assert_allclose(weights("deepseek_v3", True), 2 * orig / orig.sum(),
                                   rtol=1e-14)
        np.testing.assert_allclose(weights("deepseek_v2", False), 2 * orig, rtol=1e-14)
        np.testing.assert_allclose(weights("deepseek_v3", False), 2 * orig, rtol=1e-14)
        # top_k = 1 never renormalizes, so V2 scales.
        np.testing.assert_allclose(weights("deepseek_v2", True, 1), 2 * orig[:1], rtol=1e-14)

    def test_greedy_ignores_groups(self):
        logits = np.array([[2.0, -2.0, -2.0, 0.5, 0.5, -3.0]])
        common = dict(num_experts=6, top_k=2, scoring_func="sigmoid", n_group=2, topk_group=1)
        idx, _ = ref.route(logits, ref.RouterSpec(topk_method="greedy", **common))
        np.testing.assert_array_equal(idx, [[0, 3]])
        # The same groups do limit group_limited_greedy.
        idx, _ = ref.route(logits, ref.RouterSpec(topk_method="group_limited_greedy", **common))
        np.testing.assert_array_equal(idx, [[0, 1]])
        self.assertEqual(config_of(n_routed_experts=8, num_experts_per_tok=8,
                                   moe_intermediate_size=4, n_group=4, topk_group=1,
                                   topk_method="greedy").n_group, 1)

    def test_all_tokens_pick_the_same_experts(self):
        # A zero router leaves every sigmoid score at 0.5; the bias then
        # sends every token to experts 5, 4, 7, 6 (groups 2 and 3 by top-2
        # sum), each weighted 2.5 / 4. The MoE output must equal a per-token
        # sum over those experts plus the shared expert.
        model = Checkpoints.model("v3")
        layer = 1
        p = f"model.layers.{layer}.mlp."
        tensors = dict(model.tensors)
        tensors[p + "gate.weight"] = np.zeros_like(tensors[p + "gate.weight"])
        bias = np.zeros(16)
        bias[[5, 4, 7, 6]] = [0.4, 0.3, 0.2, 0.1]
        tensors[p + "gate.e_score_correction_bias"] = bias
        forced = ref.Model(model.config, tensors)
        x = np.random.default_rng(7).standard_normal((6, model.config.hidden_size))
        got = forced.moe(layer, x)

        def mlp(prefix, v):
            g, u, d = (tensors[prefix + n + "_proj.weight"] for n in ("gate", "up", "down"))
            a = g @ v
            return d @ (a / (1 + np.exp(-a)) * (u @ v))

        for t in range(len(x)):
            want = sum(0.625 * mlp(f"{p}experts.{e}.", x[t]) for e in (5, 4, 7, 6))
            want = want + mlp(p + "shared_experts.", x[t])
            assert_close(self, got[t], want, 1e-12, f"token {t}")


# ---------------------------------------------------------------------------
# (d) RoPE and YaRN

class RopeTest(unittest.TestCase):

    def test_pairs_rotate_as_complex_numbers(self):
        rng = np.random.default_rng(8)
        x = rng.standard_normal((3, 5, 16))
        pos = np.array([0, 1, 7, 100, 4095])
        freq = ref.rope_frequencies(16, 10000.0)
        got = ref.apply_rope(x, pos, freq)
        z = (x[..., 0::2] + 1j * x[..., 1::2]) * np.exp(1j * pos[:, None] * freq)
        want = np.stack([z.real, z.imag], axis=-1).reshape(x.shape)
        assert_close(self, got, want, 1e-15, "complex rotation")
        # Only the pair (0, 1) moves when only it is non-zero.
        e = np.zeros(16)
        e[0] = 1.0
        r = ref.apply_rope(e[None], np.array([3]), freq)[0]
        np.testing.assert_allclose(r[:2], [math.cos(3.0), math.sin(3.0)], rtol=1e-15)
        self.assertTrue(np.all(r[2:] == 0.0))

    def test_scores_depend_on_relative_position(self):
        rng = np.random.default_rng(9)
        q, k = rng.standard_normal(16), rng.standard_normal(16)
        freq = ref.rope_frequencies(16, 10000.0, yarn=dict(
            factor=40.0, original_max_position_embeddings=4096, beta_fast=32.0, beta_slow=1.0))

        def score(m, n):
            return float(ref.apply_rope(q[None], [m], freq)[0]
                         @ ref.apply_rope(k[None], [n], freq)[0])

        self.assertAlmostEqual(score(10, 3), score(1007, 1000), places=10)
        self.assertNotAlmostEqual(score(10, 3), score(10, 4), places=3)

    def test_plain_frequencies(self):
        np.testing.assert_allclose(ref.rope_frequencies(8, 10000.0), [1, 0.1, 0.01, 0.001],
                                   rtol=1e-15)

    def test_yarn_correction_range(self):
        # c(r) = d ln(4096 / (2 pi r)) / (2 ln 10000): d = 16 gives c(32) = 2.62,
        # c(1) = 5.63; d = 64 (DeepSeek-V3) gives 10.47 and 22.53.
        self.assertEqual(ref.yarn_correction_range(16, 10000.0, 4096, 32, 1), (2, 6))
        self.assertEqual(ref.yarn_correction_range(64, 10000.0, 4096, 32, 1), (10, 23))
        # Clamped to [0, d-1].
        self.assertEqual(ref.yarn_correction_range(16, 10000.0, 10 ** 12, 32, 1), (15, 15))
        self.assertEqual(ref.yarn_correction_range(16, 10000.0, 2, 32, 1), (0, 0))

    def test_yarn_frequencies_direct(self):
        yarn = dict(factor=40.0, original_max_position_embeddings=4096, beta_fast=32.0,
                    beta_slow=1.0)
        got = ref.rope_frequencies(16, 10000.0, yarn)
        # low = 2, high = 6 (above): ramp = (i - 2) / 4 clamped.
        for i in range(8):
            base = 10000.0 ** (-2 * i / 16)
            ramp = min(max((i - 2) / 4, 0.0), 1.0)
            self.assertAlmostEqual(got[i] / (base / 40 * ramp + base * (1 - ramp)), 1.0,
                                   places=14, msg=f"pair {i}")
        # The fastest pairs keep their frequency, the slowest are divided by 40.
        self.assertEqual(got[0], 1.0)
        self.assertAlmostEqual(got[7] * 40 / 10000.0 ** (-14 / 16), 1.0, places=14)

    def test_yarn_factor_one_is_plain(self):
        yarn = dict(factor=1.0, original_max_position_embeddings=4096, beta_fast=32.0,
                    beta_slow=1.0)
        np.testing.assert_allclose(ref.rope_frequencies(64, 10000.0, yarn),
                                   ref.rope_frequencies(64, 10000.0), rtol=1e-15)

    def test_yarn_equal_bounds_step(self):
        # low == high: a step at `low` (DeepSeek's code adds 0.001 to high).
        np.testing.assert_array_equal(ref.yarn_ramp(3, 3, 6), [0, 0, 0, 0, 1, 1])

    def test_softmax_scale(self):
        yarn = dict(type="yarn", factor=40, original_max_position_embeddings=4096,
                    mscale=1.0, mscale_all_dim=1.0)
        plain = 12 ** -0.5  # qk_nope 8 + qk_rope 4
        self.assertEqual(ref.softmax_scale(config_of()), plain)
        m = 0.1 * math.log(40) + 1
        self.assertAlmostEqual(ref.softmax_scale(config_of(rope_scaling=yarn)) / (plain * m * m),
                               1.0, places=14)
        yarn["mscale_all_dim"] = 0.707
        m = 0.1 * 0.707 * math.log(40) + 1
        self.assertAlmostEqual(ref.softmax_scale(config_of(rope_scaling=yarn)) / (plain * m * m),
                               1.0, places=14)
        yarn["mscale_all_dim"] = 0
        self.assertEqual(ref.softmax_scale(config_of(rope_scaling=yarn)), plain)
        yarn.update(mscale_all_dim=1.0, factor=1.0)
        self.assertEqual(ref.softmax_scale(config_of(rope_scaling=yarn)), plain)


# ---------------------------------------------------------------------------
# (e) FP8 and the loader

class LoaderTest(unittest.TestCase):

    def test_fp8_dequantization_partial_blocks(self):
        rng = np.random.default_rng(10)
        codes = rng.integers(0, 256, (200, 300)).astype(np.uint8)
        codes[(codes & 0x7F) == 0x7F] = 0x38  # no NaN codes
        for block in ((128, 128), (64, 128), (128, 96)):
            grid = (-(-200 // block[0]), -(-300 // block[1]))
            scale = rng.uniform(1e-4, 1e-2, grid).astype(np.float32)
            got = ref.dequantize_fp8(codes, scale, block)
            want = np.empty((200, 300))
            for i in range(grid[0]):
                for j in range(grid[1]):
                    rows = slice(i * block[0], (i + 1) * block[0])
                    cols = slice(j * block[1], (j + 1) * block[1])
                    want[rows, cols] = fp8.decode(codes[rows, cols]) * np.float64(scale[i, j])
            with self.subTest(block=block):
                np.testing.assert_array_equal(got, want)
        # A known value: code 0x38 is 1.0, 0xC0 is -2.0.
        got = ref.dequantize_fp8(np.array([[0x38, 0xC0]], np.uint8), np.array([[0.5]]), (128, 128))
        np.testing.assert_array_equal(got, [[0.5, -1.0]])

    def test_fp8_rejects_bad_input(self):
        with self.assertRaisesRegex(ref.ReferenceError, "NaN"):
            ref.dequantize_fp8(np.array([[0x7F]], np.uint8), np.ones((1, 1)), (128, 128))
        with self.assertRaisesRegex(ref.ReferenceError, "scale grid"):
            ref.dequantize_fp8(np.zeros((160, 320), np.uint8), np.ones((3, 2)), (128, 128))

    def test_fp8_checkpoint_weights(self):
        path = Checkpoints.path("v3-fp8")
        model = Checkpoints.model("v3-fp8")
        _, raw = read_safetensors(os.path.join(path, "model.safetensors"))
        _, _, originals = make_tiny_checkpoint.build("v3-fp8", 0)
        for name in ("model.layers.0.self_attn.kv_a_proj_with_mqa.weight",  # grid [2, 3]
                     "model.layers.0.mlp.down_proj.weight",                 # grid [3, 2]
                     "model.layers.2.mlp.experts.7.up_proj.weight"):
            with self.subTest(name=name):
                self.assertEqual(raw[name][0], "F8_E4M3")
                want = fp8.dequantize_blocks(raw[name][1], raw[name + "_scale_inv"][1])
                np.testing.assert_array_equal(model.tensors[name], want)
                err = np.abs(model.tensors[name] - originals[name])
                self.assertLessEqual(float(err.max()), 0.07 * float(np.abs(originals[name]).max()))
        self.assertFalse(any(n.endswith("_scale_inv") for n in model.tensors))

    def test_bf16_weights_are_exact(self):
        path = Checkpoints.path("v3")
        _, raw = read_safetensors(os.path.join(path, "model.safetensors"))
        model = Checkpoints.model("v3")
        bits = raw["model.layers.1.self_attn.kv_b_proj.weight"][1]
        want = (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        np.testing.assert_array_equal(model.tensors["model.layers.1.self_attn.kv_b_proj.weight"],
                                      want)

    def test_mtp_layers_skipped_and_shards_equal(self):
        one = Checkpoints.model("v3")
        self.assertFalse(any(n.startswith("model.layers.3.") for n in one.tensors))
        sharded = Checkpoints.model("v3", shards=3, mtp_layers=2)
        no_mtp = Checkpoints.model("v3", mtp_layers=0)
        self.assertTrue(os.path.exists(os.path.join(Checkpoints.path("v3", shards=3, mtp_layers=2),
                                                    "model.safetensors.index.json")))
        self.assertEqual(sorted(one.tensors), sorted(sharded.tensors))
        seq = prompt_for(one, 1, 6, seed=11)
        np.testing.assert_array_equal(sharded.forward(seq), one.forward(seq))
        np.testing.assert_array_equal(no_mtp.forward(seq), one.forward(seq))

    def test_tied_embeddings(self):
        src = Checkpoints.path("v2-lite")
        dst = os.path.join(Checkpoints.dir, "v2-lite-tied")
        os.makedirs(dst, exist_ok=True)
        _, raw = read_safetensors(os.path.join(src, "model.safetensors"))
        del raw["lm_head.weight"]
        write_safetensors(os.path.join(dst, "model.safetensors"), raw)
        with open(os.path.join(src, "config.json")) as f:
            config = json.load(f)
        with open(os.path.join(dst, "config.json"), "w") as f:
            json.dump(config, f)
        with self.assertRaisesRegex(ref.ReferenceError, "lm_head.weight"):
            ref.load(dst)
        config["tie_word_embeddings"] = True
        with open(os.path.join(dst, "config.json"), "w") as f:
            json.dump(config, f)
        tied = ref.load(dst)
        untied = Checkpoints.model("v2-lite")
        seq = prompt_for(tied, 1, 4, seed=12)
        swapped = ref.Model(untied.config, dict(untied.tensors))
        swapped.lm_head = swapped.embed
        np.testing.assert_array_equal(tied.forward(seq), swapped.forward(seq))
        self.assertFalse(np.allclose(tied.forward(seq), untied.forward(seq)))

    def test_broken_checkpoints_are_rejected(self):
        # Each of corrupt_checkpoint.py's cases fails to load with a
        # ReferenceError naming what corrupt_checkpoint.py says is broken.
        for case, fn in corrupt_checkpoint.CASES.items():
            src = Checkpoints.path("v3-fp8" if case == "wrong-scale-shape" else "v3")
            dst = os.path.join(Checkpoints.dir, "broken")
            corrupt_checkpoint.copy_checkpoint(src, dst)
            name = fn(dst)
            if case == "wrong-scale-shape":  # reported on the weight it scales
                name = name[:-len("_scale_inv")]
            with self.subTest(case=case):
                with self.assertRaises(ref.ReferenceError) as caught:
                    ref.load(dst)
                self.assertIn(name, str(caught.exception))

    def test_config_layers_and_defaults(self):
        c = config_of(num_hidden_layers=6, n_routed_experts=4, num_experts_per_tok=2,
                      moe_intermediate_size=4, first_k_dense_replace=1, moe_layer_freq=2)
        self.assertEqual(c.moe_layers, [False, False, True, False, True, False])
        c = config_of()
        self.assertEqual((c.moe_layers, c.rms_norm_eps, c.rope_theta, c.scoring_func,
                          c.topk_method, c.routed_scaling_factor),
                         ([False, False], 1e-6, 10000.0, "softmax", "greedy", 1.0))
        for bad in (dict(model_type="llama"), dict(qk_rope_head_dim=5),
                    dict(kv_lora_rank=None), dict(rope_scaling={"type": "linear", "factor": 2}),
                    dict(n_routed_experts=8, num_experts_per_tok=4, moe_intermediate_size=4,
                         n_group=4, topk_group=1, topk_method="noaux_tc")):
            with self.subTest(bad=bad), self.assertRaises(ref.ReferenceError):
                config_of(**bad)


# ---------------------------------------------------------------------------
# The CLI

class CliTest(unittest.TestCase):

    def test_generate_and_forward(self):
        path = Checkpoints.path("v3")
        model = Checkpoints.model("v3")
        work = tempfile.mkdtemp(dir=Checkpoints.dir)
        prompt = prompt_for(model, 2, 4, seed=13).astype(np.int32)
        np.save(os.path.join(work, "p.npy"), prompt)
        script = os.path.join(HERE, "deepseek_ref.py")
        files = {n: os.path.join(work, n) for n in ("t.npy", "l.npy", "f.npy")}
        subprocess.run([sys.executable, script, path, "generate",
                        f"--prompt-tokens={work}/p.npy", "--max-new-tokens=3", "--greedy",
                        f"--output-tokens={files['t.npy']}", f"--output-logits={files['l.npy']}"],
                       check=True)
        tokens, logits = np.load(files["t.npy"]), np.load(files["l.npy"])
        self.assertEqual((tokens.dtype, tokens.shape), (np.int64, (2, 3)))
        self.assertEqual((logits.dtype, logits.shape), (np.float32, (3, 2, 512)))
        want_t, want_l = ref.generate(model, prompt, 3)
        np.testing.assert_array_equal(tokens, want_t)
        np.testing.assert_array_equal(logits, want_l)
        self.assertEqual(ref.main([path, "forward", f"--prompt-tokens={work}/p.npy",
                                   f"--output-logits={files['f.npy']}"]), 0)
        full = np.load(files["f.npy"])
        self.assertEqual((full.dtype, full.shape), (np.float64, (2, 4, 512)))
        np.testing.assert_array_equal(full, model.forward(prompt))
        np.testing.assert_array_equal(full[:, -1].astype(np.float32), want_l[0])

    def test_errors(self):
        path = Checkpoints.path("v3")
        work = tempfile.mkdtemp(dir=Checkpoints.dir)
        np.save(os.path.join(work, "f.npy"), np.zeros((1, 3), np.float32))
        np.save(os.path.join(work, "big.npy"), np.array([[1, 100000]], np.int64))
        for args, message in [
                ([path, "forward", f"--prompt-tokens={work}/f.npy", f"--output-logits={work}/x"],
                 "int32 or int64"),
                ([path, "generate", f"--prompt-tokens={work}/big.npy", "--max-new-tokens=1"],
                 "token ids"),
                ([work, "generate", f"--prompt-tokens={work}/big.npy", "--max-new-tokens=1"],
                 "config.json")]:
            err = io.StringIO()
            with self.subTest(message=message), contextlib.redirect_stderr(err):
                self.assertEqual(ref.main(args), 1)
            self.assertIn("deepseek_ref.py: error:", err.getvalue())
            self.assertIn(message, err.getvalue())

    def test_sampling_is_seeded(self):
        model = Checkpoints.model("v2-lite")
        prompt = prompt_for(model, 2, 3, seed=14)
        a = ref.generate(model, prompt, 4, greedy=False, temperature=0.8, seed=5)[0]
        b = ref.generate(model, prompt, 4, greedy=False, temperature=0.8, seed=5)[0]
        np.testing.assert_array_equal(a, b)
        # A tiny temperature is greedy.
        np.testing.assert_array_equal(
            ref.generate(model, prompt, 4, greedy=False, temperature=1e-6, seed=5)[0],
            ref.generate(model, prompt, 4)[0])


if __name__ == "__main__":
    unittest.main()
