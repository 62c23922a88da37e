//===- HFConfigFuzzer.cpp - fuzz the config.json reader -------------------===//
//
// parseConfig must turn any text into a DeepSeekConfig or an error naming
// the file, and an accepted config must be safe to use: the helpers the
// importer calls on it run here too.
//
//===----------------------------------------------------------------------===//

#include "frontends/hf/HFConfig.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace lathe::hf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  llvm::Expected<DeepSeekConfig> config = parseConfig(text, "fuzz/config.json");
  if (!config) {
    std::string message = llvm::toString(config.takeError());
    if (!llvm::StringRef(message).starts_with("fuzz/config.json: ")) {
      std::fprintf(stderr, "fuzz-hf-config: error without the path: %s\n",
                   message.c_str());
      std::abort();
    }
    return 0;
  }
  volatile double scale = config->softmaxScale();
  (void)scale;
  int64_t layers = config->numLayers < 4 ? config->numLayers : 4;
  volatile int moeLayers = 0;
  for (int64_t layer = 0; layer < layers; ++layer)
    moeLayers = moeLayers + config->isMoELayer(config->numLayers - 1 - layer);
  return 0;
}
