#!/usr/bin/python3
"""End-to-end numerics of the CPU target: checkpoint -> lathe-compile ->
lathe-run generate, against the float64 reference of tests/reference.

usage: e2e_generate.py --build-dir DIR --flavour {v3,v2-lite,v3-fp8}
                       [--skip-pass PASS] [--seed N] [--keep DIR]

For one tiny checkpoint flavour (tests/models/make_tiny_checkpoint.py), the
bundle generates greedily from random prompts -- batch 1 and 2, prompts of
1, 6 and 19 tokens, decode running well past the prompt -- and must choose
exactly the reference's tokens, with every step's logits within 1e-4
relative L2 of the reference's (float64, the same weights). `lathe-run call
prefill` gives the reference's last-position logits, and sampling with a
seed repeats itself. The prompt seed is printed; --seed (or LATHE_E2E_SEED)
picks another. --skip-pass compiles without that optional graph pass
(lathe-fuse-moe-routing: the MoE blocks lowered unfused), which must hold
to the same reference.

numpy only; exit status 0 when every case holds.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import deepseek_ref as ref  # noqa: E402

# (batch, prompt length, new tokens): decode runs several times the prompt.
CASES = [(1, 1, 12), (1, 6, 20), (2, 19, 24), (2, 6, 10)]
TOLERANCE = 1e-4


def run(cmd):
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise SystemExit(f"FAILED ({result.returncode}): {' '.join(cmd)}\n{result.stderr}")
    return result


def relative_l2(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def check_case(tools, bundle, model, work, batch, prompt_len, new_tokens, rng):
    vocab = model.config.vocab_size
    prompt = rng.integers(0, vocab, size=(batch, prompt_len), dtype=np.int64)
    prompt_path = os.path.join(work, "prompt.npy")
    tokens_path = os.path.join(work, "tokens.npy")
    logits_path = os.path.join(work, "logits.npy")
    np.save(prompt_path, prompt.astype(np.int32 if batch == 1 else np.int64))
    run([tools["lathe-run"], bundle, "generate", f"--prompt-tokens={prompt_path}",
         f"--max-new-tokens={new_tokens}", "--greedy", f"--output-tokens={tokens_path}",
         f"--output-logits={logits_path}", "--device=cpu", "--quiet"])
    tokens, logits = np.load(tokens_path), np.load(logits_path)
    expect_tokens, expect_logits = ref.generate(model, prompt, new_tokens,
                                                logits_dtype=np.float64)
    name = f"batch {batch}, prompt {prompt_len}, {new_tokens} new tokens"
    if tokens.dtype != np.int64 or tokens.shape != (batch, new_tokens):
        return f"{name}: tokens are {tokens.dtype} {list(tokens.shape)}, " \
               f"expected int64 {[batch, new_tokens]}"
    if logits.dtype != np.float32 or logits.shape != (new_tokens, batch, vocab):
        return f"{name}: logits are {logits.dtype} {list(logits.shape)}, " \
               f"expected float32 {[new_tokens, batch, vocab]}"
    worst = 0.0
    for i in range(new_tokens):
        for b in range(batch):
            err = relative_l2(logits[i, b], expect_logits[i, b])
            worst = max(worst, err)
            if err > TOLERANCE:
                return (f"{name}: logits of token {i}, row {b} differ from the reference "
                        f"by {err:.3g} relative L2 (tolerance {TOLERANCE})")
            if tokens[b, i] != expect_tokens[b, i]:
                top = np.sort(expect_logits[i, b])[-2:]
                return (f"{name}: row {b} token {i} is {tokens[b, i]}, the reference "
                        f"chose {expect_tokens[b, i]} (reference top-2 gap "
                        f"{top[1] - top[0]:.3g})")
    print(f"  ok: {name}: tokens identical, worst logits error {worst:.2e}")
    return None


def check_call(tools, bundle, model, work, rng):
    """`lathe-run call prefill` on a fresh cache: the last position's logits."""
    vocab = model.config.vocab_size
    prompt = rng.integers(0, vocab, size=(2, 7), dtype=np.int64)
    prompt_path = os.path.join(work, "call-prompt.npy")
    logits_path = os.path.join(work, "call-logits.npy")
    np.save(prompt_path, prompt)
    run([tools["lathe-run"], bundle, "call", "prefill", f"--input=@{prompt_path}",
         f"--output=@{logits_path}", "--device=cpu"])
    logits = np.load(logits_path)
    expect = model.forward(prompt)[:, -1]
    if logits.shape != (2, vocab) or logits.dtype != np.float32:
        return f"call prefill: logits are {logits.dtype} {list(logits.shape)}, " \
               f"expected float32 {[2, vocab]}"
    err = relative_l2(logits, expect)
    if err > TOLERANCE:
        return f"call prefill: logits differ from the reference by {err:.3g} relative L2"
    print(f"  ok: call prefill [2, 7]: logits error {err:.2e}")
    return None


def check_sampling(tools, bundle, work):
    """Sampling with a seed is repeatable and gives tokens of the vocabulary."""
    prompt_path = os.path.join(work, "sample-prompt.npy")
    np.save(prompt_path, np.array([[5, 6, 7]], dtype=np.int64))
    runs = []
    for _ in range(2):
        out = os.path.join(work, f"sample-{len(runs)}.npy")
        run([tools["lathe-run"], bundle, "generate", f"--prompt-tokens={prompt_path}",
             "--max-new-tokens=12", "--temperature=0.9", "--seed=11",
             f"--output-tokens={out}", "--quiet"])
        runs.append(np.load(out))
    if not np.array_equal(runs[0], runs[1]):
        return "sampling with --seed=11 gave different tokens on two runs"
    print(f"  ok: sampling at temperature 0.9, seed 11, repeats: {runs[0].tolist()}")
    return None


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--flavour", required=True, choices=["v3", "v2-lite", "v3-fp8"])
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("LATHE_E2E_SEED", "20261204")))
    parser.add_argument("--skip-pass", metavar="PASS",
                        help="lathe-compile --skip-pass=PASS")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    args = parser.parse_args(argv)
    bin_dir = os.path.join(args.build_dir, "bin")
    tools = {t: os.path.join(bin_dir, t) for t in ("lathe-compile", "lathe-run")}
    work = args.keep or tempfile.mkdtemp(prefix="lathe-e2e-")
    os.makedirs(work, exist_ok=True)
    try:
        ckpt = os.path.join(work, args.flavour)
        run([sys.executable, os.path.join(HERE, "..", "models", "make_tiny_checkpoint.py"),
             "--flavour", args.flavour, ckpt])
        bundle = os.path.join(work, args.flavour + ".lathe")
        skip = [f"--skip-pass={args.skip_pass}"] if args.skip_pass else []
        run([tools["lathe-compile"], ckpt, "--target=cpu", "-o", bundle, "--quiet"] + skip)
        model = ref.load(ckpt)
        without = f", without {args.skip_pass}" if args.skip_pass else ""
        print(f"{args.flavour}{without}: prompts from seed {args.seed}")
        rng = np.random.default_rng(args.seed)
        failures = [f for f in (check_case(tools, bundle, model, work, *case, rng)
                                for case in CASES) if f]
        failures += [f for f in (check_call(tools, bundle, model, work, rng),
                                 check_sampling(tools, bundle, work)) if f]
        for failure in failures:
            print(f"  FAIL: {failure}")
        return 1 if failures else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
