#!/usr/bin/python3
"""Copies a checkpoint and breaks it in one way, for the frontend's
rejection tests.

usage: corrupt_checkpoint.py CASE SRC_DIR DST_DIR
       corrupt_checkpoint.py --list

DST_DIR is replaced by a copy of SRC_DIR (config.json, *.safetensors, the
index), then broken as CASE says. Prints one line: the tensor, config field
or file that the frontend's error should name. "The weight file" is the
last *.safetensors of the checkpoint in name order (model.safetensors when
unsharded); an index is kept in step so that only the intended fault shows.

Cases (what is broken -> what is printed):
  truncated-file          the weight file cut in the middle of the data of its
                          last tensor (by offset), whose data_offsets now end
                          beyond the file -> that tensor
  truncated-header        the weight file replaced by 5 bytes -> the file
  absurd-header-length    the weight file's header length set to 2^60 -> the file
  header-not-json         the weight file's header overwritten, same length,
                          with text that is not JSON -> the file
  missing-tensor          model.layers.1.self_attn.kv_b_proj.weight removed
                          from its file (header and data) and from the index
                          -> that tensor
  wrong-shape             model.layers.0.self_attn.kv_b_proj.weight's shape
                          transposed in the header (same byte span) -> that
                          tensor
  wrong-scale-shape       (FP8 checkpoints only) the block grid of
                          model.layers.0.self_attn.kv_a_proj_with_mqa.weight_scale_inv
                          transposed in the header (same byte span) -> that
                          tensor
  offsets-outside-file    the last tensor (by offset) of the weight file moved
                          16 bytes on, so that its data_offsets end beyond the
                          data section (span and file size unchanged) -> that
                          tensor
  unknown-dtype           model.layers.0.input_layernorm.weight's dtype set to
                          "F9" -> that tensor
  unsupported-model-type  config.json model_type "llama" -> model_type
  missing-config-field    config.json without kv_lora_rank -> kv_lora_rank
  inconsistent-config-field  config.json num_attention_heads 0 ->
                          num_attention_heads
  config-not-json         config.json cut after its first 40 bytes -> config.json
  no-weight-files         every *.safetensors and the index deleted ->
                          model.safetensors (the file the error says is expected)
"""

import json
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import encode_header, raw_tensors, read_header, serialize, write_raw  # noqa: E402

INDEX = "model.safetensors.index.json"
MISSING_TENSOR = "model.layers.1.self_attn.kv_b_proj.weight"
WRONG_SHAPE_TENSOR = "model.layers.0.self_attn.kv_b_proj.weight"
WRONG_SCALE_TENSOR = "model.layers.0.self_attn.kv_a_proj_with_mqa.weight_scale_inv"
UNKNOWN_DTYPE_TENSOR = "model.layers.0.input_layernorm.weight"


class CaseError(Exception):
    pass


def weight_files(ckpt):
    return sorted(f for f in os.listdir(ckpt) if f.endswith(".safetensors"))


def last_weight_file(ckpt):
    files = weight_files(ckpt)
    if not files:
        raise CaseError(f"{ckpt} has no *.safetensors")
    return os.path.join(ckpt, files[-1])


def file_of(ckpt, tensor):
    """Path of the weight file that holds `tensor`."""
    for f in weight_files(ckpt):
        header, _, _ = read_header(os.path.join(ckpt, f))
        if tensor in header:
            return os.path.join(ckpt, f)
    raise CaseError(f"no weight file of {ckpt} holds {tensor}")


def read_raw_header(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + n]), n, blob[8 + n:]


def rewrite_header(path, edit):
    """Applies `edit` to the parsed header and writes it back, padding the
    JSON with spaces to its old length so that no offset moves."""
    header, n, data = read_raw_header(path)
    edit(header)
    text = encode_header(header)
    if len(text) > n:
        raise CaseError(f"{path}: edited header does not fit in {n} bytes")
    write_raw(path, text + b" " * (n - len(text)), data)


def last_tensor(header):
    return max((info["data_offsets"][1], name) for name, info in header.items()
               if name != "__metadata__")[1]


def edit_config(ckpt, edit):
    path = os.path.join(ckpt, "config.json")
    with open(path) as f:
        config = json.load(f)
    edit(config)
    with open(path, "w") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")


def truncated_file(ckpt):
    path = last_weight_file(ckpt)
    header, n, data = read_raw_header(path)
    name = last_tensor(header)
    begin, end = header[name]["data_offsets"]
    with open(path, "r+b") as f:
        f.truncate(8 + n + begin + (end - begin) // 2)
    return name


def truncated_header(ckpt):
    path = last_weight_file(ckpt)
    with open(path, "r+b") as f:
        f.truncate(5)
    return os.path.basename(path)


def absurd_header_length(ckpt):
    path = last_weight_file(ckpt)
    with open(path, "r+b") as f:
        f.write(struct.pack("<Q", 1 << 60))
    return os.path.basename(path)


def header_not_json(ckpt):
    path = last_weight_file(ckpt)
    _, n, data = read_raw_header(path)
    text = b"this header is not JSON"
    write_raw(path, text + b" " * (n - len(text)), data)
    return os.path.basename(path)


def missing_tensor(ckpt):
    path = file_of(ckpt, MISSING_TENSOR)
    metadata, tensors = raw_tensors(path)
    removed_bytes = len(tensors.pop(MISSING_TENSOR)[2])
    with open(path, "wb") as f:
        f.write(serialize(tensors, metadata))
    index_path = os.path.join(ckpt, INDEX)
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
        del index["weight_map"][MISSING_TENSOR]
        index["metadata"]["total_size"] -= removed_bytes
        with open(index_path, "w") as f:
            f.write(json.dumps(index, indent=2) + "\n")
    return MISSING_TENSOR


def transpose_shape(tensor):
    def run(ckpt):
        def edit(header):
            shape = header[tensor]["shape"]
            if len(shape) != 2 or shape[0] == shape[1]:
                raise CaseError(f"{tensor} has shape {shape}, which transposing does not change")
            header[tensor]["shape"] = shape[::-1]
        try:
            path = file_of(ckpt, tensor)
        except CaseError:
            raise CaseError(f"{tensor} is not in {ckpt}"
                            + (" (not an FP8 checkpoint)" if tensor.endswith("_scale_inv") else ""))
        rewrite_header(path, edit)
        return tensor
    return run


def offsets_outside_file(ckpt):
    path = last_weight_file(ckpt)
    header, _, _ = read_raw_header(path)
    name = last_tensor(header)

    def edit(header):
        header[name]["data_offsets"] = [o + 16 for o in header[name]["data_offsets"]]
    rewrite_header(path, edit)
    return name


def unknown_dtype(ckpt):
    def edit(header):
        header[UNKNOWN_DTYPE_TENSOR]["dtype"] = "F9"
    rewrite_header(file_of(ckpt, UNKNOWN_DTYPE_TENSOR), edit)
    return UNKNOWN_DTYPE_TENSOR


def set_field(field, value):
    def run(ckpt):
        edit_config(ckpt, lambda c: c.__setitem__(field, value))
        return field
    return run


def missing_config_field(ckpt):
    edit_config(ckpt, lambda c: c.pop("kv_lora_rank"))
    return "kv_lora_rank"


def config_not_json(ckpt):
    path = os.path.join(ckpt, "config.json")
    with open(path, "rb") as f:
        text = f.read()
    with open(path, "wb") as f:
        f.write(text[:40])
    return "config.json"


def no_weight_files(ckpt):
    for f in weight_files(ckpt) + ([INDEX] if os.path.exists(os.path.join(ckpt, INDEX)) else []):
        os.remove(os.path.join(ckpt, f))
    return "model.safetensors"


CASES = {
    "truncated-file": truncated_file,
    "truncated-header": truncated_header,
    "absurd-header-length": absurd_header_length,
    "header-not-json": header_not_json,
    "missing-tensor": missing_tensor,
    "wrong-shape": transpose_shape(WRONG_SHAPE_TENSOR),
    "wrong-scale-shape": transpose_shape(WRONG_SCALE_TENSOR),
    "offsets-outside-file": offsets_outside_file,
    "unknown-dtype": unknown_dtype,
    "unsupported-model-type": set_field("model_type", "llama"),
    "missing-config-field": missing_config_field,
    "inconsistent-config-field": set_field("num_attention_heads", 0),
    "config-not-json": config_not_json,
    "no-weight-files": no_weight_files,
}


def copy_checkpoint(src, dst):
    if not os.path.isfile(os.path.join(src, "config.json")):
        raise CaseError(f"{src} has no config.json")
    if os.path.isdir(dst):
        shutil.rmtree(dst)
    os.makedirs(dst)
    for f in sorted(os.listdir(src)):
        if f == "config.json" or f == INDEX or f.endswith(".safetensors"):
            shutil.copyfile(os.path.join(src, f), os.path.join(dst, f))


def main(argv):
    if argv == ["--list"]:
        print("\n".join(CASES))
        return 0
    if argv in (["--help"], ["-h"]):
        print(__doc__.strip())
        return 0
    if len(argv) != 3 or argv[0] not in CASES:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    case, src, dst = argv
    try:
        copy_checkpoint(src, dst)
        print(CASES[case](dst))
    except (CaseError, OSError, KeyError, ValueError) as e:
        print(f"corrupt_checkpoint.py: {case}: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
