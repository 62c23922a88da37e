//===- Generate.cpp - the generation loop ---------------------------------===//

#include "runtime/exec/Generate.h"

#include "runtime/support/Text.h"

#include <chrono>
#include <cstring>
#include <limits>

using namespace lathe::rt;
namespace fb = lathe::bundle;

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

/// A function generation can call: its index and its Logits output.
struct LanguageModelFunction {
  uint32_t index = 0;
  uint32_t logits = 0;
};

Expected<LanguageModelFunction> lookUp(Session &session,
                                       std::string_view name) {
  Expected<uint32_t> index = session.findFunction(name);
  if (!index)
    return index.status().withContext("generation needs 'prefill' and "
                                      "'decode'");
  const fb::Function *function =
      session.bundle().root().functions()->Get(*index);
  std::string where =
      session.bundle().name() + ": function '" + std::string(name) + "'";
  bool hasTokens = false;
  const auto *inputs = function->inputs();
  for (uint32_t i = 0; inputs && i < inputs->size(); ++i) {
    fb::ParamRole role = inputs->Get(i)->role();
    hasTokens |= role == fb::ParamRole::Tokens;
    if (role != fb::ParamRole::Tokens && role != fb::ParamRole::Positions)
      return makeError(where, ": input ", i, " '",
                       printable(inputs->Get(i)->name()->string_view()),
                       "' has role ", fb::EnumNameParamRole(role),
                       "; generation passes only Tokens and Positions");
  }
  if (!hasTokens)
    return makeError(where, ": no input has role Tokens");
  const auto *outputs = function->outputs();
  for (uint32_t i = 0; outputs && i < outputs->size(); ++i)
    if (outputs->Get(i)->role() == fb::ParamRole::Logits)
      return LanguageModelFunction{*index, i};
  return makeError(where, ": no output has role Logits");
}

/// Calls `function` on `tokens` [batch, count] and returns its logits,
/// checked to be [batch, vocab].
Expected<Tensor> callForLogits(Session &session,
                               const LanguageModelFunction &function,
                               const std::vector<int32_t> &tokens,
                               int64_t batch, int64_t count, int64_t vocab) {
  TensorView input(DType::I32, {batch, count}, tokens.data(),
                   tokens.size() * sizeof(int32_t));
  Expected<std::vector<Tensor>> outputs = session.call(function.index, {input});
  if (!outputs)
    return outputs.status();
  Tensor &logits = (*outputs)[function.logits];
  if (logits.shape != std::vector<int64_t>{batch, vocab})
    return makeError(session.bundle().name(),
                     ": function returned logits of "
                     "shape ",
                     formatShape(logits.shape), "; generation needs [", batch,
                     ", ", vocab, "] (config.vocab_size)");
  return std::move(logits);
}

} // namespace

Expected<GenerateResult> lathe::rt::generate(Session &session,
                                             const std::vector<int64_t> &prompt,
                                             int64_t batch, int64_t promptLen,
                                             const GenerateOptions &options) {
  const fb::ModelConfig &config = *session.bundle().root().config();
  const std::string &name = session.bundle().name();
  const int64_t n = options.maxNewTokens;
  const int64_t vocab = config.vocab_size();

  const std::string &promptName = options.promptName;
  if (batch < 1 || promptLen < 1)
    return makeError(promptName, ": shape [", batch, ", ", promptLen,
                     "] needs at least one row and one token");
  if (prompt.size() != uint64_t(batch) * uint64_t(promptLen))
    return makeError(promptName, ": holds ", prompt.size(), " ids, not ", batch,
                     " x ", promptLen);
  if (n < 0)
    return makeError("max new tokens is negative (", n, ")");
  if (batch > config.max_batch())
    return makeError(promptName, ": ", batch, " rows, but ", name,
                     " was compiled for at most ", config.max_batch(),
                     " (lathe-compile --max-batch)");
  if (n > 0 && promptLen > config.max_seq_len() - (n - 1))
    return makeError(promptName, ": ", promptLen, " prompt tokens and ", n,
                     " new ones need ", promptLen, " + ", n,
                     " - 1 positions, more than the max_seq_len ",
                     config.max_seq_len(), " ", name,
                     " was compiled for (lathe-compile --max-seq-len)");
  if (vocab <= 0)
    return makeError(name, ": config.vocab_size is ", vocab,
                     "; the bundle cannot generate");
  for (size_t i = 0; i < prompt.size(); ++i)
    if (prompt[i] < 0 || prompt[i] >= vocab)
      return makeError(promptName, ": token [", int64_t(i) / promptLen, ", ",
                       int64_t(i) % promptLen, "] is ", prompt[i],
                       ", outside the vocabulary [0, ", vocab, ")");
  Expected<Sampler> sampler = Sampler::create(options.sampling);
  if (!sampler)
    return sampler.status();

  GenerateResult result;
  result.batch = batch;
  result.newTokens = n;
  result.vocab = vocab;
  result.tokens.assign(size_t(batch * n), 0);
  if (n == 0)
    return result;
  Expected<LanguageModelFunction> prefill = lookUp(session, "prefill");
  if (!prefill)
    return prefill.status();
  Expected<LanguageModelFunction> decode =
      n > 1 ? lookUp(session, "decode") : *prefill;
  if (!decode)
    return decode.status();
  if (options.keepLogits)
    result.logits.reserve(size_t(n * batch * vocab));

  session.reset();
  std::vector<int32_t> tokens(prompt.begin(), prompt.end());
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n; ++i) {
    Expected<Tensor> logits =
        i == 0
            ? callForLogits(session, *prefill, tokens, batch, promptLen, vocab)
            : callForLogits(session, *decode, tokens, batch, 1, vocab);
    if (!logits)
      return logits.status();
    const auto *rows = reinterpret_cast<const float *>(logits->data.data());
    tokens.resize(size_t(batch));
    for (int64_t b = 0; b < batch; ++b) {
      Expected<int64_t> token = sampler->pick(rows + b * vocab, vocab);
      if (!token)
        return token.status().withContext(name + ": token " +
                                          std::to_string(i) + " of row " +
                                          std::to_string(b));
      result.tokens[size_t(b * n + i)] = *token;
      tokens[size_t(b)] = int32_t(*token);
    }
    if (options.keepLogits)
      result.logits.insert(result.logits.end(), rows, rows + batch * vocab);
    if (i == 0) {
      result.prefillSeconds = secondsSince(start);
      start = std::chrono::steady_clock::now();
    }
    if (options.onStep)
      options.onStep(i + 1, n);
  }
  result.decodeSeconds = n > 1 ? secondsSince(start) : 0;
  return result;
}
