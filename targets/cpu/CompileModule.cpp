//===- CompileModule.cpp - a cpu target module to a shared object ---------===//
//
// compileCpuModule: resolve the CPU, run lathe-cpu-lower-to-llvm's pipeline
// with every diagnostic collected into the returned error, translate to
// LLVM IR, optimize, emit the object and link it (HostCodegen.cpp,
// Link.cpp).
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/CpuTarget.h"

#include "targets/cpu/HostCodegen.h"
#include "targets/cpu/Link.h"
#include "targets/cpu/Passes.h"

#include "dialects/lathe/IR/LatheDialect.h"
#include "dialects/lathe/IR/LatheKernelOps.h"
#include "passes/ToolOptions.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Affine/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace lathe;
using namespace lathe::cpu;

void lathe::cpu::registerCpuTargetDialects(DialectRegistry &registry) {
  registry.insert<LatheDialect, affine::AffineDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  func::FuncDialect, index::IndexDialect, LLVM::LLVMDialect,
                  linalg::LinalgDialect, math::MathDialect,
                  memref::MemRefDialect, scf::SCFDialect,
                  tensor::TensorDialect, ub::UBDialect,
                  vector::VectorDialect>();
  // Bufferization, tiling and the bounds masked vectorization reasons with.
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  vector::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerTilingInterfaceExternalModels(registry);
  affine::registerValueBoundsOpInterfaceExternalModels(registry);
  arith::registerValueBoundsOpInterfaceExternalModels(registry);
  linalg::registerValueBoundsOpInterfaceExternalModels(registry);
  memref::registerValueBoundsOpInterfaceExternalModels(registry);
  scf::registerValueBoundsOpInterfaceExternalModels(registry);
  tensor::registerValueBoundsOpInterfaceExternalModels(registry);
  vector::registerValueBoundsOpInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Runs the lowering pipeline; the diagnostics it emits become the error.
llvm::Error lowerToLLVM(ModuleOp module) {
  MLIRContext *context = module.getContext();
  std::string messages;
  llvm::raw_string_ostream os(messages);
  ScopedDiagnosticHandler handler(context, [&](Diagnostic &diagnostic) {
    if (diagnostic.getSeverity() != DiagnosticSeverity::Error)
      return success();
    os << "\n  " << diagnostic.str();
    for (Diagnostic &note : diagnostic.getNotes())
      os << "\n    note: " << note.str();
    return success();
  });
  PassManager pm(context, ModuleOp::getOperationName());
  buildCpuLoweringPipeline(pm);
  // The tool's --mlir-print-ir-*, --mlir-timing, ... apply here too.
  if (failed(lathe::applyToolPassManagerOptions(pm)))
    return error("cpu target: the --mlir-* pass manager options conflict");
  if (failed(verifyCpuTargetModule(module)) || failed(pm.run(module)))
    return error("cpu target: lowering the kernels failed:" + messages);
  return llvm::Error::success();
}

} // namespace

llvm::Expected<CpuObject> lathe::cpu::compileCpuModule(ModuleOp module) {
  MLIRContext *context = module.getContext();
  DialectRegistry registry;
  registerCpuTargetDialects(registry);
  context->appendDialectRegistry(registry);

  auto target = module->getAttrOfType<StringAttr>(kTargetAttrName);
  if (!target || target.getValue() != "cpu")
    return error("cpu target: expected a module with " +
                 kTargetAttrName.str() + " = \"cpu\"");
  auto cpuAttr = module->getAttrOfType<StringAttr>(kCpuAttrName);
  llvm::Expected<CodegenCpu> cpu =
      resolveCpu(cpuAttr ? cpuAttr.getValue() : StringRef("native"));
  if (!cpu)
    return cpu.takeError();
  Builder b(context);
  module->setAttr(kCpuAttrName, b.getStringAttr(cpu->name));
  SmallVector<Attribute> features;
  for (const std::string &feature : cpu->features)
    features.push_back(b.getStringAttr(feature));
  module->setAttr(kCpuFeaturesAttrName, b.getArrayAttr(features));

  if (llvm::Error err = lowerToLLVM(module))
    return std::move(err);
  llvm::Expected<llvm::SmallVector<char, 0>> object = emitObject(module, *cpu);
  if (!object)
    return object.takeError();
  llvm::Expected<std::vector<char>> sharedObject = linkSharedObject(*object);
  if (!sharedObject)
    return sharedObject.takeError();
  return CpuObject{std::move(*sharedObject), cpu->name, cpu->features};
}
