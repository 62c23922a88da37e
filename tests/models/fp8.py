#!/usr/bin/python3
"""OCP FP8 E4M3 ("e4m3fn") with numpy, and DeepSeek's 128x128 block scaling.

E4M3FN: 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities; the only
NaNs are S.1111.111 (0x7F, 0xFF); the largest finite value is 448
(S.1111.110); subnormals are m/8 * 2^-6.

`encode` rounds to nearest, ties to even, and saturates: every finite or
infinite value beyond +-448 becomes +-448; NaN becomes NaN of the same sign.

Block quantization (what DeepSeek-V3's checkpoints hold): for each 128x128
block of a [out, in] weight (edge blocks may be partial),
    scale = float32(max(amax(|block|), 1e-4) / 448)
    q     = encode(w / scale)
and `weight_scale_inv` = scale, shape [ceil(out/128), ceil(in/128)], F32, so
that dequantized = decode(q) * scale. The 1e-4 floor is DeepGEMM's
(`per_block_cast_to_fp8`): an all-zero block gets a finite, non-zero scale.

`python3 fp8.py --self-test` checks all of this against an independent
construction with exact rationals.
"""

import sys
from fractions import Fraction

import numpy as np

MAX = 448.0
NAN_CODE = 0x7F
BLOCK = 128
AMAX_FLOOR = 1e-4


def decode(codes):
    """uint8 codes -> float64 values (NaN for 0x7F/0xFF)."""
    c = np.asarray(codes, dtype=np.uint8).astype(np.int64)
    sign = np.where(c & 0x80, -1.0, 1.0)
    exp = (c >> 3) & 0xF
    man = c & 0x7
    value = np.where(exp == 0,
                     np.ldexp(man.astype(np.float64), -9),
                     np.ldexp((8 + man).astype(np.float64), exp - 10))
    value = sign * value
    return np.where((c & 0x7F) == NAN_CODE, np.nan, value)


# The non-negative finite values in code order (0x00..0x7E): increasing.
_POSITIVE = decode(np.arange(0x7F, dtype=np.uint8))


def encode(x):
    """float32/float64 values -> uint8 e4m3fn codes, round to nearest even,
    saturating to +-448; NaN -> NaN."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    # Quantum of the binade of |x|: 2^(e-3) for normals, 2^-9 for subnormals.
    _, e = np.frexp(a)  # a = m * 2^e, m in [0.5, 1)
    quantum_exp = np.maximum(e - 1, -6) - 3
    with np.errstate(invalid="ignore", over="ignore"):
        # Dividing by a power of two is exact; rint rounds half to even.
        rounded = np.ldexp(np.rint(np.ldexp(a, -quantum_exp)), quantum_exp)
    rounded = np.where(np.isnan(a), 0.0, np.minimum(rounded, MAX))
    # `rounded` is now exactly one of the finite values.
    code = np.searchsorted(_POSITIVE, rounded).astype(np.uint8)
    code = np.where(np.isnan(a), NAN_CODE, code).astype(np.uint8)
    return code | np.where(np.signbit(x), 0x80, 0).astype(np.uint8)


def block_grid(shape, block=BLOCK):
    """[ceil(out/block), ceil(in/block)]."""
    return [-(-shape[0] // block), -(-shape[1] // block)]


def quantize_blocks(w, block=BLOCK):
    """(codes uint8 [out, in], scale float32 [ceil(out/b), ceil(in/b)])."""
    w = np.asarray(w, dtype=np.float64)
    rows, cols = block_grid(w.shape, block)
    scale = np.empty((rows, cols), dtype=np.float32)
    codes = np.empty(w.shape, dtype=np.uint8)
    for i in range(rows):
        for j in range(cols):
            blk = w[i * block:(i + 1) * block, j * block:(j + 1) * block]
            amax = float(np.max(np.abs(blk)))
            s = np.float32(max(amax, AMAX_FLOOR) / MAX)
            scale[i, j] = s
            codes[i * block:(i + 1) * block, j * block:(j + 1) * block] = \
                encode(blk / np.float64(s))
    return codes, scale


def dequantize_blocks(codes, scale, block=BLOCK):
    """float64 decode(codes) * scale, the scale broadcast over its block."""
    expanded = np.repeat(np.repeat(np.asarray(scale, dtype=np.float64), block, 0), block, 1)
    return decode(codes) * expanded[:codes.shape[0], :codes.shape[1]]


# ---------------------------------------------------------------------------
# Self-test: an independent construction with exact rationals.

def _ref_value(code):
    """Exact value of a code as a Fraction, or None for NaN, built from the
    bit fields with integer arithmetic only."""
    sign = -1 if code & 0x80 else 1
    exp = (code >> 3) & 0xF
    man = code & 0x7
    if exp == 0xF and man == 0x7:
        return None
    if exp == 0:
        mag = Fraction(man, 8) * Fraction(1, 2 ** 6)
    else:
        mag = (1 + Fraction(man, 8)) * (Fraction(2) ** (exp - 7))
    return sign * mag


_REF_POSITIVE = [(_ref_value(c), c) for c in range(0x7F)]


def _ref_encode(x):
    """Reference encoder: the nearest of the exact positive values (found by
    bisection), ties to the even code, in rational arithmetic."""
    if x != x:
        return None  # NaN
    neg = bool(np.signbit(x))
    if abs(x) == float("inf") or Fraction(abs(float(x))) >= 448:
        return 0x7E | (0x80 if neg else 0)
    a = Fraction(abs(float(x)))
    lo, hi = 0, len(_REF_POSITIVE) - 1  # invariant: value[lo] <= a < value[hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _REF_POSITIVE[mid][0] <= a:
            lo = mid
        else:
            hi = mid
    (vlo, clo), (vhi, chi) = _REF_POSITIVE[lo], _REF_POSITIVE[hi]
    dlo, dhi = a - vlo, vhi - a
    code = clo if dlo < dhi or (dlo == dhi and clo % 2 == 0) else chi
    return code | (0x80 if neg else 0)


def self_test():
    failures = []
    checks = 0

    def check(cond, what):
        nonlocal checks
        checks += 1
        if not cond:
            failures.append(what)

    codes = np.arange(256, dtype=np.uint8)
    values = decode(codes)
    # decode matches the bit-level rational construction for all 256 codes.
    for c in range(256):
        ref = _ref_value(c)
        if ref is None:
            check(np.isnan(values[c]), f"decode(0x{c:02x}) should be NaN")
        else:
            check(Fraction(float(values[c])) == ref and
                  np.signbit(values[c]) == bool(c & 0x80),
                  f"decode(0x{c:02x}) = {values[c]!r}, expected {ref}")
    # Landmarks.
    for c, v in [(0x00, 0.0), (0x01, 2.0 ** -9), (0x07, 7 * 2.0 ** -9), (0x08, 2.0 ** -6),
                 (0x38, 1.0), (0x7E, 448.0), (0x7D, 416.0), (0xC0, -2.0), (0xFE, -448.0)]:
        check(values[c] == v, f"decode(0x{c:02x}) = {values[c]}, expected {v}")
    # encode(decode(c)) == c for every non-NaN code (including -0), from
    # float64 and from float32.
    finite = [c for c in range(256) if (c & 0x7F) != 0x7F]
    for dtype in (np.float64, np.float32):
        back = encode(values[finite].astype(dtype))
        for c, b in zip(finite, back):
            check(int(b) == c, f"encode(decode(0x{c:02x})) as {dtype.__name__} = 0x{int(b):02x}")
    # NaN stays NaN, with its sign.
    check(encode(np.float64("nan")) == 0x7F, "encode(NaN)")
    check(encode(-np.float64("nan")) == 0xFF, "encode(-NaN)")
    check(encode(np.float32("nan")) == 0x7F, "encode(float32 NaN)")
    # Saturation.
    for x, c in [(448.0, 0x7E), (449.0, 0x7E), (463.99, 0x7E), (464.0, 0x7E), (480.0, 0x7E),
                 (1e30, 0x7E), (np.inf, 0x7E), (-np.inf, 0xFE), (-1e9, 0xFE)]:
        check(int(encode(np.float64(x))) == c, f"encode({x}) saturates to 0x{c:02x}")
    # Ties between every pair of neighbours go to the even code; just off a
    # tie goes to the nearer one.
    for c in range(0x7E):
        lo, hi = Fraction(float(values[c])), Fraction(float(values[c + 1]))
        mid = (lo + hi) / 2
        even = c if c % 2 == 0 else c + 1
        m = float(mid)
        check(Fraction(m) == mid, f"midpoint of 0x{c:02x} is exact in float64")
        check(int(encode(m)) == even, f"tie between 0x{c:02x} and 0x{c + 1:02x} -> 0x{even:02x}")
        check(int(encode(-m)) == even | 0x80, f"negative tie 0x{c:02x}/0x{c + 1:02x}")
        below, above = np.nextafter(m, 0.0), np.nextafter(m, np.inf)
        check(int(encode(below)) == c, f"just below the 0x{c:02x}/0x{c + 1:02x} tie")
        check(int(encode(above)) == c + 1, f"just above the 0x{c:02x}/0x{c + 1:02x} tie")
    # Subnormal landmarks: half the smallest subnormal ties to 0.
    for x, c in [(2.0 ** -10, 0x00), (3 * 2.0 ** -10, 0x02), (2.0 ** -10 * 1.0001, 0x01),
                 (2.0 ** -11, 0x00), (1e-30, 0x00), (-1e-30, 0x80), (15 * 2.0 ** -10, 0x08)]:
        check(int(encode(np.float64(x))) == c, f"encode({x!r}) = 0x{c:02x}")
    # Random values, float32 and float64, over the whole range, against the
    # exhaustive reference.
    rng = np.random.default_rng(1234)
    mags = np.ldexp(rng.random(3000) + 0.5, rng.integers(-14, 11, 3000))
    samples = np.concatenate([mags * rng.choice([-1.0, 1.0], 3000), [0.0, -0.0]])
    for dtype in (np.float64, np.float32):
        xs = samples.astype(dtype)
        got = encode(xs)
        for x, g in zip(xs, got):
            ref = _ref_encode(x)
            check(int(g) == ref, f"encode({x!r} as {dtype.__name__}) = 0x{int(g):02x}, "
                                 f"reference 0x{ref:02x}")
    # Block quantization: grid shape, scale rule, and error bound, with
    # partial edge blocks in both directions and an all-zero block.
    w = rng.standard_normal((200, 300)) * 0.1
    w[128:, 256:] = 0.0
    q, s = quantize_blocks(w)
    check(list(s.shape) == [2, 3] and s.dtype == np.float32, "scale grid [2, 3] of float32")
    check(s[1, 2] == np.float32(AMAX_FLOOR / MAX), "all-zero block gets the floor scale")
    check(float(s[0, 0]) == float(np.float32(np.max(np.abs(w[:128, :128])) / MAX)), "scale = amax/448")
    dq = dequantize_blocks(q, s)
    expanded = np.repeat(np.repeat(s.astype(np.float64), 128, 0), 128, 1)[:200, :300]
    bound = np.maximum(np.abs(w) * 2.0 ** -4, expanded * 2.0 ** -10) * (1 + 2.0 ** -20)
    check(bool(np.all(np.abs(dq - w) <= bound)), "block dequantization within half a quantum")
    check(bool(np.all(dq[128:, 256:] == 0.0)), "zero block stays zero")

    for f in failures[:20]:
        print("FAIL:", f, file=sys.stderr)
    if failures:
        print(f"fp8 self-test: {len(failures)} of {checks} checks failed", file=sys.stderr)
        return 1
    print(f"fp8 self-test: {checks} checks passed")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    print(__doc__.strip() + "\n\nusage: fp8.py --self-test", file=sys.stderr)
    sys.exit(2)
