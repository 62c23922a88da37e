//===- Sampler.cpp - picks each next token from its logits ----------------===//
//
// Compiled with -ffp-contract=off (runtime/CMakeLists.txt): a fused
// multiply-add rounds differently from a multiply then an add, and would
// make portableExp's bits depend on the flags and the machine.
//
//===----------------------------------------------------------------------===//

#include "runtime/exec/Sampler.h"

#include <cmath>
#include <limits>

using namespace lathe::rt;

int64_t lathe::rt::argmax(const float *logits, int64_t count) {
  int64_t best = -1;
  for (int64_t i = 0; i < count; ++i) {
    if (std::isnan(logits[i]))
      continue;
    if (best < 0 || logits[i] > logits[best])
      best = i;
  }
  return best;
}

double lathe::rt::portableExp(double x) {
  if (std::isnan(x))
    return x;
  // Below this, e^x is 0 even as a subnormal double.
  if (x < -745.2)
    return 0;
  if (x > 0)
    x = 0;
  // x = k ln2 + r with |r| <= ln2 / 2; ln2 split so that k * ln2Hi is
  // exact for every k in range.
  const double ln2Hi = 6.93147180369123816490e-01;
  const double ln2Lo = 1.90821492927058770002e-10;
  const double invLn2 = 1.44269504088896338700e+00;
  double k = std::floor(x * invLn2 + 0.5);
  double r = (x - k * ln2Hi) - k * ln2Lo;
  // Taylor to degree 13: the first term left out is below 4e-18.
  double p = 1.0 / 6227020800.0;
  for (double factorial :
       {479001600.0, 39916800.0, 3628800.0, 362880.0, 40320.0, 5040.0, 720.0,
        120.0, 24.0, 6.0, 2.0, 1.0, 1.0})
    p = p * r + 1.0 / factorial;
  // Scaling by a power of two is exact (or correctly rounded if subnormal).
  return std::ldexp(p, int(k));
}

Expected<Sampler> Sampler::create(const SamplingOptions &options) {
  double t = options.temperature;
  if (!(t == 0 || (std::isfinite(t) && t > 0)))
    return makeError("temperature ", t,
                     " is not a positive finite number (0 is greedy)");
  return Sampler(t, options.seed);
}

Expected<int64_t> Sampler::pick(const float *logits, int64_t count) {
  int64_t best = argmax(logits, count);
  if (best < 0 || logits[best] == -std::numeric_limits<float>::infinity())
    return Status::error("no logit can be chosen: every one is NaN or -inf");
  if (greedy() || std::isinf(logits[best]))
    return best;

  const double top = logits[best];
  weights.resize(size_t(count));
  double total = 0;
  for (int64_t i = 0; i < count; ++i) {
    double w = std::isnan(logits[i])
                   ? 0
                   : portableExp((double(logits[i]) - top) / temperature);
    weights[size_t(i)] = w;
    total += w;
  }
  // The argmax contributes e^0 = 1, so total >= 1.
  double target = random.nextDouble() * total;
  double cumulative = 0;
  int64_t last = best;
  for (int64_t i = 0; i < count; ++i) {
    if (weights[size_t(i)] == 0)
      continue;
    cumulative += weights[size_t(i)];
    last = i;
    if (target < cumulative)
      return i;
  }
  // Rounding can leave target at the very top: the last candidate.
  return last;
}
