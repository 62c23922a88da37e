//===- Sampler.h - picks each next token from its logits -------*- C++ -*-===//
//
// Greedy takes the argmax, the lowest id among ties. With a temperature T,
// the sampler draws from softmax(logits / T) with its own seeded PCG32 and
// its own exp (plain IEEE arithmetic, compiled without FMA contraction), so
// that the same seed and the same logits give the same token on any
// machine. One uniform draw per row and step, rows in order within a step.
//
// Logits that are not numbers are never chosen. An infinite logit takes
// all the probability (the lowest such id wins). A row with no finite or
// +inf logit is an error rather than an arbitrary token.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_EXEC_SAMPLER_H
#define LATHE_RUNTIME_EXEC_SAMPLER_H

#include "runtime/exec/Random.h"
#include "runtime/support/Status.h"

#include <cstdint>
#include <vector>

namespace lathe::rt {

struct SamplingOptions {
  /// 0: greedy. Otherwise a finite positive temperature.
  double temperature = 0;
  uint64_t seed = 0;
};

/// The index of the largest of `count` logits, the lowest among equals;
/// NaNs are skipped. -1 when every logit is NaN (or count is 0).
int64_t argmax(const float *logits, int64_t count);

/// e^x for x <= 0, from IEEE basic operations only: the same bits on every
/// machine (relative error below 1e-15).
double portableExp(double x);

class Sampler {
public:
  /// Errors unless the temperature is 0 or finite and positive.
  static Expected<Sampler> create(const SamplingOptions &options);

  bool greedy() const { return temperature == 0; }

  /// Picks one of `count` logits. Errors when no logit can be chosen.
  Expected<int64_t> pick(const float *logits, int64_t count);

private:
  Sampler(double temperature, uint64_t seed)
      : temperature(temperature), random(Pcg32::fromSeed(seed)) {}

  double temperature;
  Pcg32 random;
  std::vector<double> weights;
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_EXEC_SAMPLER_H
