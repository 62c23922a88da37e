#!/usr/bin/python3
"""bench/cpu: prefill and decode tokens/s of lathe's CPU target on the
bench-0.3b model, against an eager PyTorch peer on the same machine and
against the machine's limits (DRAM bandwidth for decode, FMA peak for
prefill).

usage: bench_cpu.py [--build-dir DIR] [--work-dir DIR] [--quick]
                    [--skip-torch] [--skip-lathe] [--json [FILE]] ...

Steps (each reported, none silently skipped):
  1. the bench model (tests/models/make_tiny_checkpoint.py --flavour
     bench-0.3b), cached in WORK_DIR/bench-0.3b and remade when the
     generator's sources change;
  2. limits: DRAM read bandwidth (bench/cpu/membw.c, built here with the
     system cc; all cores, 1 GiB), sampled before, between and after the
     runs, since a shared host's bandwidth drifts; the decode bound uses the
     median sample and shows the best. Peak float32 FMA and bf16
     dot-product rates (bench/cpu/flops.c) give prefill's compute bound;
  3. the eager PyTorch peer (torch_deepseek.py, in its own process);
  4. lathe: lathe-compile CKPT --target=cpu, then lathe-bench --json for
     each shape; missing tools or a failed compile are reported and the
     torch side still printed;
  5. a table: tokens/s of each, lathe/torch, decode as a fraction of its
     bound (bytes each decode step must read / bandwidth) and prefill's
     compute bound (flops / float32 FMA peak), with the targets
     of issue 4 (lathe >= 3x torch; batch-1 decode >= 50% of the bound).

Paths come from the environment: LATHE_BUILD_DIR (default ./build under the
repository), LATHE_PYTHON (the Python with torch; default /usr/bin/python3).
See bench/README.md.
"""

import argparse
import datetime
import glob
import hashlib
import json
import os
import platform
import re
import shlex
import statistics
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MODELS = os.path.join(ROOT, "tests", "models")
FLAVOUR = "bench-0.3b"
GENERATOR_SOURCES = ("make_tiny_checkpoint.py", "safetensors_io.py", "fp8.py")
# sha256 of the bench model's model.safetensors (seed 0), as
# tests/models/README.md pins it: numbers measured on other bytes are not
# comparable with docs/performance.md.
MODEL_SHA256 = "bebd0edb44ab889563ee077258e133231921663e1c7eaecaeff20deb44e9efd7"
ELEMENT_BYTES = {"BF16": 2, "F16": 2, "F32": 4, "F64": 8, "F8_E4M3": 1, "F8_E5M2": 1,
                 "I8": 1, "U8": 1, "I16": 2, "I32": 4, "I64": 8}


def log(message):
    print(f"bench_cpu: {message}", file=sys.stderr, flush=True)


def run(cmd, timeout=None, env=None):
    """(returncode, stdout, stderr) of a command; never raises for a
    failing command."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return 124, "", f"timed out after {timeout} s"
    except OSError as e:
        return 127, "", str(e)


def first_error_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["(no output)"])[-1].strip()


# ---------------------------------------------------------------------------
# 1. The model

def generator_stamp():
    h = hashlib.sha256()
    for name in GENERATOR_SOURCES:
        with open(os.path.join(MODELS, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def make_model(work_dir, python):
    ckpt = os.path.join(work_dir, FLAVOUR)
    stamp_path = os.path.join(ckpt, ".generator-sha256")
    stamp = generator_stamp()
    try:
        with open(stamp_path) as f:
            cached = f.read().strip() == stamp
        if cached and os.path.exists(os.path.join(ckpt, "model.safetensors")):
            log(f"model: {ckpt} (cached)")
            return ckpt
    except OSError:
        pass
    log(f"model: making {FLAVOUR} in {ckpt}")
    begin = time.perf_counter()
    rc, out, err = run([python, os.path.join(MODELS, "make_tiny_checkpoint.py"),
                        "--flavour", FLAVOUR, ckpt])
    if rc:
        sys.exit(f"bench_cpu: error: make_tiny_checkpoint.py failed: {first_error_line(err)}")
    log(f"model: made in {time.perf_counter() - begin:.1f} s")
    h = hashlib.sha256()
    with open(os.path.join(ckpt, "model.safetensors"), "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            h.update(block)
    if h.hexdigest() != MODEL_SHA256:
        log(f"warning: model.safetensors has sha256 {h.hexdigest()}, not the pinned "
            f"{MODEL_SHA256}: the generator changed the bench model, so these numbers do "
            "not compare with docs/performance.md")
    with open(stamp_path, "w") as f:
        f.write(stamp + "\n")
    return ckpt


def read_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return header


def model_facts(ckpt):
    """Parameter counts and the bytes a decode step reads, from config.json
    and the safetensors header (the stored dtypes, so bf16 here)."""
    with open(os.path.join(ckpt, "config.json")) as f:
        c = json.load(f)
    header = read_header(os.path.join(ckpt, "model.safetensors"))
    layers, experts, top_k = c["num_hidden_layers"], c["n_routed_experts"], c["num_experts_per_tok"]
    expert_re = re.compile(r"model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.")
    layer_re = re.compile(r"model\.layers\.(\d+)\.")
    params = dict(total=0, routed=0, embedding=0, always=0)
    bytes_ = dict(routed=0, embedding_row=0, always=0)
    moe_layers = set()
    for name, info in header.items():
        count = 1
        for d in info["shape"]:
            count *= d
        size = count * ELEMENT_BYTES[info["dtype"]]
        m = layer_re.match(name)
        if m and int(m.group(1)) >= layers:
            continue  # multi-token-prediction layers: not run
        params["total"] += count
        e = expert_re.match(name)
        if e:
            moe_layers.add(int(e.group(1)))
            params["routed"] += count
            bytes_["routed"] += size
        elif name == "model.embed_tokens.weight":
            params["embedding"] += count
            bytes_["embedding_row"] = size // info["shape"][0]
        else:
            params["always"] += count
            bytes_["always"] += size
    n_moe = len(moe_layers)
    expert_params = params["routed"] // (n_moe * experts)
    expert_bytes = bytes_["routed"] // (n_moe * experts)
    active = params["always"] + n_moe * top_k * expert_params + c["hidden_size"]
    return dict(config=c, moe_layers=n_moe, total_params=params["total"],
                active_params_per_token=active, expert_params=expert_params,
                expert_bytes=expert_bytes, always_bytes=bytes_["always"],
                embedding_row_bytes=bytes_["embedding_row"])


def decode_bytes(facts, batch, prompt_len, tokens, kv_bytes):
    """Bytes one decode step of `batch` rows must read from DRAM: every
    weight outside the routed experts (attention, norms, dense MLP, router,
    shared experts, lm_head), min(batch * top_k, n_experts) routed experts per
    MoE layer (distinct), one embedding row per row, and the latent KV cache
    (kv_lora_rank + qk_rope_head_dim values of kv_bytes each, per layer and
    position) at the mean context of the decode run."""
    c = facts["config"]
    experts = min(batch * c["num_experts_per_tok"], c["n_routed_experts"])
    context = prompt_len + (tokens + 1) / 2
    kv = (c["num_hidden_layers"] * (c["kv_lora_rank"] + c["qk_rope_head_dim"]) * kv_bytes
          * context * batch)
    weights = (facts["always_bytes"] + facts["moe_layers"] * experts * facts["expert_bytes"]
               + batch * facts["embedding_row_bytes"])
    return dict(weights=weights, kv_cache=kv, total=weights + kv)


def prefill_flops(facts, prompt_len):
    """Multiply-add flops (2 per MAC) of a batch-1 prefill of prompt_len
    tokens: every token through the weights it uses (attention, dense MLP or
    router + top_k routed + shared experts), up-projected causal attention
    (q.k over nope + rope dims, p.v over v dims, on average (P + 1) / 2
    positions), and lm_head once, for the last position."""
    c = facts["config"]
    head = c["vocab_size"] * c["hidden_size"]
    per_token = 2 * (facts["active_params_per_token"] - c["hidden_size"] - head)
    attention = (c["num_hidden_layers"] * 2 * c["num_attention_heads"]
                 * (c["qk_nope_head_dim"] + c["qk_rope_head_dim"] + c["v_head_dim"])
                 * (prompt_len + 1) / 2)
    return prompt_len * (per_token + attention) + 2 * head


# ---------------------------------------------------------------------------
# 2. Bandwidth and peak arithmetic

def build_tool(work_dir, name, opt):
    """bench/cpu/NAME.c built with the system cc into WORK_DIR/NAME."""
    source = os.path.join(HERE, name + ".c")
    binary = os.path.join(work_dir, name)
    if os.path.exists(binary) and os.path.getmtime(binary) >= os.path.getmtime(source):
        return binary
    cc = os.environ.get("CC", "cc")
    rc, _, err = run([cc, opt, "-march=native", "-pthread", source, "-o", binary])
    if rc:
        sys.exit(f"bench_cpu: error: {cc} {name}.c failed: {first_error_line(err)}")
    return binary


def measure_peak_flops(flops, threads):
    rc, out, err = run([flops, f"--threads={threads}"])
    if rc:
        sys.exit(f"bench_cpu: error: flops failed: {first_error_line(err)}")
    return json.loads(out)


def measure_bandwidth(membw, threads, repeat):
    rc, out, err = run([membw, f"--threads={threads}", "--mib=1024", f"--repeat={repeat}"])
    if rc:
        sys.exit(f"bench_cpu: error: membw failed: {first_error_line(err)}")
    return json.loads(out)["gb_per_s"]


# ---------------------------------------------------------------------------
# 3. The torch peer

def torch_env():
    """The environment of the peer: the OpenMP build of OpenBLAS first when
    Debian has it (see setup.sh)."""
    env = dict(os.environ)
    dirs = sorted(glob.glob("/usr/lib/*-linux-gnu/openblas-openmp"))
    if dirs:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            dirs[:1] + [p for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p])
    return env


def run_torch(args, ckpt):
    rc, _, err = run([args.python, "-c", "import torch"])
    if rc:
        return {"error": f"{args.python} has no torch ({first_error_line(err)}); "
                         "run bench/cpu/setup.sh or set LATHE_PYTHON"}
    cmd = [args.python, os.path.join(HERE, "torch_deepseek.py"), ckpt,
           f"--threads={args.threads}",
           "--prefill-lens=" + ",".join(map(str, args.prefill_lens)),
           f"--decode-prompt-len={args.decode_prompt_len}",
           f"--decode-tokens={args.decode_tokens}",
           "--batches=" + ",".join(map(str, args.batches)), f"--repeat={args.repeat}"]
    log("torch: " + " ".join(shlex.quote(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a)
                             for a in cmd))
    rc, out, err = run(cmd, env=torch_env())
    if rc:
        return {"error": f"torch_deepseek.py failed: {first_error_line(err)}"}
    result = json.loads(out)
    if "openblas" not in result["blas"].lower():
        log(f"warning: torch uses {result['blas']}, not OpenBLAS: its float32 matmuls "
            "will be far from this machine's speed (run bench/cpu/setup.sh)")
    return result


# ---------------------------------------------------------------------------
# 4. lathe

def find_rate(obj, phase):
    """tokens/s of `phase` in lathe-bench's JSON: obj[phase]['tokens_per_s']
    (the documented form) or obj[phase + '_tokens_per_s']."""
    if isinstance(obj.get(phase), dict) and "tokens_per_s" in obj[phase]:
        return float(obj[phase]["tokens_per_s"])
    if phase + "_tokens_per_s" in obj:
        return float(obj[phase + "_tokens_per_s"])
    return None


def run_lathe(args, ckpt):
    compile_tool = os.path.join(args.build_dir, "bin", "lathe-compile")
    bench_tool = os.path.join(args.build_dir, "bin", "lathe-bench")
    result = {"runs": []}
    if not os.access(compile_tool, os.X_OK):
        result["error"] = f"lathe-compile not built ({os.path.relpath(compile_tool, ROOT)})"
        return result
    bundle = os.path.join(args.work_dir, FLAVOUR + ".lathe")
    cmd = [compile_tool, ckpt, "--target=cpu", "-o", bundle]
    log("lathe: " + " ".join(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a for a in cmd))
    begin = time.perf_counter()
    rc, _, err = run(cmd, timeout=3600)
    result["compile_seconds"] = time.perf_counter() - begin
    if rc:
        result["error"] = f"lathe-compile failed: {first_error_line(err)}"
        return result
    if not os.access(bench_tool, os.X_OK):
        result["error"] = (f"lathe-bench not built ({os.path.relpath(bench_tool, ROOT)}); "
                           "the bundle compiled, but there is nothing to time it with")
        return result
    shapes = [(1, p) for p in args.prefill_lens]
    shapes += [(b, args.decode_prompt_len) for b in args.batches
               if (b, args.decode_prompt_len) not in shapes]
    for batch, prompt_len in shapes:
        cmd = [bench_tool, bundle, f"--batch={batch}", f"--prompt-len={prompt_len}",
               f"--decode-tokens={args.decode_tokens}", f"--repeat={args.repeat}", "--json"]
        log("lathe: " + " ".join(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a
                                 for a in cmd))
        rc, out, err = run(cmd, timeout=3600)
        if rc:
            result["error"] = f"lathe-bench failed: {first_error_line(err)}"
            return result
        try:
            obj = json.loads(out)
        except json.JSONDecodeError as e:
            result["error"] = f"lathe-bench --json printed no JSON ({e})"
            return result
        prefill, decode = find_rate(obj, "prefill"), find_rate(obj, "decode")
        if prefill is None or decode is None:
            result["error"] = ("lathe-bench JSON lacks prefill/decode tokens_per_s (keys: "
                               f"{sorted(obj)}); see bench/README.md")
            return result
        result["runs"].append({"batch": batch, "prompt_len": prompt_len,
                               "decode_tokens": args.decode_tokens,
                               "prefill_tokens_per_s": prefill,
                               "decode_tokens_per_s": decode, "raw": obj})
    return result


# ---------------------------------------------------------------------------
# 5. Report

def machine():
    info = {"python": platform.python_version(), "kernel": platform.release(),
            "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        info["cpu"] = re.search(r"model name\s*:\s*(.*)", text).group(1).strip()
        flags = re.search(r"flags\s*:\s*(.*)", text).group(1).split()
        info["simd"] = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
        with open("/proc/meminfo") as f:
            kib = int(re.search(r"MemTotal:\s*(\d+)", f.read()).group(1))
        info["memory_gib"] = round(kib / 2 ** 20, 1)
    except (OSError, AttributeError):
        pass
    return info


def rows(args, torch_result, lathe_result, facts, bandwidth, peak):
    """One dict per measurement: name, torch and lathe tokens/s, the bound
    (decode: DRAM bandwidth; prefill: float32 FMA peak)."""
    out = []
    torch_ok = "error" not in torch_result
    lathe_runs = {(r["batch"], r["prompt_len"]): r for r in lathe_result.get("runs", [])}
    for p in args.prefill_lens:
        t = next((m["tokens_per_s"] for m in torch_result.get("prefill", [])
                  if m["prompt_len"] == p), None) if torch_ok else None
        run_ = lathe_runs.get((1, p))
        flops = prefill_flops(facts, p)
        out.append(dict(name=f"prefill {p} tokens, batch 1", kind="prefill", batch=1,
                        prompt_len=p, torch=t,
                        lathe=run_["prefill_tokens_per_s"] if run_ else None,
                        flops=flops, bound=p * peak["fp32_fma_gflops"] * 1e9 / flops,
                        bound_bf16=(p * peak["bf16_dot_gflops"] * 1e9 / flops
                                    if "bf16_dot_gflops" in peak else None)))
    for b in args.batches:
        t = next((m["tokens_per_s"] for m in torch_result.get("decode", [])
                  if m["batch"] == b), None) if torch_ok else None
        run_ = lathe_runs.get((b, args.decode_prompt_len))
        need = decode_bytes(facts, b, args.decode_prompt_len, args.decode_tokens, args.kv_bytes)
        out.append(dict(name=f"decode after {args.decode_prompt_len}, batch {b}", kind="decode",
                        batch=b, prompt_len=args.decode_prompt_len, torch=t,
                        lathe=run_["decode_tokens_per_s"] if run_ else None,
                        bytes_per_step=need,
                        bound=b * bandwidth["median"] * 1e9 / need["total"],
                        bound_best=b * bandwidth["best"] * 1e9 / need["total"]))
    for r in out:
        r["lathe_over_torch"] = r["lathe"] / r["torch"] if r["lathe"] and r["torch"] else None
        r["lathe_over_bound"] = r["lathe"] / r["bound"] if r["lathe"] and r["bound"] else None
        r["torch_over_bound"] = r["torch"] / r["bound"] if r["torch"] and r["bound"] else None
    return out


def fmt(value, spec="{:.1f}", missing="-"):
    return missing if value is None else spec.format(value)


def targets(table):
    ratios = [r["lathe_over_torch"] for r in table]
    decode1 = next((r for r in table if r["kind"] == "decode" and r["batch"] == 1), None)
    if any(v is None for v in ratios):
        speed = "not measured"
    else:
        speed = f"{'met' if min(ratios) >= 3 else 'NOT met'} (min {min(ratios):.2f}x)"
    if decode1 is None or decode1["lathe_over_bound"] is None:
        bound = "not measured"
    else:
        f = decode1["lathe_over_bound"]
        bound = f"{'met' if f >= 0.5 else 'NOT met'} ({100 * f:.0f}%)"
    return {"lathe >= 3x torch on every row": speed,
            "lathe batch-1 decode >= 50% of the DRAM bound": bound}


def print_report(report):
    f = report["model"]
    c = f["config"]
    bw = report["bandwidth"]
    print(f"bench/cpu: {FLAVOUR} (hidden {c['hidden_size']}, {c['num_hidden_layers']} layers, "
          f"{c['n_routed_experts']} experts top-{c['num_experts_per_tok']}): "
          f"{f['total_params'] / 1e6:.1f}M parameters, "
          f"{f['active_params_per_token'] / 1e6:.1f}M active per token")
    m = report["machine"]
    print(f"machine: {m.get('cpu', '?')}, {m['cores']} cores, {m.get('memory_gib', '?')} GiB, "
          f"{' '.join(m.get('simd', []))}")
    print(f"DRAM read bandwidth ({bw['threads']} threads, 1 GiB, {len(bw['samples'])} samples "
          f"before, between and after the runs): median {bw['median']:.1f} GB/s, "
          f"best {bw['best']:.1f} GB/s")
    pk = report["peak_flops"]
    print(f"peak arithmetic ({pk['threads']} threads): float32 FMA {pk['fp32_fma_gflops']:.0f} "
          f"GFLOP/s" + (f", bf16 dot product {pk['bf16_dot_gflops']:.0f} GFLOP/s"
                        if "bf16_dot_gflops" in pk else ""))
    t = report["torch"]
    if "error" in t:
        print(f"torch: {t['error']}")
    else:
        blas = t["blas"].split(",")[0]
        print(f"torch {t['torch']}: {t['threads']} threads, BLAS {os.path.basename(blas)} "
              f"({os.path.dirname(blas)}); {t['implementation']}"
              + ("" if t.get("one_row_gemv", True) else "; --plain-linear"))
    lathe = report["lathe"]
    if "error" in lathe:
        print(f"lathe: {lathe['error']}")
    print()
    head = ["measurement", "torch tok/s", "lathe tok/s", "lathe/torch",
            "bound tok/s", "lathe/bound", "torch/bound"]
    lines = [head]
    for r in report["table"]:
        lines.append([r["name"], fmt(r["torch"]), fmt(r["lathe"]),
                      fmt(r["lathe_over_torch"], "{:.2f}x"), fmt(r["bound"]),
                      fmt(r["lathe_over_bound"] and 100 * r["lathe_over_bound"], "{:.0f}%"),
                      fmt(r["torch_over_bound"] and 100 * r["torch_over_bound"], "{:.0f}%")])
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for i, line in enumerate(lines):
        print("  ".join(cell.ljust(w) if j == 0 else cell.rjust(w)
                        for j, (cell, w) in enumerate(zip(line, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print()
    pk = report["peak_flops"]
    for r in report["table"]:
        if r["kind"] == "prefill":
            gflop = r["flops"] / 1e9
            achieved = "; ".join(f"{who} {r[who] * gflop / r['prompt_len']:.0f} GFLOP/s"
                                 for who in ("torch", "lathe") if r[who])
            print(f"bound, {r['name']}: {gflop:.1f} GFLOP at the float32 FMA peak "
                  f"{pk['fp32_fma_gflops']:.0f} GFLOP/s; {fmt(r['bound_bf16'])} tok/s at the "
                  f"bf16 dot-product peak {pk.get('bf16_dot_gflops', 0):.0f} GFLOP/s"
                  + (f" ({achieved})" if achieved else ""))
    for r in report["table"]:
        if r["kind"] == "decode":
            b = r["bytes_per_step"]
            print(f"bound, {r['name']}: {b['total'] / 1e6:.1f} MB per step "
                  f"({b['weights'] / 1e6:.1f} MB weights as stored, {b['kv_cache'] / 1e6:.2f} MB "
                  f"latent KV cache at {report['args']['kv_bytes']} bytes/value) at the median "
                  f"{bw['median']:.1f} GB/s; {fmt(r['bound_best'])} tok/s at the best sample "
                  f"{bw['best']:.1f} GB/s")
    for name, status in report["targets"].items():
        print(f"target: {name}: {status}")


def int_list(text):
    values = [int(v) for v in text.split(",") if v]
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def main(argv):
    parser = argparse.ArgumentParser(prog="bench_cpu.py", description=__doc__.split("\n\n")[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    build = os.environ.get("LATHE_BUILD_DIR") or os.path.join(ROOT, "build")
    parser.add_argument("--build-dir", default=build,
                        help="lathe's build (default $LATHE_BUILD_DIR or ./build)")
    parser.add_argument("--work-dir", help="model, bundle, membw (default BUILD_DIR/bench)")
    parser.add_argument("--python", default=os.environ.get("LATHE_PYTHON") or "/usr/bin/python3",
                        help="Python with numpy and torch (default $LATHE_PYTHON or "
                             "/usr/bin/python3)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for torch and membw (default: every core)")
    parser.add_argument("--prefill-lens", type=int_list, default=[128, 512])
    parser.add_argument("--decode-prompt-len", type=int, default=128)
    parser.add_argument("--decode-tokens", type=int, default=32)
    parser.add_argument("--batches", type=int_list, default=[1, 4])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs; the median counts")
    parser.add_argument("--kv-bytes", type=int, default=2,
                        help="bytes per latent KV-cache value in the bound (default 2: bf16)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 2 repeats, 8 decode tokens")
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument("--skip-lathe", action="store_true")
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE",
                        help="also write the whole report as JSON (to stdout: '-')")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.decode_tokens = 2, 8
    args.build_dir = os.path.abspath(args.build_dir)
    args.work_dir = os.path.abspath(args.work_dir or os.path.join(args.build_dir, "bench"))
    os.makedirs(args.work_dir, exist_ok=True)

    ckpt = make_model(args.work_dir, args.python)
    facts = model_facts(ckpt)
    membw = build_tool(args.work_dir, "membw", "-O3")
    peak = measure_peak_flops(build_tool(args.work_dir, "flops", "-O2"), args.threads)
    samples = measure_bandwidth(membw, args.threads, 10)
    torch_result = {"error": "skipped (--skip-torch)"} if args.skip_torch else run_torch(args, ckpt)
    samples += measure_bandwidth(membw, args.threads, 10)
    lathe_result = {"error": "skipped (--skip-lathe)"} if args.skip_lathe else run_lathe(args, ckpt)
    samples += measure_bandwidth(membw, args.threads, 10)
    bandwidth = {"threads": args.threads, "samples": samples, "best": max(samples),
                 "median": statistics.median(samples)}
    table = rows(args, torch_result, lathe_result, facts, bandwidth, peak)
    report = {"date": datetime.date.today().isoformat(), "machine": machine(),
              "args": {k: v for k, v in vars(args).items()
                       if k not in ("build_dir", "work_dir", "python")},
              "model": facts, "bandwidth": bandwidth, "peak_flops": peak, "torch": torch_result,
              "lathe": lathe_result, "table": table, "targets": targets(table)}
    if args.json == "-":
        print(json.dumps(report, indent=1))
    else:
        print_report(report)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=1)
                f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
