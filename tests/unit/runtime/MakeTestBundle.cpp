//===- MakeTestBundle.cpp - the toy bundle for lathe-run's lit tests ------===//
//
//   lathe-test-bundle DIR [--embed] [--bogus-feature]
//   lathe-test-bundle DIR --fuzz-seeds
//
// Writes DIR/toy.lathe, the toy model of TestBundle.h, with its weights in
// DIR/weights.bin (or embedded). --bogus-feature lists a CPU feature no
// machine has, so that lathe-run refuses the code. --fuzz-seeds writes the
// seed corpus of fuzz-bundle instead (tests/fuzz/corpus/bundle). A test
// helper, not a user tool.
//
//===----------------------------------------------------------------------===//

#include "tests/unit/runtime/TestBundle.h"

#include "runtime/bundle/Format.h"

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

using namespace lathe::rt::testing;

namespace {

/// Small bundles next to every check of the loader, with 64 bytes of
/// stand-in code so that mutations land on the structure, not on machine
/// code the fuzzer never runs.
void writeFuzzSeeds(const std::string &dir) {
  std::vector<uint8_t> code(64, 0);
  std::memcpy(code.data(),
              "\x7f"
              "ELF",
              4);
  std::vector<uint8_t> blob = toyWeightBlob();
  auto write = [&](const char *name, const std::vector<uint8_t> &bytes) {
    writeBytes(dir + "/" + name, bytes);
  };

  BundleSpec toy = toyModel("");
  toy.targets[0].code = code;
  write("toy-embedded.lathe", buildBundle(toy, &blob));

  BundleSpec files = toyModel("../ckpt/model.safetensors");
  files.targets[0].code = code;
  files.targets[0].features = {"avx2", "fma"};
  write("toy-files.lathe", buildBundle(files));

  BundleSpec minimal;
  write("minimal.lathe", buildBundle(minimal));

  BundleSpec gpu = toy;
  gpu.targets[0].name = "sm_90a";
  gpu.targets[0].code.clear();
  gpu.kv->dtype = fb::ElementType::BF16;
  gpu.kv->width = 576;
  gpu.kv->bytesPerToken = 576 * 2;
  write("sm90a-bf16-cache.lathe", buildBundle(gpu, &blob));

  // Every Expr op, nested.
  BundleSpec exprs = toy;
  exprs.functions[0].outputs[0].shape[0] = binary(
      binary(symbol(0) * constant(3), constant(2), fb::ExprOpKind::FloorDiv),
      binary(ceilDiv(symbol(0), constant(4)), constant(5), fb::ExprOpKind::Mod),
      fb::ExprOpKind::Add);
  write("every-expr-op.lathe", buildBundle(exprs, &blob));

  BundleSpec version = toy;
  version.version = 2;
  write("version-2.lathe", buildBundle(version, &blob));

  std::vector<uint8_t> flipped = buildBundle(toy, &blob);
  flipped[40] ^= 0x5a;
  write("bad-checksum.lathe", flipped);
  std::vector<uint8_t> truncated = buildBundle(toy, &blob);
  truncated.resize(truncated.size() / 2);
  write("truncated.lathe", truncated);
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: lathe-test-bundle DIR [--embed] "
                         "[--bogus-feature] | DIR --fuzz-seeds\n");
    return 2;
  }
  std::string dir = argv[1];
  bool embed = false, bogus = false, seeds = false;
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--embed")
      embed = true;
    else if (flag == "--bogus-feature")
      bogus = true;
    else if (flag == "--fuzz-seeds")
      seeds = true;
    else {
      std::fprintf(stderr, "lathe-test-bundle: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  try {
    if (seeds) {
      writeFuzzSeeds(dir);
      return 0;
    }
    BundleSpec spec = toyModel(embed ? "" : "weights.bin");
    if (bogus)
      spec.targets[0].features = {"lathe-bogus-feature"};
    std::vector<uint8_t> blob = toyWeightBlob();
    writeBytes(dir + "/toy.lathe", buildBundle(spec, embed ? &blob : nullptr));
    if (!embed)
      writeBytes(dir + "/weights.bin", toyWeightFile());
  } catch (const std::exception &e) {
    std::fprintf(stderr, "lathe-test-bundle: %s\n", e.what());
    return 1;
  }
  return 0;
}
