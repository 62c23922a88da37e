#!/usr/bin/python3
"""bench/cpu: the MoE blocks of bench-0.3b with and without
lathe-fuse-moe-routing -- router, dispatch, routed experts and shared
experts, milliseconds per MoE layer, from lathe-bench --profile.

usage: bench_moe.py [--build-dir DIR] [--work-dir DIR] [--prompt-lens=128,512]
                    [--repeat=R] [--json FILE]

Compiles the bench model (bench_cpu.py makes and caches it) twice, with
the pass (the default) and with --skip-pass=lathe-fuse-moe-routing, and
profiles a prefill of each prompt length and 32 batch-1 decode steps
after the first, the two bundles alternating. Kernels are put in parts by family and shape:
  router   unfused: the gate GEMM (gemm_n{experts}_k{hidden}) and moe_topk;
           fused: moe_router
  dispatch moe_permute
  experts  the grouped GEMMs (family moe_experts), and unfused moe_combine
  shared   the shared experts' two GEMMs (n{S}_k{hidden}, n{hidden}_k{S})
Per-launch profiling serializes nothing but adds a timer per launch; the
parts are compared with each other, not with bench_cpu.py's throughput.
"""

import argparse
import json
import os
import re
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_cpu  # noqa: E402

PARTS = ("router", "dispatch", "experts", "shared")


def part_of(row, config):
    family, kernel = row["family"], row["kernel"]
    hidden, experts = config["hidden_size"], config["n_routed_experts"]
    shared = config.get("n_shared_experts", 0) * config["moe_intermediate_size"]
    if family in ("moe_router", "moe_topk") or kernel.startswith(f"gemm_n{experts}_k{hidden}_"):
        return "router"
    if family == "moe_permute":
        return "dispatch"
    if family in ("moe_experts", "moe_combine"):
        return "experts"
    if shared and re.match(rf"gemm(_swiglu)?_(n{shared}_k{hidden}|n{hidden}_k{shared})_", kernel):
        return "shared"
    return None


def profile(bench_tool, bundle, prompt_len, repeat):
    cmd = [bench_tool, bundle, "--batch=1", f"--prompt-len={prompt_len}",
           "--decode-tokens=32", f"--repeat={repeat}", "--profile", "--json", "--quiet"]
    bench_cpu.log("moe: " + " ".join(cmd))
    rc, out, err = bench_cpu.run(cmd, timeout=3600)
    if rc:
        sys.exit(f"bench_moe: error: lathe-bench failed: {bench_cpu.first_error_line(err)}")
    return json.loads(out)


def parts(rows, config, moe_layers):
    ms = {p: 0.0 for p in PARTS}
    for row in rows:
        p = part_of(row, config)
        if p:
            ms[p] += row["seconds"] * 1e3 / moe_layers
    ms["total"] = sum(ms[p] for p in PARTS)
    return ms


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.environ.get(
        "LATHE_BUILD_DIR", os.path.join(bench_cpu.ROOT, "build")))
    parser.add_argument("--work-dir")
    parser.add_argument("--python", default=os.environ.get("LATHE_PYTHON", "/usr/bin/python3"))
    parser.add_argument("--prompt-lens", type=bench_cpu.int_list, default=[128, 512])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    work = args.work_dir or os.path.join(args.build_dir, "bench")
    os.makedirs(work, exist_ok=True)
    ckpt = bench_cpu.make_model(work, args.python)
    with open(os.path.join(ckpt, "config.json")) as f:
        config = json.load(f)
    first_dense = config.get("first_k_dense_replace", 0)
    moe_layers = config["num_hidden_layers"] - first_dense
    compile_tool = os.path.join(args.build_dir, "bin", "lathe-compile")
    bench_tool = os.path.join(args.build_dir, "bin", "lathe-bench")

    bundles = {}
    for variant, extra in (("unfused", ["--skip-pass=lathe-fuse-moe-routing"]), ("fused", [])):
        bundles[variant] = os.path.join(work, f"bench-0.3b-{variant}.lathe")
        cmd = [compile_tool, ckpt, "--target=cpu", "--quiet", "-o", bundles[variant]] + extra
        bench_cpu.log("moe: " + " ".join(cmd))
        rc, _, err = bench_cpu.run(cmd, timeout=3600)
        if rc:
            sys.exit(f"bench_moe: error: lathe-compile failed: {bench_cpu.first_error_line(err)}")
    # The variants alternate, so that a shared host's drift hits both.
    report = {"moe_layers": moe_layers, "variants": {"unfused": [], "fused": []}}
    for i, prompt_len in enumerate(args.prompt_lens):
        for variant in ("unfused", "fused"):
            result = profile(bench_tool, bundles[variant], prompt_len, args.repeat)
            rows = report["variants"][variant]
            rows.append({"call": f"prefill {prompt_len}",
                         "ms": parts(result["profile"]["prefill"], config, moe_layers)})
            if i == 0:
                rows.append({"call": f"decode after {prompt_len}",
                             "ms": parts(result["profile"]["decode"], config, moe_layers)})

    print(f"bench/cpu: MoE blocks of bench-0.3b, ms per MoE layer ({moe_layers} layers) "
          "and call (decode: 32 steps)")
    print(f"{'call':<20} {'variant':<8} " + " ".join(f"{p:>9}" for p in PARTS + ("total",)))
    for i, row in enumerate(report["variants"]["fused"]):
        for variant in ("unfused", "fused"):
            ms = report["variants"][variant][i]["ms"]
            print(f"{row['call']:<20} {variant:<8} " +
                  " ".join(f"{ms[p]:9.3f}" for p in PARTS + ("total",)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
