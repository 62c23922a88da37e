//===- HFConfig.h - a DeepSeek-family config.json ---------------*- C++ -*-===//
//
// The fields of a Hugging Face `config.json` that define a DeepSeek-V2/V3
// model, read with LLVM's JSON parser and checked for consistency. Every
// error names the file and the field.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_FRONTENDS_HF_HFCONFIG_H
#define LATHE_FRONTENDS_HF_HFCONFIG_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace lathe::hf {

struct YarnConfig {
  double factor = 1.0;
  int64_t originalMaxPositionEmbeddings = 0;
  double betaFast = 32.0;
  double betaSlow = 1.0;
  double mscale = 1.0;
  double mscaleAllDim = 0.0;
};

enum class TopkMethod { Greedy, GroupLimitedGreedy, NoauxTc };

struct MoEConfig {
  int64_t numRoutedExperts = 0;
  int64_t numSharedExperts = 0;
  int64_t numExpertsPerTok = 0;
  int64_t intermediateSize = 0;
  int64_t firstKDenseReplace = 0;
  int64_t layerFreq = 1;
  int64_t numGroups = 1;
  int64_t topkGroup = 1;
  TopkMethod topkMethod = TopkMethod::Greedy;
  bool sigmoidScoring = false;
  bool normTopkProb = false;
  double routedScalingFactor = 1.0;
};

struct FP8Config {
  std::array<int64_t, 2> blockSize = {128, 128};
};

struct DeepSeekConfig {
  std::string modelType; // deepseek_v2 | deepseek_v3
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0; // dense MLP layers
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  std::optional<int64_t> qLoraRank;
  int64_t kvLoraRank = 0;
  int64_t qkNopeHeadDim = 0;
  int64_t qkRopeHeadDim = 0;
  int64_t vHeadDim = 0;
  int64_t maxPositionEmbeddings = 0;
  double rmsNormEps = 1e-6;
  double ropeTheta = 10000.0;
  std::optional<YarnConfig> yarn;
  std::optional<MoEConfig> moe; // absent: every layer is dense
  std::optional<FP8Config> fp8;
  bool tieWordEmbeddings = false;
  int64_t numNextnPredictLayers = 0;

  /// Layer `i` uses MoE (else the dense SwiGLU MLP).
  bool isMoELayer(int64_t layer) const {
    return moe && layer >= moe->firstKDenseReplace &&
           layer % moe->layerFreq == 0;
  }
  /// `(qk_nope + qk_rope)^-0.5`, times `m^2` under YaRN.
  double softmaxScale() const;
};

/// Parses and checks `text`, the contents of the file `path` (used in
/// messages only).
llvm::Expected<DeepSeekConfig> parseConfig(llvm::StringRef text,
                                           llvm::StringRef path);

/// Reads `dir/config.json`.
llvm::Expected<DeepSeekConfig> readConfig(llvm::StringRef dir);

} // namespace lathe::hf

#endif // LATHE_FRONTENDS_HF_HFCONFIG_H
