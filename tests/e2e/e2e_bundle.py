#!/usr/bin/python3
"""What a user does with a bundle besides generating: moves it, embeds its
weights, inspects it, and hands lathe-run a damaged one.

usage: e2e_bundle.py --build-dir DIR [--keep DIR]

With the tiny V3-shaped checkpoint (tests/models):
  - a bundle compiled for a baseline x86-64 (--cpu=x86-64-v2: no AVX, no
    FMA) generates the same tokens;
  - a bundle moved to another directory together with its checkpoint still
    generates the same tokens; moved without it, lathe-run names the
    missing weight file;
  - an --embed-weights bundle generates the same tokens after the
    checkpoint is deleted;
  - lathe-inspect --json reports targets, kernels with their family,
    functions, weight bytes and kv_cache_bytes_per_token (checked against
    config.json);
  - every truncation and byte flip of a bundle that this script tries gets
    `lathe-run: error: ...` and exit status 1 from lathe-run and
    lathe-inspect -- never a crash.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print(f"  FAIL: {message}")
    return condition


def run(cmd, expect_ok=True):
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if expect_ok and result.returncode != 0:
        raise SystemExit(f"FAILED ({result.returncode}): {' '.join(cmd)}\n{result.stderr}")
    return result


def generate(tools, bundle, prompt_path, out_path, expect_ok=True):
    return run([tools["lathe-run"], bundle, "generate", f"--prompt-tokens={prompt_path}",
                "--max-new-tokens=6", "--greedy", f"--output-tokens={out_path}", "--quiet"],
               expect_ok)


def check_clean_error(tools, bundle, what):
    for tool, args in (("lathe-run", [bundle, "generate", "--prompt-tokens=" + bundle + ".p.npy",
                                      "--max-new-tokens=2", "--quiet"]),
                       ("lathe-inspect", [bundle])):
        result = run([tools[tool]] + args, expect_ok=False)
        check(result.returncode == 1 and f"{tool}: error: " in result.stderr,
              f"{tool} on {what}: exit status {result.returncode}, stderr "
              f"{result.stderr.strip()[:200]!r}; expected status 1 and '{tool}: error: ...'")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--keep", metavar="DIR")
    args = parser.parse_args(argv)
    tools = {t: os.path.join(args.build_dir, "bin", t)
             for t in ("lathe-compile", "lathe-run", "lathe-inspect")}
    work = args.keep or tempfile.mkdtemp(prefix="lathe-e2e-bundle-")
    os.makedirs(work, exist_ok=True)
    try:
        home = os.path.join(work, "home")
        ckpt = os.path.join(home, "tiny-v3")
        run([sys.executable, os.path.join(HERE, "..", "models", "make_tiny_checkpoint.py"),
             "--flavour", "v3", ckpt])
        with open(os.path.join(ckpt, "config.json")) as f:
            config = json.load(f)
        bundle = os.path.join(home, "tiny-v3.lathe")
        run([tools["lathe-compile"], ckpt, "--target=cpu", "-o", bundle, "--quiet"])
        prompt = os.path.join(work, "prompt.npy")
        np.save(prompt, np.array([[3, 1, 4, 1, 5]], dtype=np.int64))
        first = os.path.join(work, "first.npy")
        generate(tools, bundle, prompt, first)
        expected = np.load(first)

        # Every byte of a bundle that references its weights is checked (the
        # FlatBuffer by its checksum, the trailer by its own fields).
        print("damaged bundles")
        data = open(bundle, "rb").read()
        np.save(bundle + ".p.npy", np.array([[1, 2]], dtype=np.int32))
        rng = np.random.default_rng(7)
        cases = [("empty", b""), ("32 zero bytes", bytes(32)),
                 ("text", b"not a bundle at all, just some text\n" * 3)]
        for size in (1, 31, 33, len(data) // 2, len(data) - 1):
            cases.append((f"truncated to {size} bytes", data[:size]))
        for offset in sorted(set(rng.integers(0, len(data), size=12).tolist()) |
                             {0, 4, 5, len(data) - 1, len(data) - 9, len(data) - 20}):
            flipped = bytearray(data)
            flipped[offset] ^= 0x5A
            cases.append((f"byte {offset} flipped", bytes(flipped)))
        bad = os.path.join(home, "bad.lathe")
        for what, content in cases:
            with open(bad, "wb") as f:
                f.write(content)
            shutil.copy(bundle + ".p.npy", bad + ".p.npy")
            check_clean_error(tools, bad, what)
        print(f"  {len(cases)} damaged bundles tried")

        # A bundle for a baseline x86-64 CPU (SSE4.2, no AVX, no FMA) runs
        # anywhere: no libm call where FMA is missing, the same tokens.
        print("portable CPU code")
        portable = os.path.join(home, "portable.lathe")
        run([tools["lathe-compile"], ckpt, "--target=cpu", "--cpu=x86-64-v2", "-o",
             portable, "--quiet"])
        again = os.path.join(work, "portable.npy")
        generate(tools, portable, prompt, again)
        check(np.array_equal(np.load(again), expected),
              "the --cpu=x86-64-v2 bundle generates other tokens")
        os.remove(portable)

        print("relocation")
        moved = os.path.join(work, "elsewhere", "deeper")
        os.makedirs(os.path.dirname(moved))
        shutil.move(home, moved)
        again = os.path.join(work, "again.npy")
        generate(tools, os.path.join(moved, "tiny-v3.lathe"), prompt, again)
        check(np.array_equal(np.load(again), expected),
              "the moved bundle generates other tokens")
        alone = os.path.join(work, "alone.lathe")
        shutil.copy(os.path.join(moved, "tiny-v3.lathe"), alone)
        result = generate(tools, alone, prompt, again, expect_ok=False)
        check(result.returncode == 1 and "model.safetensors" in result.stderr,
              f"a bundle moved without its weights: status {result.returncode}, "
              f"stderr {result.stderr.strip()!r}; expected an error naming model.safetensors")

        print("embedded weights")
        embedded = os.path.join(work, "embedded.lathe")
        run([tools["lathe-compile"], os.path.join(moved, "tiny-v3"), "--target=cpu",
             "--embed-weights", "-o", embedded, "--quiet"])
        shutil.rmtree(moved)
        generate(tools, embedded, prompt, again)
        check(np.array_equal(np.load(again), expected),
              "the --embed-weights bundle generates other tokens")

        print("lathe-inspect --json")
        report = json.loads(run([tools["lathe-inspect"], embedded, "--json"]).stdout)
        # MLA caches kv_lora_rank + qk_rope_head_dim f32 values per layer.
        per_token = (config["num_hidden_layers"] * 4 *
                     (config["kv_lora_rank"] + config["qk_rope_head_dim"]))
        check(report.get("kv_cache_bytes_per_token") == per_token,
              f"kv_cache_bytes_per_token is {report.get('kv_cache_bytes_per_token')}, "
              f"expected {per_token} from config.json")
        kernels = report.get("kernels", [])
        check(kernels and all(k.get("family") for k in kernels), "kernels lack a family")
        check({"prefill", "decode"} <= {f.get("name") for f in report.get("functions", [])},
              "functions lack prefill or decode")
        check(any(t.get("name") == "cpu" for t in report.get("targets", [])), "no cpu target")
        check(report.get("weights", {}).get("bytes", 0) > 0, "no weight bytes reported")

        return 1 if FAILURES else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
