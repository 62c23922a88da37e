#!/usr/bin/env python3
"""Checks the lathe.weight ops of imported IR against the checkpoint itself.

    check_weight_refs.py MODEL.mlir CKPT_DIR

Every `lathe.weight "NAME" in "FILE" at OFFSET : tensor<SHAPExTYPE>` must
name a tensor that FILE holds, at that absolute byte offset (8 + header
length + data_offsets[0]), with that shape and the element type its dtype
maps to. Every tensor of the checkpoint outside the multi-token-prediction
layers must be referenced exactly once. Exit status 1 with one line per
mismatch otherwise; prints a one-line summary on success.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_header  # noqa: E402

ELEMENT_TYPE = {"BF16": "bf16", "F16": "f16", "F32": "f32", "F8_E4M3": "f8E4M3FN"}
WEIGHT = re.compile(r'lathe\.weight "([^"]+)" in "([^"]+)" at (\d+) : tensor<([^>]*)>')


def checkpoint_tensors(ckpt):
    """{name: (file, absolute offset, dtype, shape)} of every shard."""
    tensors = {}
    for file in sorted(os.listdir(ckpt)):
        if not file.endswith(".safetensors"):
            continue
        header, length, _ = read_header(os.path.join(ckpt, file))
        for name, info in header.items():
            if name != "__metadata__":
                tensors[name] = (file, 8 + length + info["data_offsets"][0],
                                 info["dtype"], info["shape"])
    return tensors


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ir_path, ckpt = sys.argv[1:]
    with open(os.path.join(ckpt, "config.json")) as f:
        layers = json.load(f)["num_hidden_layers"]
    tensors = checkpoint_tensors(ckpt)
    with open(ir_path) as f:
        refs = WEIGHT.findall(f.read())
    errors = []
    seen = {}
    for name, file, offset, tensor_type in refs:
        seen[name] = seen.get(name, 0) + 1
        if name not in tensors:
            errors.append(f"{name}: not in the checkpoint")
            continue
        want_file, want_offset, dtype, shape = tensors[name]
        want_type = "x".join([str(d) for d in shape] + [ELEMENT_TYPE.get(dtype, dtype)])
        got = (file, int(offset), tensor_type)
        want = (want_file, want_offset, want_type)
        if got != want:
            errors.append(f"{name}: IR says {got}, checkpoint has {want}")
    mtp = re.compile(r"model\.layers\.(\d+)\.")
    for name in tensors:
        m = mtp.match(name)
        if m and int(m.group(1)) >= layers:
            if name in seen:
                errors.append(f"{name}: multi-token-prediction tensor referenced")
            continue
        if seen.get(name, 0) != 1:
            errors.append(f"{name}: referenced {seen.get(name, 0)} times, expected once")
    for line in errors:
        print(line)
    if errors:
        sys.exit(1)
    print(f"{len(refs)} weight references match {ckpt}")


if __name__ == "__main__":
    main()
