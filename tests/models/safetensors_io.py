"""Reads and writes safetensors files with numpy only, and converts bf16.

A safetensors file is an 8-byte little-endian header length N, N bytes of
JSON header {"__metadata__": {str: str}, name: {"dtype", "shape",
"data_offsets": [begin, end)}} padded with spaces to a multiple of 8, then
the data section, to which the offsets are relative.

The writer is deterministic: header keys in name order, compact JSON, data
laid out by (element size descending, name) as the reference implementation
does, so that every tensor starts at a multiple of its element size.
"""

import json
import struct

import numpy as np

# Storage type of each safetensors dtype. bf16 is kept as its uint16 bit
# pattern and the FP8 formats as uint8 codes: numpy has neither.
STORAGE = {
    "BOOL": np.dtype("u1"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "F8_E4M3": np.dtype("u1"),
    "F8_E5M2": np.dtype("u1"),
    "I16": np.dtype("<i2"),
    "U16": np.dtype("<u2"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I32": np.dtype("<i4"),
    "U32": np.dtype("<u4"),
    "F32": np.dtype("<f4"),
    "I64": np.dtype("<i8"),
    "U64": np.dtype("<u8"),
    "F64": np.dtype("<f8"),
}


def float32_to_bf16(x):
    """float32 values -> bf16 bit patterns (uint16), round to nearest even.

    NaN stays a quiet NaN of the same sign; overflow rounds to infinity as
    IEEE rounding does.
    """
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    lsb = (bits >> np.uint32(16)) & np.uint32(1)
    rounded = ((bits.astype(np.uint64) + np.uint64(0x7FFF) + lsb) >> np.uint64(16))
    out = rounded.astype(np.uint16)
    nan = np.isnan(bits.view(np.float32))
    out[nan] = ((bits[nan] >> np.uint32(16)) | np.uint32(0x0040)).astype(np.uint16)
    return out


def bf16_to_float32(u):
    """bf16 bit patterns (uint16) -> float32, exactly."""
    u = np.asarray(u, dtype=np.uint16)
    return (u.astype(np.uint32) << np.uint32(16)).view(np.float32)


def _entry(name, value):
    """(dtype, shape, bytes) of one tensor given as (dtype, ndarray) or
    (dtype, shape, bytes)."""
    if len(value) == 3:
        dtype, shape, data = value
        return dtype, [int(d) for d in shape], bytes(data)
    dtype, array = value
    if dtype not in STORAGE:
        raise ValueError(f"{name}: unknown dtype {dtype!r}")
    array = np.asarray(array)
    if array.dtype.newbyteorder("<") != STORAGE[dtype].newbyteorder("<"):
        raise ValueError(f"{name}: {dtype} must be stored as {STORAGE[dtype]}, "
                         f"got {array.dtype}")
    data = np.ascontiguousarray(array, dtype=STORAGE[dtype]).tobytes()
    return dtype, [int(d) for d in array.shape], data


def encode_header(header):
    """JSON header bytes padded with spaces to a multiple of 8."""
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return text + b" " * (-len(text) % 8)


def write_raw(path, header_bytes, data):
    """Writes a file from an already encoded header and a data section."""
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        f.write(data)


def serialize(tensors, metadata=None):
    """The bytes of a safetensors file holding `tensors`.

    `tensors` maps name -> (dtype, ndarray of raw storage values) or
    (dtype, shape, bytes); `metadata` is an optional {str: str}.
    """
    entries = {name: _entry(name, value) for name, value in tensors.items()}

    def itemsize(dtype):
        return STORAGE[dtype].itemsize if dtype in STORAGE else 1

    order = sorted(entries, key=lambda n: (-itemsize(entries[n][0]), n))
    offsets, chunks, pos = {}, [], 0
    for name in order:
        data = entries[name][2]
        offsets[name] = [pos, pos + len(data)]
        chunks.append(data)
        pos += len(data)
    header = {}
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    for name in sorted(entries):
        dtype, shape, _ = entries[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": offsets[name]}
    header_bytes = encode_header(header)
    return struct.pack("<Q", len(header_bytes)) + header_bytes + b"".join(chunks)


def write_safetensors(path, tensors, metadata=None):
    """Writes `tensors` (see `serialize`) to `path`."""
    with open(path, "wb") as f:
        f.write(serialize(tensors, metadata))


class SafetensorsError(Exception):
    pass


def read_header(path):
    """(header dict, header length N, data section bytes) of a file, checked
    the way a strict reader would: bounds, JSON, known dtypes, spans that
    match shape x dtype, contiguous non-overlapping data covering the data
    section."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise SafetensorsError(f"{path}: {len(blob)} bytes, shorter than the header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise SafetensorsError(f"{path}: header length {n} beyond the file")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{path}: header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header is not an object")
    data = blob[8 + n:]
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info.get("dtype")
        if dtype not in STORAGE:
            raise SafetensorsError(f"{path}: tensor '{name}': unknown dtype {dtype!r}")
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        if end - begin != count * STORAGE[dtype].itemsize:
            raise SafetensorsError(f"{path}: tensor '{name}': span {end - begin} bytes "
                                   f"does not match shape {info['shape']} of {dtype}")
        if not 0 <= begin <= end <= len(data):
            raise SafetensorsError(f"{path}: tensor '{name}': data_offsets "
                                   f"[{begin}, {end}) outside the {len(data)}-byte data section")
        spans.append((begin, end, name))
    spans.sort()
    pos = 0
    for begin, end, name in spans:
        if begin != pos:
            raise SafetensorsError(f"{path}: tensor '{name}' starts at {begin}, expected {pos}")
        pos = end
    if pos != len(data):
        raise SafetensorsError(f"{path}: {len(data) - pos} bytes after the last tensor")
    return header, n, data


def read_safetensors(path):
    """(metadata, {name: (dtype, ndarray of raw storage values)}) of a file."""
    header, _, data = read_header(path)
    metadata = header.get("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=STORAGE[info["dtype"]])
        tensors[name] = (info["dtype"], array.reshape(info["shape"]))
    return metadata, tensors


def raw_tensors(path):
    """(metadata, {name: (dtype, shape, bytes)}) of a file, for rewriting."""
    header, _, data = read_header(path)
    metadata = header.get("__metadata__")
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = (info["dtype"], info["shape"], data[begin:end])
    return metadata, tensors
