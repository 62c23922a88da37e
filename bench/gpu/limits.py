#!/usr/bin/env python3
"""The measured limits of a GPU, for reporting lathe's kernels as fractions
of what the device can do (docs/performance.md).

usage: limits.py [--json FILE] [--repeat N]

Measured with PyTorch (the peer every lent GPU machine has) on device 0:
  - HBM bandwidth: a device-to-device copy of 4 GiB (read + write counted),
    and a read-only reduction (sum) of 4 GiB;
  - dense GEMM throughput at M = N = K = 8192: bf16 (torch.matmul) and, on
    sm_89+, e4m3 x e4m3 -> bf16 with per-tensor scales (torch._scaled_mm,
    the path DeepGEMM-style FP8 GEMMs are compared against);
  - decode-shaped GEMV: a [1, 7168] x [7168, 18432]^T bf16 product, the
    memory-bound shape of a DeepSeek-V3 expert at batch 1.
Each number is the median of --repeat timed runs after a warm-up, timed
with CUDA events. Prints a table, and JSON with --json.
"""

import argparse
import json
import statistics
import sys

import torch


def timed(fn, repeat):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return statistics.median(times)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("limits.py: no CUDA device", file=sys.stderr)
        return 1
    dev = torch.device("cuda", 0)
    props = torch.cuda.get_device_properties(dev)
    report = {"device": props.name, "sm": f"{props.major}{props.minor}",
              "sms": props.multi_processor_count,
              "memory_gib": round(props.total_memory / 2**30, 1),
              "torch": torch.__version__, "cuda": torch.version.cuda, "results": []}

    def add(what, value, unit, detail):
        report["results"].append({"what": what, "value": value, "unit": unit, "detail": detail})
        print(f"{what:<34} {value:10.1f} {unit:<8} {detail}")

    n = 4 * 2**30
    src = torch.empty(n, dtype=torch.uint8, device=dev)
    dst = torch.empty_like(src)
    t = timed(lambda: dst.copy_(src), args.repeat)
    add("HBM copy (read + write)", 2 * n / t / 1e9, "GB/s", "4 GiB device-to-device")
    floats = src.view(torch.float32)
    t = timed(lambda: floats.sum(), args.repeat)
    add("HBM read (sum of f32)", n / t / 1e9, "GB/s", "4 GiB")
    del src, dst, floats

    m = 8192
    a = torch.randn(m, m, device=dev, dtype=torch.bfloat16)
    b = torch.randn(m, m, device=dev, dtype=torch.bfloat16)
    t = timed(lambda: a @ b, args.repeat)
    add("bf16 GEMM 8192^3", 2 * m**3 / t / 1e12, "TFLOP/s", "torch.matmul")
    if (props.major, props.minor) >= (8, 9) and hasattr(torch, "_scaled_mm"):
        a8 = a.to(torch.float8_e4m3fn)
        b8 = b.to(torch.float8_e4m3fn).t().contiguous().t()
        one = torch.tensor(1.0, device=dev)
        t = timed(lambda: torch._scaled_mm(a8, b8, scale_a=one, scale_b=one,
                                           out_dtype=torch.bfloat16), args.repeat)
        add("e4m3 GEMM 8192^3", 2 * m**3 / t / 1e12, "TFLOP/s", "torch._scaled_mm, per-tensor scales")
    del a, b

    x = torch.randn(1, 7168, device=dev, dtype=torch.bfloat16)
    w = torch.randn(18432, 7168, device=dev, dtype=torch.bfloat16)
    t = timed(lambda: x @ w.t(), args.repeat)
    add("bf16 GEMV 1 x 7168 x 18432", w.numel() * 2 / t / 1e9, "GB/s", "weight bytes / time")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    print(json.dumps({k: v for k, v in report.items() if k != "results"}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
