//===- Random.h - the sampler's seeded generator ---------------*- C++ -*-===//
//
// --seed=S must give the same tokens on every machine and with every
// standard library, so the runtime uses its own generator rather than
// <random>'s distributions (whose algorithms are unspecified): PCG32
// (O'Neill's XSH-RR, 64-bit state), seeded through splitmix64 so that
// nearby seeds give unrelated streams.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_EXEC_RANDOM_H
#define LATHE_RUNTIME_EXEC_RANDOM_H

#include <cstdint>

namespace lathe::rt {

/// Steps `state` and returns the next splitmix64 output.
inline uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class Pcg32 {
public:
  /// The reference seeding (pcg32_srandom_r): an initial state and a
  /// stream selector.
  Pcg32(uint64_t initialState, uint64_t stream) {
    increment = (stream << 1) | 1;
    state = 0;
    next();
    state += initialState;
    next();
  }

  /// The generator of a user's seed: state and stream from splitmix64.
  static Pcg32 fromSeed(uint64_t seed) {
    uint64_t mix = seed;
    uint64_t initialState = splitmix64(mix);
    return Pcg32(initialState, splitmix64(mix));
  }

  uint32_t next() {
    uint64_t old = state;
    state = old * 6364136223846793005ull + increment;
    uint32_t xorshifted = uint32_t(((old >> 18) ^ old) >> 27);
    uint32_t rotation = uint32_t(old >> 59);
    return (xorshifted >> rotation) | (xorshifted << ((32 - rotation) & 31));
  }

  /// Uniform in [0, 1), from 53 random bits (two outputs).
  double nextDouble() {
    uint64_t high = next(), low = next();
    uint64_t bits = ((high << 32) | low) >> 11;
    return double(bits) * (1.0 / 9007199254740992.0);
  }

private:
  uint64_t state = 0, increment = 0;
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_EXEC_RANDOM_H
