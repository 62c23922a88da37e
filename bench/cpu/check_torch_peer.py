#!/usr/bin/python3
"""Checks the eager PyTorch peer (torch_deepseek.py) against the float64
reference (tests/reference/deepseek_ref.py) on the tiny checkpoints.

usage: check_torch_peer.py [--work-dir DIR] [--checkpoint CKPT_DIR ...]

For each tiny flavour (v3, v2-lite, v3-fp8): makes the checkpoint, runs a
greedy generation of batch 2 (prompt 7, 6 new tokens) in both, and requires
identical tokens and logits within 1e-4 relative L2 (per step). Also checks
that batch rows match batch-1 runs and that a prefill split in two chunks
gives the logits of one. Prints one line per model, exit 1 on a mismatch.
Takes a few seconds. --checkpoint adds a given checkpoint (e.g. the bench
model: about 30 s and 4 GB, the reference being float64). Needs torch
(bench/cpu/setup.sh) and numpy.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
import deepseek_ref as ref  # noqa: E402
import torch_deepseek  # noqa: E402

TOLERANCE = 1e-4


def rel_l2(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def check_flavour(flavour, work):
    ckpt = os.path.join(work, flavour)
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "models",
                                                 "make_tiny_checkpoint.py"),
                    "--flavour", flavour, ckpt], check=True)
    return check_checkpoint(ckpt, flavour)


def check_checkpoint(ckpt, flavour):
    reference = ref.load(ckpt)
    peer = torch_deepseek.load(ckpt)
    vocab = reference.config.vocab_size
    prompt = np.random.default_rng(3).integers(0, vocab, size=(2, 7))
    want_tokens, want_logits = ref.generate(reference, prompt, 6)
    got_tokens, got_logits = peer.generate(prompt, 6)
    failures = []
    tokens_match = np.array_equal(got_tokens, want_tokens)
    if not tokens_match:
        failures.append(f"greedy tokens differ: {got_tokens.tolist()} vs {want_tokens.tolist()}")
    worst = max(rel_l2(g, w) for g, w in zip(got_logits, want_logits))
    if not worst <= TOLERANCE:
        failures.append(f"logits relative L2 {worst:.3g} > {TOLERANCE}")

    # Each batch row alone, and the prompt prefilled in two chunks.
    for row in range(2):
        tokens, logits = peer.generate(prompt[row:row + 1], 6)
        if not np.array_equal(tokens[0], got_tokens[row]):
            failures.append(f"batch row {row} differs from its batch-1 run")
        elif rel_l2(logits[:, 0], got_logits[:, row]) > 1e-5:
            failures.append(f"batch row {row}: logits differ from its batch-1 run")
    cache = peer.new_cache(1, 8)
    peer.forward(torch.from_numpy(prompt[:1, :4]), cache)
    chunked = peer.forward(torch.from_numpy(prompt[:1, 4:]), cache).numpy()
    if rel_l2(chunked[0], got_logits[0, 0]) > 1e-5:
        failures.append("prefill in two chunks differs from one")

    status = "FAIL" if failures else "ok"
    print(f"{flavour}: {status}: greedy tokens {'match' if tokens_match else 'differ'}, "
          f"max logits rel L2 {worst:.2e} (tolerance {TOLERANCE:g})")
    for f in failures:
        print(f"  {flavour}: {f}")
    return not failures


def main(argv):
    parser = argparse.ArgumentParser(prog="check_torch_peer.py",
                                     description=__doc__.split("\n\n", 2)[1])
    parser.add_argument("--work-dir", help="where the tiny checkpoints go (default: a "
                                           "temporary directory)")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="CKPT_DIR",
                        help="also check this checkpoint")
    args = parser.parse_args(argv)
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    with torch.inference_mode(), tempfile.TemporaryDirectory() as tmp:
        work = args.work_dir or tmp
        results = [check_flavour(f, work) for f in ("v3", "v2-lite", "v3-fp8")]
        results += [check_checkpoint(c, c) for c in args.checkpoint]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
