#!/usr/bin/python3
"""Eager PyTorch DeepSeek-V2/V3 model: the peer that bench/cpu measures
lathe against.

Written the way people run these models on a CPU today: Hugging Face
`modeling_deepseek.py`-style torch.nn modules (RMSNorm, MLA attention with
the up-projected key/value cache, a MoE that loops over the experts that got
tokens), eager mode, float32 compute. Semantics follow the project's
REFERENCE.md exactly (the checks of check_torch_peer.py hold it to
tests/reference/deepseek_ref.py):

  - weights: read from the safetensors checkpoint with
    tests/models/safetensors_io.py and converted once to float32 (bf16
    exactly; FP8 e4m3 dequantized with its block scales), as lathe's CPU
    target computes in float32 from bf16 weights;
  - KV cache: per layer the up-projected keys [B, H, S, nope + rope] and
    values [B, H, S, v_head_dim], as HF's DeepSeek code caches them, but
    preallocated for the whole run (HF's StaticCache) instead of grown with
    torch.cat every step, so the peer does not pay for copying its cache;
  - router: sigmoid or softmax scores, e_score_correction_bias for choosing
    only (noaux_tc), group score = top-2 sum (max without a bias), masked
    groups at -inf (HF masks with 0.0, which REFERENCE.md does not), weights
    renormalized and scaled as REFERENCE.md / deepseek_ref.py say (V2's
    renormalized weights are not scaled);
  - RoPE on adjacent pairs (2i, 2i+1) with YaRN frequencies, softmax scale
    times mscale^2, no mscale factor on cos/sin (equal to HF's when
    mscale == mscale_all_dim, as in every published config);
  - logits only for the positions that choose a token (the last one).

CLI (what bench_cpu.py runs; prints one JSON object, times in seconds):

  torch_deepseek.py CKPT_DIR [--threads=T] [--prefill-lens=128,512]
                    [--decode-prompt-len=128] [--decode-tokens=N]
                    [--batches=1,4] [--repeat=R] [--plain-linear]

  prefill: batch 1, a fresh cache, one forward over P prompt tokens;
           tokens/s = P / median time.
  decode:  batch B, after an untimed prefill of the prompt, N greedy steps
           of one token per row; tokens/s = B * N / median time.
  One untimed warm-up run precedes each measurement's R timed runs.

Module API: `load(ckpt_dir)` -> DeepseekForCausalLM; `model.generate(prompt,
n)` -> (tokens int64 [B, n], logits float32 [n, B, vocab]) as
deepseek_ref.generate; `model.new_cache(batch, max_len)`,
`model.forward(tokens, cache)` -> float32 logits [B, vocab] of the last
position, for timing prefill and decode separately.

Needs torch (Debian's python3-torch; bench/cpu/setup.sh) and numpy.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.dont_write_bytecode = True
_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(_ROOT, "tests", "models"))
import fp8  # noqa: E402
from safetensors_io import bf16_to_float32, read_safetensors  # noqa: E402


# ---------------------------------------------------------------------------
# Checkpoint

def read_config(ckpt_dir):
    with open(os.path.join(ckpt_dir, "config.json")) as f:
        return json.load(f)


def read_weights(ckpt_dir, num_layers):
    """{name: float32 torch tensor} of every weight except the
    multi-token-prediction layers; FP8 weights dequantized."""
    index = os.path.join(ckpt_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    raw = {}
    for file in files:
        raw.update(read_safetensors(os.path.join(ckpt_dir, file))[1])
    out = {}
    for name, (dtype, value) in raw.items():
        parts = name.split(".")
        if name.endswith("_scale_inv") or (
                parts[:2] == ["model", "layers"] and int(parts[2]) >= num_layers):
            continue
        if dtype == "BF16":
            array = bf16_to_float32(value)
        elif dtype == "F8_E4M3":
            scale = raw[name + "_scale_inv"][1]
            array = fp8.dequantize_blocks(value, scale).astype(np.float32)
        else:
            array = value.astype(np.float32)
        out[name] = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    return out


# ---------------------------------------------------------------------------
# Modules

class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim), requires_grad=False)
        self.eps = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(variance + self.eps) * self.weight


class Linear(nn.Linear):
    """nn.Linear without bias whose one-row products go through torch.mv
    (BLAS gemv). Debian 12's OpenBLAS 0.3.21 runs a one-row sgemm by packing
    the whole weight, 4-10x slower than gemv on this model's matrices;
    MKL and OpenBLAS >= 0.3.27 forward such a gemm to gemv themselves, so
    this keeps the peer from paying for an old library's cliff in batch-1
    decode. The arithmetic is the same product."""

    def __init__(self, in_features, out_features):
        super().__init__(in_features, out_features, bias=False)
        self.weight.requires_grad_(False)

    def forward(self, x):
        if ONE_ROW_GEMV and x.numel() == x.shape[-1]:
            return torch.mv(self.weight, x.reshape(-1)).view(*x.shape[:-1], -1)
        return F.linear(x, self.weight)


# Set to False to time plain nn.Linear (torch_deepseek.py --plain-linear).
ONE_ROW_GEMV = True


def linear(in_features, out_features):
    return Linear(in_features, out_features)


class MLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x))."""

    def __init__(self, hidden, width):
        super().__init__()
        self.gate_proj = linear(hidden, width)
        self.up_proj = linear(hidden, width)
        self.down_proj = linear(width, hidden)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


def yarn_mscale(factor, mscale):
    return 1.0 if factor <= 1.0 else 0.1 * mscale * math.log(factor) + 1.0


def rope_frequencies(c):
    """theta^(-2i/d), YaRN-corrected when rope_scaling is yarn (float64)."""
    dim, theta = c["qk_rope_head_dim"], float(c.get("rope_theta", 10000.0))
    freq = theta ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)
    scaling = c.get("rope_scaling")
    if not scaling:
        return freq
    factor = float(scaling["factor"])
    original = scaling["original_max_position_embeddings"]

    def correction_dim(rotations):
        return dim * math.log(original / (2 * math.pi * rotations)) / (2 * math.log(theta))

    low = max(math.floor(correction_dim(scaling.get("beta_fast", 32))), 0)
    high = min(math.ceil(correction_dim(scaling.get("beta_slow", 1))), dim - 1)
    low = min(low, dim - 1)
    high = max(high, 0)
    if low == high:
        high += 0.001
    ramp = np.clip((np.arange(dim // 2, dtype=np.float64) - low) / (high - low), 0, 1)
    smooth = 1.0 - ramp
    return freq / factor * (1 - smooth) + freq * smooth


def apply_rope(x, cos, sin):
    """Rotates the adjacent pairs (x[2i], x[2i+1]) of the last axis.
    x [..., T, d]; cos, sin [T, d/2]."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


class Attention(nn.Module):
    """Multi-head latent attention, up-projected (HF's DeepseekV3Attention)."""

    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.nope, self.rope = c["qk_nope_head_dim"], c["qk_rope_head_dim"]
        self.v_dim, self.kv_rank = c["v_head_dim"], c["kv_lora_rank"]
        self.q_rank = c.get("q_lora_rank")
        eps = c.get("rms_norm_eps", 1e-6)
        qk = self.nope + self.rope
        if self.q_rank is None:
            self.q_proj = linear(h, self.heads * qk)
        else:
            self.q_a_proj = linear(h, self.q_rank)
            self.q_a_layernorm = RMSNorm(self.q_rank, eps)
            self.q_b_proj = linear(self.q_rank, self.heads * qk)
        self.kv_a_proj_with_mqa = linear(h, self.kv_rank + self.rope)
        self.kv_a_layernorm = RMSNorm(self.kv_rank, eps)
        self.kv_b_proj = linear(self.kv_rank, self.heads * (self.nope + self.v_dim))
        self.o_proj = linear(self.heads * self.v_dim, h)
        self.softmax_scale = qk ** -0.5
        scaling = c.get("rope_scaling")
        if scaling:
            m = yarn_mscale(float(scaling["factor"]), float(scaling.get("mscale_all_dim", 0)))
            self.softmax_scale *= m * m

    def forward(self, x, cos, sin, cache, layer):
        B, T, _ = x.shape
        H, nope, rope = self.heads, self.nope, self.rope
        if self.q_rank is None:
            q = self.q_proj(x)
        else:
            q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x)))
        q = q.view(B, T, H, nope + rope).transpose(1, 2)  # [B, H, T, qk]
        q_nope, q_pe = q[..., :nope], q[..., nope:]
        kv = self.kv_a_proj_with_mqa(x)
        c_kv, k_pe = kv[..., :self.kv_rank], kv[..., self.kv_rank:]
        k_pe = apply_rope(k_pe.view(B, 1, T, rope), cos, sin)  # one head, shared
        kv = self.kv_b_proj(self.kv_a_layernorm(c_kv))
        kv = kv.view(B, T, H, nope + self.v_dim).transpose(1, 2)
        k_nope, v = kv[..., :nope], kv[..., nope:]
        q_pe = apply_rope(q_pe, cos, sin)

        start = cache.length
        S = start + T
        keys, values = cache.keys[layer], cache.values[layer]
        keys[:B, :, start:S, :nope] = k_nope
        keys[:B, :, start:S, nope:] = k_pe
        values[:B, :, start:S] = v
        q = torch.cat((q_nope, q_pe), dim=-1)
        scores = torch.matmul(q, keys[:B, :, :S].transpose(2, 3)) * self.softmax_scale
        if T > 1:
            # New token t sits at cache index start + t and sees indices <= it.
            visible = (torch.arange(S)[None, :] <= (start + torch.arange(T))[:, None])
            scores = scores.masked_fill(~visible, float("-inf"))
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
        o = torch.matmul(probs, values[:B, :, :S])  # [B, H, T, v]
        return self.o_proj(o.transpose(1, 2).reshape(B, T, H * self.v_dim))


class MoEGate(nn.Module):
    """The router of REFERENCE.md step 7."""

    def __init__(self, c):
        super().__init__()
        self.experts = c["n_routed_experts"]
        self.top_k = c["num_experts_per_tok"]
        self.scoring = c.get("scoring_func", "softmax")
        self.method = c.get("topk_method", "greedy")
        grouped = self.method != "greedy" and c.get("n_group", 1) > 1
        self.n_group = c.get("n_group", 1) if grouped else 1
        self.topk_group = c.get("topk_group", 1) if grouped else 1
        renorm = bool(c.get("norm_topk_prob", False)) and self.top_k > 1
        self.renormalize = renorm
        factor = float(c.get("routed_scaling_factor", 1.0))
        # DeepSeek-V2's code scales only weights it did not renormalize.
        self.scaling = 1.0 if (c["model_type"] == "deepseek_v2" and renorm) else factor
        self.weight = nn.Parameter(torch.empty(self.experts, c["hidden_size"]),
                                   requires_grad=False)
        if self.method == "noaux_tc":
            self.e_score_correction_bias = nn.Parameter(torch.zeros(self.experts),
                                                        requires_grad=False)

    def forward(self, x):
        """(indices [N, k], weights [N, k]) for x [N, hidden]."""
        logits = F.linear(x, self.weight)
        orig = logits.sigmoid() if self.scoring == "sigmoid" else logits.softmax(dim=-1)
        choice = orig
        if self.method == "noaux_tc":
            choice = orig + self.e_score_correction_bias
        if self.n_group > 1:
            N = x.shape[0]
            grouped = choice.view(N, self.n_group, -1)
            if self.method == "noaux_tc":
                group_scores = grouped.topk(2, dim=-1).values.sum(dim=-1)
            else:
                group_scores = grouped.max(dim=-1).values
            kept = group_scores.topk(self.topk_group, dim=-1).indices
            mask = torch.ones(N, self.n_group, dtype=torch.bool).scatter_(1, kept, False)
            choice = choice.masked_fill(
                mask.repeat_interleave(self.experts // self.n_group, dim=1), float("-inf"))
        indices = choice.topk(self.top_k, dim=-1).indices
        weights = orig.gather(1, indices)
        if self.renormalize:
            weights = weights / weights.sum(dim=-1, keepdim=True)
        return indices, weights * self.scaling


class MoE(nn.Module):
    """Routed experts, each run on the tokens routed to it, plus the
    unweighted shared experts (HF's DeepseekV3MoE.moe_infer)."""

    def __init__(self, c):
        super().__init__()
        h, width = c["hidden_size"], c["moe_intermediate_size"]
        self.gate = MoEGate(c)
        self.experts = nn.ModuleList(MLP(h, width) for _ in range(c["n_routed_experts"]))
        shared = c.get("n_shared_experts") or 0
        self.shared_experts = MLP(h, shared * width) if shared else None

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        indices, weights = self.gate(x)
        out = torch.zeros_like(x)
        flat = indices.flatten()
        order = flat.argsort()
        counts = torch.bincount(flat, minlength=len(self.experts)).tolist()
        token_of = order // indices.shape[1]
        weight_of = weights.flatten()[order]
        begin = 0
        for e, count in enumerate(counts):
            if count == 0:
                continue
            tokens = token_of[begin:begin + count]
            y = self.experts[e](x[tokens]) * weight_of[begin:begin + count, None]
            out.index_add_(0, tokens, y)
            begin += count
        if self.shared_experts is not None:
            out = out + self.shared_experts(x)
        return out.view(shape)


class DecoderLayer(nn.Module):
    def __init__(self, c, layer):
        super().__init__()
        eps = c.get("rms_norm_eps", 1e-6)
        self.input_layernorm = RMSNorm(c["hidden_size"], eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], eps)
        moe = (c.get("n_routed_experts") and layer >= c.get("first_k_dense_replace", 0)
               and layer % c.get("moe_layer_freq", 1) == 0)
        self.mlp = MoE(c) if moe else MLP(c["hidden_size"], c["intermediate_size"])

    def forward(self, x, cos, sin, cache, layer):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, cache, layer)
        return x + self.mlp(self.post_attention_layernorm(x))


class Cache:
    """Preallocated up-projected keys and values of every layer."""

    def __init__(self, c, batch, max_len):
        H = c["num_attention_heads"]
        qk = c["qk_nope_head_dim"] + c["qk_rope_head_dim"]
        layers = c["num_hidden_layers"]
        self.keys = [torch.zeros(batch, H, max_len, qk) for _ in range(layers)]
        self.values = [torch.zeros(batch, H, max_len, c["v_head_dim"]) for _ in range(layers)]
        self.length = 0
        self.max_len = max_len


class DeepseekModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.embed_tokens.weight.requires_grad_(False)
        self.layers = nn.ModuleList(DecoderLayer(c, i) for i in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c.get("rms_norm_eps", 1e-6))


class DeepseekForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.model = DeepseekModel(c)
        self.lm_head = linear(c["hidden_size"], c["vocab_size"])
        freq = rope_frequencies(c)
        self.register_buffer("freq", torch.from_numpy(freq), persistent=False)

    def new_cache(self, batch, max_len):
        return Cache(self.config, batch, max_len)

    def forward(self, tokens, cache):
        """float32 logits [B, vocab] of the last of tokens [B, T], which
        follow the cache's positions (and are appended to it)."""
        B, T = tokens.shape
        if cache.length + T > cache.max_len:
            raise ValueError(f"cache of {cache.max_len} positions is full")
        positions = torch.arange(cache.length, cache.length + T, dtype=torch.float64)
        angle = positions[:, None] * self.freq[None, :]
        cos, sin = angle.cos().float(), angle.sin().float()
        x = self.model.embed_tokens(tokens)
        for i, layer in enumerate(self.model.layers):
            x = layer(x, cos, sin, cache, i)
        cache.length += T
        return self.lm_head(self.model.norm(x[:, -1]))

    def generate(self, prompt, max_new_tokens):
        """Greedy continuation of prompt [B, P] (numpy or torch ints):
        (tokens int64 [B, N], logits float32 [N, B, vocab]), entry i holding
        the logits token i was chosen from."""
        prompt = torch.as_tensor(np.asarray(prompt), dtype=torch.int64)
        B = prompt.shape[0]
        cache = self.new_cache(B, prompt.shape[1] + max_new_tokens)
        tokens = torch.zeros(B, max_new_tokens, dtype=torch.int64)
        logits = torch.zeros(max_new_tokens, B, self.config["vocab_size"])
        feed = prompt
        for i in range(max_new_tokens):
            step = self.forward(feed, cache)
            logits[i] = step
            tokens[:, i] = step.argmax(dim=-1)
            feed = tokens[:, i:i + 1]
        return tokens.numpy(), logits.numpy()


def load(ckpt_dir):
    """The model of a checkpoint directory, weights in float32, in eval mode."""
    c = read_config(ckpt_dir)
    model = DeepseekForCausalLM(c)
    weights = read_weights(ckpt_dir, c["num_hidden_layers"])
    state = model.state_dict()
    missing = sorted(set(state) - set(weights))
    extra = sorted(set(weights) - set(state))
    if missing or extra:
        raise ValueError(f"{ckpt_dir}: checkpoint and model disagree: missing {missing[:4]}, "
                         f"unexpected {extra[:4]}")
    for name, value in weights.items():
        if tuple(state[name].shape) != tuple(value.shape):
            raise ValueError(f"tensor '{name}': shape {list(value.shape)}, model needs "
                             f"{list(state[name].shape)}")
    model.load_state_dict(weights, strict=True)
    return model.eval()


# ---------------------------------------------------------------------------
# Benchmark CLI

def blas_library():
    """The BLAS shared object this process has mapped (torch's float32
    matmuls go through it: Debian's torch is built with BLAS_INFO=generic)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.lower()}
    except OSError:
        return "unknown"
    paths = sorted(p for p in paths if p.startswith("/"))
    return ", ".join(paths) or "none mapped"


def time_runs(run, repeat):
    """[seconds] of `repeat` timed calls of run(), which returns its own
    timed span, after one warm-up call."""
    run()
    return [run() for _ in range(repeat)]


def bench_prefill(model, prompt_len, repeat):
    vocab = model.config["vocab_size"]
    prompt = torch.from_numpy(np.random.default_rng(1).integers(0, vocab, (1, prompt_len)))

    def run():
        cache = model.new_cache(1, prompt_len)
        begin = time.perf_counter()
        model.forward(prompt, cache)
        return time.perf_counter() - begin

    times = time_runs(run, repeat)
    return {"batch": 1, "prompt_len": prompt_len, "seconds": times,
            "tokens_per_s": prompt_len / statistics.median(times)}


def bench_decode(model, batch, prompt_len, tokens, repeat):
    vocab = model.config["vocab_size"]
    prompt = torch.from_numpy(np.random.default_rng(2).integers(0, vocab, (batch, prompt_len)))

    def run():
        cache = model.new_cache(batch, prompt_len + tokens)
        feed = model.forward(prompt, cache).argmax(dim=-1, keepdim=True)
        begin = time.perf_counter()
        for _ in range(tokens):
            feed = model.forward(feed, cache).argmax(dim=-1, keepdim=True)
        return time.perf_counter() - begin

    times = time_runs(run, repeat)
    return {"batch": batch, "prompt_len": prompt_len, "decode_tokens": tokens,
            "seconds": times, "tokens_per_s": batch * tokens / statistics.median(times)}


def int_list(text):
    values = [int(v) for v in text.split(",") if v]
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def main(argv):
    parser = argparse.ArgumentParser(
        prog="torch_deepseek.py", description=__doc__.split("\n\n")[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ckpt", metavar="CKPT_DIR")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--prefill-lens", type=int_list, default=[128, 512])
    parser.add_argument("--decode-prompt-len", type=int, default=128)
    parser.add_argument("--decode-tokens", type=int, default=32)
    parser.add_argument("--batches", type=int_list, default=[1, 4])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plain-linear", action="store_true",
                        help="one-row products through F.linear (sgemm) too, not gemv")
    args = parser.parse_args(argv)
    global ONE_ROW_GEMV
    ONE_ROW_GEMV = not args.plain_linear
    torch.set_num_threads(args.threads)
    begin = time.perf_counter()
    model = load(args.ckpt)
    load_seconds = time.perf_counter() - begin
    with torch.inference_mode():
        prefill = [bench_prefill(model, p, args.repeat) for p in args.prefill_lens]
        decode = [bench_decode(model, b, args.decode_prompt_len, args.decode_tokens, args.repeat)
                  for b in args.batches]
    print(json.dumps({
        "implementation": "eager PyTorch, float32 compute from the checkpoint's weights, "
                          "up-projected K/V cache, per-expert loop",
        "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(),
        "one_row_gemv": ONE_ROW_GEMV,
        "load_seconds": load_seconds, "prefill": prefill, "decode": decode}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
