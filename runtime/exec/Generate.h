//===- Generate.h - the generation loop ------------------------*- C++ -*-===//
//
// docs/bundle-format.md, "Generation": with a prompt [batch, P], `prefill`
// on the prompt gives the logits of token 0 and `decode` on token i - 1
// gives those of token i, for i < N; the sampler picks each token from its
// logits. Both functions must take only a Tokens input (and a Positions
// input, which the runtime fills) and return a Logits output.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_EXEC_GENERATE_H
#define LATHE_RUNTIME_EXEC_GENERATE_H

#include "runtime/exec/Sampler.h"
#include "runtime/exec/Session.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lathe::rt {

struct GenerateOptions {
  /// N: tokens to generate per row.
  int64_t maxNewTokens = 0;
  SamplingOptions sampling;
  /// What messages about the prompt call it (lathe-run: the file).
  std::string promptName = "prompt";
  /// Keep every step's logits in GenerateResult::logits.
  bool keepLogits = false;
  /// Called after each step with the tokens chosen per row so far and N.
  std::function<void(int64_t done, int64_t total)> onStep;
};

struct GenerateResult {
  int64_t batch = 0, newTokens = 0, vocab = 0;
  /// [batch, newTokens], row-major.
  std::vector<int64_t> tokens;
  /// [newTokens, batch, vocab]: entry i holds the logits token i was chosen
  /// from. Empty unless keepLogits.
  std::vector<float> logits;
  /// The prefill call with the choice of token 0, and the decode calls
  /// with theirs.
  double prefillSeconds = 0, decodeSeconds = 0;
};

/// Empties the session's KV cache, then generates N tokens per row after
/// `prompt` ([batch, promptLen] token ids, row-major). Checks batch <=
/// max_batch, promptLen + N - 1 <= max_seq_len and every id against the
/// vocabulary before running anything.
Expected<GenerateResult> generate(Session &session,
                                  const std::vector<int64_t> &prompt,
                                  int64_t batch, int64_t promptLen,
                                  const GenerateOptions &options);

} // namespace lathe::rt

#endif // LATHE_RUNTIME_EXEC_GENERATE_H
