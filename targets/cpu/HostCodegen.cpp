//===- HostCodegen.cpp - LLVM dialect to x86-64 object code ---------------===//
//
// The runtime refuses a shared object on a CPU that lacks one of its
// `cpu_features`, checked with GCC's __builtin_cpu_supports names. So the
// code may use only what that list says: the TargetMachine gets the CPU's
// features that have such a name, and every other feature the CPU has
// beyond x86-64's baseline is switched off (unless a named feature implies
// it, as sse4.2 implies crc32: a CPU with the one has the other).
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/HostCodegen.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/TargetParser/X86TargetParser.h"

#include <mutex>

using namespace lathe;
using namespace lathe::cpu;
using llvm::SmallVector;
using llvm::StringRef;

namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// ISA extensions a kernel may use, each an LLVM feature spelled as GCC's
/// __builtin_cpu_supports spells it; in the order the module lists them.
constexpr StringRef kNamedFeatures[] = {
    "sse3",       "ssse3",        "sse4.1",      "sse4.2",
    "popcnt",     "lzcnt",        "movbe",       "bmi",
    "bmi2",       "aes",          "pclmul",      "avx",
    "avx2",       "fma",          "f16c",        "avxvnni",
    "gfni",       "vpclmulqdq",   "avx512f",     "avx512cd",
    "avx512dq",   "avx512bw",     "avx512vl",    "avx512ifma",
    "avx512vbmi", "avx512vbmi2",  "avx512vnni",  "avx512bitalg",
    "avx512vpopcntdq", "avx512bf16", "avx512fp16",
};

/// What every x86-64 CPU has, and evex512, which is part of avx512f on
/// every CPU that has it (LLVM splits it off only for AVX10/256).
constexpr StringRef kBaseline[] = {"64bit", "cmov", "cx8",  "fxsr",   "mmx",
                                   "sse",   "sse2", "x87", "evex512"};

bool isNamed(StringRef feature) {
  return llvm::is_contained(kNamedFeatures, feature);
}

bool isBaseline(StringRef feature) {
  return llvm::is_contained(kBaseline, feature);
}

/// Switches off every enabled feature that is neither named nor baseline
/// nor needed by a named one.
void restrictToNamed(llvm::StringMap<bool> &features) {
  SmallVector<std::string> enabled;
  for (const auto &entry : features)
    if (entry.getValue())
      enabled.push_back(entry.getKey().str());
  llvm::sort(enabled);
  for (const std::string &feature : enabled) {
    if (isNamed(feature) || isBaseline(feature) || !features.lookup(feature))
      continue;
    llvm::StringMap<bool> without = features;
    llvm::X86::updateImpliedFeatures(feature, false, without);
    bool keepsNamed = llvm::all_of(kNamedFeatures, [&](StringRef named) {
      return !features.lookup(named) || without.lookup(named);
    });
    if (keepsNamed)
      features = std::move(without);
  }
}

} // namespace

llvm::Expected<CodegenCpu> lathe::cpu::resolveCpu(StringRef cpu) {
  llvm::Triple host(llvm::sys::getProcessTriple());
  if (host.getArch() != llvm::Triple::x86_64)
    return error("the cpu target generates x86-64 code; this host is " +
                 host.str());
  CodegenCpu result;
  llvm::StringMap<bool> features;
  if (cpu == "native") {
    result.name = llvm::sys::getHostCPUName().str();
    for (const auto &entry : llvm::sys::getHostCPUFeatures())
      features[entry.getKey()] = entry.getValue();
  } else {
    if (llvm::X86::parseArchX86(cpu, /*Only64Bit=*/true) == llvm::X86::CK_None)
      return error("unknown CPU '" + cpu +
                   "': expected an LLVM x86-64 CPU name (znver4, "
                   "sapphirerapids, x86-64-v3, ...) or 'native'");
    result.name = cpu.str();
    SmallVector<StringRef> cpuFeatures;
    llvm::X86::getFeaturesForCPU(cpu, cpuFeatures);
    for (StringRef feature : cpuFeatures)
      features[feature] = true;
  }
  restrictToNamed(features);

  SmallVector<std::string> flags;
  for (const auto &entry : features)
    flags.push_back((entry.getValue() ? "+" : "-") + entry.getKey().str());
  llvm::sort(flags);
  result.llvmFeatures = llvm::join(flags, ",");
  for (StringRef named : kNamedFeatures)
    if (features.lookup(named))
      result.features.push_back(named.str());
  result.hasAVX512 = features.lookup("avx512f");
  return result;
}

namespace {

void initializeX86Target() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

void optimize(llvm::Module &module, llvm::TargetMachine &machine) {
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgsccs;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(cgsccs);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, cgsccs, modules);
  llvm::ModulePassManager pipeline =
      builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  pipeline.run(module, modules);
}

} // namespace

llvm::Expected<llvm::SmallVector<char, 0>>
lathe::cpu::emitObject(mlir::ModuleOp module, const CodegenCpu &cpu) {
  mlir::DialectRegistry registry;
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  module.getContext()->appendDialectRegistry(registry);

  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, context, "lathe_cpu");
  if (!llvmModule)
    return error("cpu target: translating the kernels to LLVM IR failed");

  initializeX86Target();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string lookupError;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!target)
    return error("cpu target: no LLVM target for " + triple.str() + ": " +
                 lookupError);
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu.name, cpu.llvmFeatures, llvm::TargetOptions(),
      llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return error("cpu target: LLVM has no target machine for CPU '" +
                 cpu.name + "'");
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());

  for (llvm::Function &function : *llvmModule) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("target-cpu", cpu.name);
    function.addFnAttr("target-features", cpu.llvmFeatures);
    // The kernels' vector<16xf32> is one zmm register: keep 512-bit types
    // legal even where the CPU's tuning prefers 256-bit vectors.
    if (cpu.hasAVX512) {
      function.addFnAttr("min-legal-vector-width", "512");
      function.addFnAttr("prefer-vector-width", "512");
    }
  }

  optimize(*llvmModule, *machine);
  std::string verifierMessage;
  llvm::raw_string_ostream verifierOut(verifierMessage);
  if (llvm::verifyModule(*llvmModule, &verifierOut))
    return error("cpu target: LLVM IR after O3 is invalid: " +
                 verifierMessage);

  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream out(object);
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, out, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return error("cpu target: LLVM cannot emit an object file for " +
                 triple.str());
  codegen.run(*llvmModule);
  return object;
}
