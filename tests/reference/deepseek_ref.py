#!/usr/bin/python3
"""Float64 numpy reference of the DeepSeek-V2/V3 forward pass.

The semantics are those of the project's shared REFERENCE.md ("DeepSeek-family
architecture"), config.json is read as docs/frontends.md describes, and the
CLI mirrors `lathe-run ... generate` (docs: DESIGN.md, "CLI contract"):

  deepseek_ref.py CKPT_DIR generate --prompt-tokens=P.npy --max-new-tokens=N
                  [--greedy | --temperature=T --seed=S]
                  [--output-tokens=T.npy] [--output-logits=L.npy] [--absorbed]
  deepseek_ref.py CKPT_DIR forward --prompt-tokens=P.npy --output-logits=L.npy
                  [--absorbed]

P.npy is int32 or int64 [batch, prompt_len]. generate writes T.npy int64
[batch, N] and L.npy float32 [N, batch, vocab] (entry i = the logits token i
was chosen from). forward writes the logits of every position as float64
[batch, prompt_len, vocab] (float64 so that tests can compare tightly).

Everything is float64; weights are converted exactly (bf16, f16, f32) or
dequantized exactly (FP8 e4m3 code x block scale). Batch rows run in
lock-step: all rows of a prompt have the same length and every row of the
KV cache has the same number of positions.

numpy only; run with /usr/bin/python3 (or ${LATHE_PYTHON}).
"""

import argparse
import json
import math
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
import fp8  # noqa: E402
from safetensors_io import SafetensorsError, bf16_to_float32, read_safetensors  # noqa: E402


class ReferenceError(Exception):
    """A checkpoint or an input the reference cannot run; the message names
    the file, tensor or field."""


# ---------------------------------------------------------------------------
# config.json (fields, defaults and checks of docs/frontends.md)

class Config:
    """The forward-pass fields of config.json, defaults filled in."""

    def __init__(self, raw):
        if not isinstance(raw, dict):
            raise ReferenceError("config.json: not a JSON object")
        self.raw = raw

        def get(name, default=None, required=False):
            value = raw.get(name)
            if value is None:
                if required:
                    raise ReferenceError(f"config.json: field '{name}' is missing")
                return default
            return value

        def positive(name, required=True, default=None):
            value = get(name, default, required)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value <= 0):
                raise ReferenceError(f"config.json: '{name}' must be a positive integer, "
                                     f"got {value!r}")
            return value

        self.model_type = get("model_type", required=True)
        if self.model_type not in ("deepseek_v2", "deepseek_v3"):
            raise ReferenceError(f"config.json: model_type {self.model_type!r} is not "
                                 "deepseek_v2 or deepseek_v3")
        self.vocab_size = positive("vocab_size")
        self.hidden_size = positive("hidden_size")
        self.num_hidden_layers = positive("num_hidden_layers")
        self.max_position_embeddings = positive("max_position_embeddings")
        self.num_heads = positive("num_attention_heads")
        self.q_lora_rank = positive("q_lora_rank", required=False)
        self.kv_lora_rank = positive("kv_lora_rank")
        self.qk_nope_head_dim = positive("qk_nope_head_dim")
        self.qk_rope_head_dim = positive("qk_rope_head_dim")
        self.v_head_dim = positive("v_head_dim")
        if self.qk_rope_head_dim % 2:
            raise ReferenceError("config.json: 'qk_rope_head_dim' must be even "
                                 "(RoPE rotates pairs)")
        self.rms_norm_eps = float(get("rms_norm_eps", 1e-6))
        self.rope_theta = float(get("rope_theta", 10000.0))
        if self.rms_norm_eps <= 0:
            raise ReferenceError("config.json: 'rms_norm_eps' must be > 0")
        if self.rope_theta <= 1:
            raise ReferenceError("config.json: 'rope_theta' must be > 1")

        self.yarn = None
        scaling = get("rope_scaling")
        if scaling is not None:
            kind = scaling.get("type", scaling.get("rope_type"))
            if kind != "yarn":
                raise ReferenceError(f"config.json: rope_scaling type {kind!r} is not 'yarn'")
            if scaling.get("original_max_position_embeddings") is None:
                raise ReferenceError("config.json: 'rope_scaling.original_max_position_embeddings'"
                                     " is missing")
            if scaling.get("factor") is None:
                raise ReferenceError("config.json: 'rope_scaling.factor' is missing")
            self.yarn = dict(
                factor=float(scaling["factor"]),
                original_max_position_embeddings=int(scaling["original_max_position_embeddings"]),
                beta_fast=float(scaling.get("beta_fast", 32)),
                beta_slow=float(scaling.get("beta_slow", 1)),
                mscale=float(scaling.get("mscale", 1)),
                mscale_all_dim=float(scaling.get("mscale_all_dim", 0)))
            y = self.yarn
            if not (y["factor"] > 0 and y["original_max_position_embeddings"] > 0
                    and y["beta_fast"] > y["beta_slow"] > 0):
                raise ReferenceError("config.json: rope_scaling needs factor > 0, "
                                     "original_max_position_embeddings > 0 and "
                                     "beta_fast > beta_slow > 0")

        self.n_routed_experts = positive("n_routed_experts", required=False)
        self.first_k_dense_replace = get("first_k_dense_replace", 0)
        self.moe_layer_freq = positive("moe_layer_freq", required=False, default=1)
        if not 0 <= self.first_k_dense_replace <= self.num_hidden_layers:
            raise ReferenceError("config.json: 'first_k_dense_replace' must be in "
                                 "[0, num_hidden_layers]")
        self.moe_layers = [self.is_moe_layer(i) for i in range(self.num_hidden_layers)]
        self.intermediate_size = positive("intermediate_size",
                                          required=not all(self.moe_layers))
        self.n_shared_experts = get("n_shared_experts", 0)
        self.scoring_func = get("scoring_func", "softmax")
        self.topk_method = get("topk_method", "greedy")
        self.n_group = get("n_group", 1)
        self.topk_group = get("topk_group", 1)
        self.norm_topk_prob = bool(get("norm_topk_prob", False))
        self.routed_scaling_factor = float(get("routed_scaling_factor", 1.0))
        if self.n_routed_experts is not None:
            self.num_experts_per_tok = positive("num_experts_per_tok")
            self.moe_intermediate_size = positive("moe_intermediate_size")
            if self.scoring_func not in ("softmax", "sigmoid"):
                raise ReferenceError(f"config.json: scoring_func {self.scoring_func!r} "
                                     "is not softmax or sigmoid")
            if self.topk_method not in ("greedy", "group_limited_greedy", "noaux_tc"):
                raise ReferenceError(f"config.json: topk_method {self.topk_method!r} is not "
                                     "greedy, group_limited_greedy or noaux_tc")
            if self.topk_method == "greedy":
                self.n_group = self.topk_group = 1  # greedy ignores groups
            if (self.n_group < 1 or self.n_routed_experts % self.n_group
                    or not 1 <= self.topk_group <= self.n_group):
                raise ReferenceError("config.json: 'n_group' must divide n_routed_experts and "
                                     "1 <= 'topk_group' <= n_group")
            kept = self.topk_group * (self.n_routed_experts // self.n_group)
            if self.num_experts_per_tok > kept:
                raise ReferenceError(f"config.json: 'num_experts_per_tok' "
                                     f"{self.num_experts_per_tok} exceeds the {kept} experts "
                                     "the groups keep")
            if self.n_shared_experts < 0:
                raise ReferenceError("config.json: 'n_shared_experts' must be >= 0")
            if self.routed_scaling_factor <= 0:
                raise ReferenceError("config.json: 'routed_scaling_factor' must be > 0")
        self.tie_word_embeddings = bool(get("tie_word_embeddings", False))
        self.num_nextn_predict_layers = get("num_nextn_predict_layers", 0)

        self.fp8_block = None
        quant = get("quantization_config")
        if quant is not None:
            if quant.get("quant_method") != "fp8" or quant.get("fmt", "e4m3") != "e4m3":
                raise ReferenceError("config.json: quantization_config other than fp8 e4m3 "
                                     "is not supported")
            self.fp8_block = tuple(int(b) for b in quant.get("weight_block_size", [128, 128]))

    def is_moe_layer(self, i):
        return (self.n_routed_experts is not None and i >= self.first_k_dense_replace
                and i % self.moe_layer_freq == 0)


# ---------------------------------------------------------------------------
# Tensors

def dequantize_fp8(codes, scale_inv, block):
    """float64 value of every e4m3 code times the scale of its block
    (block = (rows, cols); the grid's last row/column of blocks may be
    partial)."""
    codes = np.asarray(codes, dtype=np.uint8)
    scale_inv = np.asarray(scale_inv, dtype=np.float64)
    rows, cols = codes.shape
    br, bc = block
    grid = (-(-rows // br), -(-cols // bc))
    if scale_inv.shape != grid:
        raise ReferenceError(f"scale grid {list(scale_inv.shape)} does not match "
                             f"{list(grid)} for a [{rows}, {cols}] weight in {br}x{bc} blocks")
    values = fp8.decode(codes)
    if np.isnan(values).any():
        raise ReferenceError("FP8 weight holds NaN codes")
    per_element = scale_inv[np.arange(rows)[:, None] // br, np.arange(cols)[None, :] // bc]
    return values * per_element


def to_float64(dtype, raw):
    """Exact float64 values of a tensor's raw storage."""
    if dtype == "BF16":
        return bf16_to_float32(raw).astype(np.float64)
    if dtype in ("F16", "F32", "F64"):
        return raw.astype(np.float64)
    raise ReferenceError(f"dtype {dtype} is not a float type the reference reads")


def weight_files(ckpt_dir):
    """The safetensors files of a checkpoint, and the index's weight map
    (or None): the index if there is one, else model.safetensors, else every
    *.safetensors file."""
    index = os.path.join(ckpt_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        return sorted(set(weight_map.values())), weight_map
    if os.path.exists(os.path.join(ckpt_dir, "model.safetensors")):
        return ["model.safetensors"], None
    files = sorted(n for n in os.listdir(ckpt_dir) if n.endswith(".safetensors"))
    if not files:
        raise ReferenceError(f"{ckpt_dir}: no model.safetensors")
    return files, None


def read_checkpoint_tensors(ckpt_dir, config):
    """{name: float64 array} of every tensor except the multi-token-prediction
    layers; FP8 weights are dequantized and their scales consumed."""
    files, weight_map = weight_files(ckpt_dir)
    raw = {}
    for file in files:
        try:
            _, tensors = read_safetensors(os.path.join(ckpt_dir, file))
        except (SafetensorsError, OSError, ValueError, KeyError, TypeError) as e:
            # The reader's message names the file and the tensor.
            raise ReferenceError(str(e)) from None
        for name, value in tensors.items():
            if name in raw:
                raise ReferenceError(f"tensor '{name}' is in two files")
            if weight_map is not None and weight_map.get(name, file) != file:
                raise ReferenceError(f"tensor '{name}' is in {file}, the index says "
                                     f"{weight_map[name]}")
            raw[name] = value
    if weight_map is not None:
        for name, file in weight_map.items():
            if name not in raw:
                raise ReferenceError(f"tensor '{name}' is missing from {file}")

    def is_mtp(name):
        parts = name.split(".")
        return (len(parts) > 2 and parts[:2] == ["model", "layers"] and parts[2].isdigit()
                and int(parts[2]) >= config.num_hidden_layers)

    out = {}
    for name, (dtype, value) in raw.items():
        if is_mtp(name) or name.endswith("_scale_inv"):
            continue
        if dtype == "F8_E4M3":
            scale_name = name + "_scale_inv"
            if config.fp8_block is None:
                raise ReferenceError(f"tensor '{name}' is F8_E4M3 but config.json has no "
                                     "fp8 quantization_config")
            if scale_name not in raw:
                raise ReferenceError(f"tensor '{scale_name}' is missing from the checkpoint")
            scale_dtype, scale = raw[scale_name]
            try:
                out[name] = dequantize_fp8(value, to_float64(scale_dtype, scale),
                                           config.fp8_block)
            except ReferenceError as e:
                raise ReferenceError(f"tensor '{name}': {e}") from None
        else:
            try:
                out[name] = to_float64(dtype, value)
            except ReferenceError as e:
                raise ReferenceError(f"tensor '{name}': {e}") from None
    return out


# ---------------------------------------------------------------------------
# Building blocks

def rms_norm(x, weight, eps):
    """x * rsqrt(mean(x^2) + eps) * weight over the last axis."""
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def silu(x):
    return x / (1.0 + np.exp(-x))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def swiglu(x, gate, up, down):
    """down(silu(gate(x)) * up(x)), weights [out, in] as stored."""
    return (silu(x @ gate.T) * (x @ up.T)) @ down.T


def rope_frequencies(dim, theta, yarn=None):
    """Angular frequency of each pair i < dim/2: theta^(-2i/dim), corrected
    by YaRN when `yarn` (a Config.yarn dict) is given:
      c(r)   = dim * ln(L0 / (2 pi r)) / (2 ln theta)
      low    = floor(c(beta_fast)), high = ceil(c(beta_slow)), both in [0, dim-1]
      ramp_i = clamp((i - low) / (high - low), 0, 1)     (high += 0.001 if equal)
      smooth = 1 - ramp
      freq   = freq / factor * (1 - smooth) + freq * smooth
    """
    i = np.arange(dim // 2, dtype=np.float64)
    freq = theta ** (-2.0 * i / dim)
    if yarn is None:
        return freq
    low, high = yarn_correction_range(dim, theta, yarn["original_max_position_embeddings"],
                                      yarn["beta_fast"], yarn["beta_slow"])
    smooth = 1.0 - yarn_ramp(low, high, dim // 2)
    return freq / yarn["factor"] * (1.0 - smooth) + freq * smooth


def yarn_correction_range(dim, theta, original_max_positions, beta_fast, beta_slow):
    def correction_dim(rotations):
        return (dim * math.log(original_max_positions / (2.0 * math.pi * rotations))
                / (2.0 * math.log(theta)))

    low = math.floor(correction_dim(beta_fast))
    high = math.ceil(correction_dim(beta_slow))
    return min(max(low, 0), dim - 1), min(max(high, 0), dim - 1)


def yarn_ramp(low, high, n):
    """clamp((i - low) / (high - low), 0, 1) for i < n. With low == high the
    division is by 0.001, as DeepSeek's code does (a step at `low`)."""
    if low == high:
        high = high + 0.001
    return np.clip((np.arange(n, dtype=np.float64) - low) / (high - low), 0.0, 1.0)


def yarn_mscale(factor, mscale):
    """0.1 * mscale * ln(factor) + 1, or 1 when factor <= 1."""
    return 1.0 if factor <= 1.0 else 0.1 * mscale * math.log(factor) + 1.0


def softmax_scale(config):
    """(qk_nope + qk_rope)^-0.5, times m^2 with m = 0.1 mscale_all_dim ln(factor) + 1
    under YaRN."""
    scale = (config.qk_nope_head_dim + config.qk_rope_head_dim) ** -0.5
    if config.yarn is not None:
        m = yarn_mscale(config.yarn["factor"], config.yarn["mscale_all_dim"])
        scale *= m * m
    return scale


def apply_rope(x, positions, freq):
    """Rotates each adjacent pair (x[2i], x[2i+1]) of the last axis by the
    angle position * freq[i]: (x0 + i x1) * e^(i angle) as complex numbers.
    x: [..., T, d]; positions: [T] or broadcastable to x's leading axes + [T]."""
    angle = np.asarray(positions, dtype=np.float64)[..., None] * freq  # [..., T, d/2]
    cos, sin = np.cos(angle), np.sin(angle)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = x0 * cos - x1 * sin
    out[..., 1::2] = x0 * sin + x1 * cos
    return out


# ---------------------------------------------------------------------------
# MoE routing

class RouterSpec:
    """The routing fields of one MoE layer (see `route`)."""

    def __init__(self, num_experts, top_k, scoring_func="softmax", topk_method="greedy",
                 n_group=1, topk_group=1, norm_topk_prob=False, routed_scaling_factor=1.0,
                 model_type="deepseek_v3"):
        self.num_experts = num_experts
        self.top_k = top_k
        self.scoring_func = scoring_func
        self.topk_method = topk_method
        self.n_group = n_group
        self.topk_group = topk_group
        self.norm_topk_prob = norm_topk_prob
        self.routed_scaling_factor = routed_scaling_factor
        self.model_type = model_type

    @classmethod
    def from_config(cls, config):
        return cls(config.n_routed_experts, config.num_experts_per_tok, config.scoring_func,
                   config.topk_method, config.n_group, config.topk_group,
                   config.norm_topk_prob, config.routed_scaling_factor, config.model_type)

    @property
    def renormalize(self):
        return self.norm_topk_prob and self.top_k > 1

    @property
    def scaling(self):
        """The factor the weights are multiplied by. DeepSeek-V2's code
        applies routed_scaling_factor only to weights it did not renormalize;
        V3's always applies it."""
        if self.model_type == "deepseek_v2" and self.renormalize:
            return 1.0
        return self.routed_scaling_factor


def top_k_indices(scores, k):
    """Indices of the k largest entries of each row, largest first; ties go
    to the lower index (a stable sort by (-score, index))."""
    return np.argsort(-scores, axis=-1, kind="stable")[..., :k]


def select_experts(selection, top_k, n_group=1, topk_group=1, group_score="max"):
    """Expert indices [T, top_k] chosen from selection scores [T, E].

    With n_group > 1 the experts form n_group contiguous groups; a group's
    score is its maximum (group_score="max") or the sum of its two largest
    scores ("top2"); the topk_group best groups are kept (ties to the lower
    group) and the others masked to -inf before the top-k."""
    selection = np.asarray(selection, dtype=np.float64)
    tokens, experts = selection.shape
    if n_group > 1:
        grouped = selection.reshape(tokens, n_group, experts // n_group)
        ordered = -np.sort(-grouped, axis=-1)
        if group_score == "top2":
            scores = ordered[..., :2].sum(axis=-1)
        elif group_score == "max":
            scores = ordered[..., 0]
        else:
            raise ValueError(group_score)
        kept = top_k_indices(scores, topk_group)  # [T, topk_group]
        mask = np.ones((tokens, n_group), dtype=bool)
        np.put_along_axis(mask, kept, False, axis=-1)
        selection = np.where(np.repeat(mask, experts // n_group, axis=-1), -np.inf, selection)
    return top_k_indices(selection, top_k)


def route(logits, spec, bias=None):
    """(indices [T, k], weights [T, k]) of router logits [T, E] = h . W_gate^T.

    orig = softmax or sigmoid of the logits; selection = orig + bias (bias
    only with topk_method noaux_tc); groups limit the choice unless the
    method is greedy (group score: sum of top-2 with a bias, else max);
    weights = orig at the picks, divided by their sum if norm_topk_prob and
    top_k > 1, times `spec.scaling`."""
    logits = np.asarray(logits, dtype=np.float64)
    if spec.scoring_func == "softmax":
        orig = softmax(logits)
    elif spec.scoring_func == "sigmoid":
        orig = sigmoid(logits)
    else:
        raise ValueError(spec.scoring_func)
    selection = orig
    if spec.topk_method == "noaux_tc":
        if bias is None:
            raise ReferenceError("topk_method noaux_tc needs e_score_correction_bias")
        selection = orig + bias
    grouped = spec.topk_method != "greedy" and spec.n_group > 1
    indices = select_experts(selection, spec.top_k,
                             spec.n_group if grouped else 1, spec.topk_group,
                             "top2" if spec.topk_method == "noaux_tc" else "max")
    weights = np.take_along_axis(orig, indices, axis=-1)
    if spec.renormalize:
        weights = weights / weights.sum(axis=-1, keepdims=True)
    return indices, weights * spec.scaling


# ---------------------------------------------------------------------------
# The model

class Cache:
    """The MLA cache: per layer, the normalized latent c_kv [B, S, kv_lora_rank]
    and the roped k_pe [B, S, qk_rope_head_dim] of every position so far.
    All rows hold the same number of positions (lock-step batch)."""

    def __init__(self, num_layers):
        self.c_kv = [None] * num_layers
        self.k_pe = [None] * num_layers

    @property
    def length(self):
        return 0 if self.c_kv[0] is None else self.c_kv[0].shape[1]

    def append(self, layer, c_kv, k_pe):
        """Adds the new positions of a layer; returns the whole (c_kv, k_pe)."""
        if self.c_kv[layer] is None:
            self.c_kv[layer], self.k_pe[layer] = c_kv, k_pe
        else:
            self.c_kv[layer] = np.concatenate([self.c_kv[layer], c_kv], axis=1)
            self.k_pe[layer] = np.concatenate([self.k_pe[layer], k_pe], axis=1)
        return self.c_kv[layer], self.k_pe[layer]


class Model:
    def __init__(self, config, tensors):
        self.config = config
        self.tensors = tensors
        self.freq = rope_frequencies(config.qk_rope_head_dim, config.rope_theta, config.yarn)
        self.softmax_scale = softmax_scale(config)
        self.embed = self.weight("model.embed_tokens.weight")
        self.norm = self.weight("model.norm.weight")
        if "lm_head.weight" in tensors:
            self.lm_head = self.weight("lm_head.weight")
        elif config.tie_word_embeddings:
            self.lm_head = self.embed
        else:
            raise ReferenceError("tensor 'lm_head.weight' is missing from the checkpoint")
        self.router = RouterSpec.from_config(config) if config.n_routed_experts else None
        # Every weight the forward pass uses, checked up front.
        shapes = {"model.embed_tokens.weight": [config.vocab_size, config.hidden_size],
                  "model.norm.weight": [config.hidden_size]}
        for layer in range(config.num_hidden_layers):
            shapes.update(self.layer_weight_shapes(layer))
        for name, shape in shapes.items():
            if list(self.weight(name).shape) != shape:
                raise ReferenceError(f"tensor '{name}' has shape {list(self.weight(name).shape)}"
                                     f" but config.json needs {shape}")
        if list(self.lm_head.shape) != shapes["model.embed_tokens.weight"]:
            raise ReferenceError(f"tensor 'lm_head.weight' has shape {list(self.lm_head.shape)}"
                                 f" but config.json needs {shapes['model.embed_tokens.weight']}")

    def weight(self, name):
        if name not in self.tensors:
            raise ReferenceError(f"tensor '{name}' is missing from the checkpoint")
        return self.tensors[name]

    def layer_weight_shapes(self, layer):
        """{name: shape} of the weights of one layer, from config.json."""
        c = self.config
        D, H = c.hidden_size, c.num_heads
        qk = c.qk_nope_head_dim + c.qk_rope_head_dim
        p = f"model.layers.{layer}."
        a = p + "self_attn."
        shapes = {p + "input_layernorm.weight": [D], p + "post_attention_layernorm.weight": [D]}
        if c.q_lora_rank is None:
            shapes[a + "q_proj.weight"] = [H * qk, D]
        else:
            shapes.update({a + "q_a_proj.weight": [c.q_lora_rank, D],
                           a + "q_a_layernorm.weight": [c.q_lora_rank],
                           a + "q_b_proj.weight": [H * qk, c.q_lora_rank]})
        shapes.update({
            a + "kv_a_proj_with_mqa.weight": [c.kv_lora_rank + c.qk_rope_head_dim, D],
            a + "kv_a_layernorm.weight": [c.kv_lora_rank],
            a + "kv_b_proj.weight": [H * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank],
            a + "o_proj.weight": [D, H * c.v_head_dim]})

        def mlp(prefix, width):
            shapes.update({prefix + "gate_proj.weight": [width, D],
                           prefix + "up_proj.weight": [width, D],
                           prefix + "down_proj.weight": [D, width]})

        if not c.moe_layers[layer]:
            mlp(p + "mlp.", c.intermediate_size)
        else:
            shapes[p + "mlp.gate.weight"] = [c.n_routed_experts, D]
            if c.topk_method == "noaux_tc":
                shapes[p + "mlp.gate.e_score_correction_bias"] = [c.n_routed_experts]
            for e in range(c.n_routed_experts):
                mlp(f"{p}mlp.experts.{e}.", c.moe_intermediate_size)
            if c.n_shared_experts:
                mlp(p + "mlp.shared_experts.", c.n_shared_experts * c.moe_intermediate_size)
        return shapes

    # -- attention ----------------------------------------------------------

    def attention(self, layer, h, positions, cache, absorbed):
        """MLA of the new tokens h [B, T, D] at `positions` [T], attending to
        the cached positions and causally to each other."""
        c = self.config
        a = f"model.layers.{layer}.self_attn."
        B, T, _ = h.shape
        H, nope, rope, vdim = c.num_heads, c.qk_nope_head_dim, c.qk_rope_head_dim, c.v_head_dim
        eps = c.rms_norm_eps

        if c.q_lora_rank is None:
            q = h @ self.weight(a + "q_proj.weight").T
        else:
            q = rms_norm(h @ self.weight(a + "q_a_proj.weight").T,
                         self.weight(a + "q_a_layernorm.weight"), eps)
            q = q @ self.weight(a + "q_b_proj.weight").T
        q = q.reshape(B, T, H, nope + rope)
        q_nope = q[..., :nope]
        q_pe = apply_rope(q[..., nope:].transpose(0, 2, 1, 3), positions, self.freq)
        q_pe = q_pe.transpose(0, 2, 1, 3)  # [B, T, H, rope]

        kv = h @ self.weight(a + "kv_a_proj_with_mqa.weight").T  # [B, T, r + rope]
        c_kv = rms_norm(kv[..., :c.kv_lora_rank], self.weight(a + "kv_a_layernorm.weight"), eps)
        k_pe = apply_rope(kv[..., c.kv_lora_rank:], positions, self.freq)
        c_all, k_pe_all = cache.append(layer, c_kv, k_pe)  # [B, S, r], [B, S, rope]
        S = c_all.shape[1]

        w_kv_b = self.weight(a + "kv_b_proj.weight").reshape(H, nope + vdim, c.kv_lora_rank)
        w_uk, w_uv = w_kv_b[:, :nope], w_kv_b[:, nope:]  # [H, nope, r], [H, v, r]

        rope_scores = np.einsum("bthp,bsp->bhts", q_pe, k_pe_all)
        if absorbed:
            q_lat = np.einsum("bthn,hnr->bthr", q_nope, w_uk)
            scores = np.einsum("bthr,bsr->bhts", q_lat, c_all) + rope_scores
        else:
            k_nope = np.einsum("bsr,hnr->bhsn", c_all, w_uk)
            scores = np.einsum("bthn,bhsn->bhts", q_nope, k_nope) + rope_scores
        scores = scores * self.softmax_scale
        # New token t sits at cache index S - T + t and sees indices <= that.
        visible = np.arange(S)[None, :] <= (S - T + np.arange(T))[:, None]  # [T, S]
        probs = softmax(np.where(visible, scores, -np.inf))
        if absorbed:
            o_lat = np.einsum("bhts,bsr->bthr", probs, c_all)
            o = np.einsum("bthr,hvr->bthv", o_lat, w_uv)
        else:
            v = np.einsum("bsr,hvr->bhsv", c_all, w_uv)
            o = np.einsum("bhts,bhsv->bthv", probs, v)
        return o.reshape(B, T, H * vdim) @ self.weight(a + "o_proj.weight").T

    # -- feed-forward -------------------------------------------------------

    def dense_mlp(self, layer, x):
        p = f"model.layers.{layer}.mlp."
        return swiglu(x, self.weight(p + "gate_proj.weight"), self.weight(p + "up_proj.weight"),
                      self.weight(p + "down_proj.weight"))

    def moe(self, layer, x):
        """Routed experts weighted by the router plus the unweighted shared
        experts, for x [N, D]."""
        c = self.config
        p = f"model.layers.{layer}.mlp."
        bias = (self.weight(p + "gate.e_score_correction_bias")
                if c.topk_method == "noaux_tc" else None)
        indices, weights = route(x @ self.weight(p + "gate.weight").T, self.router, bias)
        out = np.zeros_like(x)
        for e in range(c.n_routed_experts):
            token, slot = np.nonzero(indices == e)
            if token.size == 0:
                continue
            e_out = swiglu(x[token], self.weight(f"{p}experts.{e}.gate_proj.weight"),
                           self.weight(f"{p}experts.{e}.up_proj.weight"),
                           self.weight(f"{p}experts.{e}.down_proj.weight"))
            np.add.at(out, token, weights[token, slot][:, None] * e_out)
        if c.n_shared_experts:
            out = out + swiglu(x, self.weight(p + "shared_experts.gate_proj.weight"),
                               self.weight(p + "shared_experts.up_proj.weight"),
                               self.weight(p + "shared_experts.down_proj.weight"))
        return out

    # -- whole model --------------------------------------------------------

    def forward(self, tokens, start_positions=0, cache=None, absorbed=False):
        """float64 logits [B, T, vocab] of tokens [B, T] placed at positions
        start .. start+T-1, after the `cache.length` positions already in
        `cache` (which gets the new ones). start_positions is an int or one
        value per row; rows run in lock-step, so all must equal the cache's
        length. absorbed selects the absorbed MLA form."""
        c = self.config
        tokens = np.asarray(tokens)
        if tokens.ndim != 2 or not np.issubdtype(tokens.dtype, np.integer):
            raise ReferenceError(f"tokens must be integer [batch, length], got {tokens.dtype} "
                                 f"{list(tokens.shape)}")
        if tokens.size and (tokens.min() < 0 or tokens.max() >= c.vocab_size):
            raise ReferenceError(f"token ids must be in [0, {c.vocab_size})")
        if cache is None:
            cache = Cache(c.num_hidden_layers)
        starts = np.broadcast_to(np.asarray(start_positions), (tokens.shape[0],))
        if np.any(starts != cache.length):
            raise ReferenceError(f"start positions {starts.tolist()} differ from the cache "
                                 f"length {cache.length} (rows run in lock-step)")
        B, T = tokens.shape
        positions = cache.length + np.arange(T)
        x = self.embed[tokens]
        for layer in range(c.num_hidden_layers):
            p = f"model.layers.{layer}."
            h = rms_norm(x, self.weight(p + "input_layernorm.weight"), c.rms_norm_eps)
            x = x + self.attention(layer, h, positions, cache, absorbed)
            h = rms_norm(x, self.weight(p + "post_attention_layernorm.weight"), c.rms_norm_eps)
            if c.moe_layers[layer]:
                x = x + self.moe(layer, h.reshape(B * T, -1)).reshape(B, T, -1)
            else:
                x = x + self.dense_mlp(layer, h)
        return rms_norm(x, self.norm, c.rms_norm_eps) @ self.lm_head.T


def load(ckpt_dir):
    """A Model of the checkpoint in ckpt_dir (config.json + safetensors)."""
    path = os.path.join(ckpt_dir, "config.json")
    try:
        with open(path) as f:
            raw = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ReferenceError(f"config.json: {e}") from None
    config = Config(raw)
    return Model(config, read_checkpoint_tensors(ckpt_dir, config))


def generate(model, prompt, max_new_tokens, greedy=True, temperature=1.0, seed=0,
             absorbed=False, logits_dtype=np.float32):
    """(tokens int64 [B, N], logits [N, B, vocab]) continuing prompt [B, P].

    Token 0 is chosen from the prompt's last position, token i from the
    decode step that fed token i-1; logits[i] holds the logits token i was
    chosen from. Greedy takes the argmax (ties to the lower id); otherwise
    tokens are drawn from softmax(logits / temperature) with numpy's PCG64
    seeded by `seed` (not lathe-run's random stream). Rows run in lock-step."""
    prompt = np.asarray(prompt)
    if prompt.ndim != 2 or prompt.shape[1] == 0:
        raise ReferenceError(f"prompt must be [batch, prompt_len > 0], got shape "
                             f"{list(prompt.shape)}")
    if not greedy and not temperature > 0:
        raise ReferenceError("temperature must be > 0")
    B = prompt.shape[0]
    rng = np.random.default_rng(seed)
    cache = Cache(model.config.num_hidden_layers)
    tokens = np.zeros((B, max_new_tokens), dtype=np.int64)
    logits = np.zeros((max_new_tokens, B, model.config.vocab_size), dtype=logits_dtype)
    feed = prompt
    for i in range(max_new_tokens):
        step = model.forward(feed, cache.length, cache, absorbed)[:, -1]  # [B, vocab]
        if greedy:
            tokens[:, i] = np.argmax(step, axis=-1)
        else:
            probs = softmax(step / temperature)
            tokens[:, i] = [rng.choice(probs.shape[-1], p=row) for row in probs]
        logits[i] = step
        feed = tokens[:, i:i + 1]
    return tokens, logits


# ---------------------------------------------------------------------------
# CLI

def read_prompt(path):
    try:
        prompt = np.load(path)
    except (OSError, ValueError) as e:
        raise ReferenceError(f"{path}: {e}") from None
    if prompt.dtype not in (np.int32, np.int64) or prompt.ndim != 2:
        raise ReferenceError(f"{path}: prompt tokens must be int32 or int64 [batch, prompt_len], "
                             f"got {prompt.dtype} {list(prompt.shape)}")
    return prompt.astype(np.int64)


def main(argv):
    parser = argparse.ArgumentParser(prog="deepseek_ref.py",
                                     description="float64 reference of the DeepSeek-V2/V3 "
                                                 "forward pass (see tests/reference/README.md)")
    parser.add_argument("ckpt_dir", metavar="CKPT_DIR")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="greedy or sampled continuation, as lathe-run")
    gen.add_argument("--prompt-tokens", required=True, metavar="P.npy")
    gen.add_argument("--max-new-tokens", required=True, type=int, metavar="N")
    mode = gen.add_mutually_exclusive_group()
    mode.add_argument("--greedy", action="store_true", help="argmax (the default)")
    mode.add_argument("--temperature", type=float, metavar="T")
    gen.add_argument("--seed", type=int, default=0, metavar="S")
    gen.add_argument("--output-tokens", metavar="T.npy", help="int64 [batch, N]")
    gen.add_argument("--output-logits", metavar="L.npy", help="float32 [N, batch, vocab]")
    fwd = sub.add_parser("forward", help="logits of every prompt position")
    fwd.add_argument("--prompt-tokens", required=True, metavar="P.npy")
    fwd.add_argument("--output-logits", required=True, metavar="L.npy",
                     help="float64 [batch, prompt_len, vocab]")
    for p in (gen, fwd):
        p.add_argument("--absorbed", action="store_true",
                       help="absorbed MLA (q_nope . W_UK against the latent cache) "
                            "instead of up-projected keys and values")
    args = parser.parse_args(argv)
    try:
        prompt = read_prompt(args.prompt_tokens)
        model = load(args.ckpt_dir)
        if args.command == "forward":
            logits = model.forward(prompt, absorbed=args.absorbed)
            np.save(args.output_logits, logits)
            return 0
        if args.max_new_tokens < 0:
            raise ReferenceError("--max-new-tokens must be >= 0")
        greedy = args.temperature is None
        tokens, logits = generate(model, prompt, args.max_new_tokens, greedy=greedy,
                                  temperature=args.temperature, seed=args.seed,
                                  absorbed=args.absorbed)
        if args.output_tokens:
            np.save(args.output_tokens, tokens)
        if args.output_logits:
            np.save(args.output_logits, logits)
        if not args.output_tokens and not args.output_logits:
            print(tokens)
        return 0
    except (ReferenceError, OSError) as e:
        print(f"deepseek_ref.py: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
