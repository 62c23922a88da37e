//===- LatheKernelOps.cpp - verifiers of the kernels-phase ops ------------===//

#include "dialects/lathe/IR/LatheKernelOps.h"
#include "dialects/lathe/IR/LatheOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace lathe;

//===----------------------------------------------------------------------===//
// Where kernels live
//===----------------------------------------------------------------------===//

KernelAttr lathe::getKernelAttr(func::FuncOp func) {
  return func->getAttrOfType<KernelAttr>(kKernelAttrName);
}

KernelAttr lathe::getEnclosingKernel(Operation *op) {
  auto func = op->getParentOfType<func::FuncOp>();
  return func ? getKernelAttr(func) : KernelAttr();
}

bool lathe::isTargetModule(ModuleOp module) {
  return module->hasAttr(kTargetAttrName);
}

SmallVector<ModuleOp> lathe::getTargetModules(ModuleOp top) {
  SmallVector<ModuleOp> targets;
  for (auto module : top.getOps<ModuleOp>())
    if (isTargetModule(module))
      targets.push_back(module);
  return targets;
}

//===----------------------------------------------------------------------===//
// Types and attributes
//===----------------------------------------------------------------------===//

LogicalResult TableType::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t size, MemRefType element) {
  if (size <= 0)
    return emitError() << "a table needs at least one entry, got " << size;
  if (!element.hasStaticShape() || !element.getLayout().isIdentity())
    return emitError() << "table entries must be statically shaped row-major "
                          "memrefs, got "
                       << element;
  return success();
}

LogicalResult KernelAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef family, int64_t buffers,
                                 int64_t scalars, AffineMapAttr grid) {
  if (family.empty())
    return emitError() << "a kernel needs a family";
  if (buffers < 0 || scalars < 0)
    return emitError() << "a kernel's buffer and scalar counts must be "
                          "non-negative";
  AffineMap map = grid.getValue();
  if (map.getNumDims() != 0 || map.getNumSymbols() != scalars ||
      map.getNumResults() != 3)
    return emitError() << "a kernel's grid maps its " << scalars
                       << " scalars (as symbols, no dims) to 3 workgroup "
                          "counts, got "
                       << grid;
  return success();
}

//===----------------------------------------------------------------------===//
// Interface ops
//===----------------------------------------------------------------------===//

namespace {

/// The kernel around `op`, or an error saying that the op needs one.
FailureOr<KernelAttr> enclosingKernel(Operation *op) {
  KernelAttr kernel = getEnclosingKernel(op);
  if (!kernel)
    return op->emitOpError() << "must be inside a func.func marked "
                             << kKernelAttrName;
  return kernel;
}

LogicalResult verifyRowMajorView(Operation *op, MemRefType type,
                                 ValueRange dynamicSizes) {
  if (!type.getLayout().isIdentity())
    return op->emitOpError() << "views its buffer row-major; got layout "
                             << type.getLayout();
  if (static_cast<int64_t>(dynamicSizes.size()) != type.getNumDynamicDims())
    return op->emitOpError() << "has " << dynamicSizes.size()
                             << " dynamic sizes for " << type << ", which has "
                             << type.getNumDynamicDims() << " dynamic dims";
  return success();
}

LogicalResult verifyBufferIndex(Operation *op, int64_t index) {
  FailureOr<KernelAttr> kernel = enclosingKernel(op);
  if (failed(kernel))
    return failure();
  if (index < 0 || index >= kernel->getBuffers())
    return op->emitOpError() << "reads buffer " << index << " of a kernel with "
                             << kernel->getBuffers() << " buffers";
  return success();
}

LogicalResult verifyDimension(Operation *op, int64_t dimension) {
  if (failed(enclosingKernel(op)))
    return failure();
  if (dimension < 0 || dimension > 2)
    return op->emitOpError() << "dimension must be 0 (x), 1 (y) or 2 (z), got "
                             << dimension;
  return success();
}

} // namespace

LogicalResult BindingOp::verify() {
  if (failed(verifyBufferIndex(*this, getIndexAttr().getInt())))
    return failure();
  return verifyRowMajorView(*this, getType(), getDynamicSizes());
}

LogicalResult BindingTableOp::verify() {
  if (failed(verifyBufferIndex(*this, getIndexAttr().getInt())))
    return failure();
  return verifyRowMajorView(*this, getType(), getDynamicSizes());
}

LogicalResult ScalarOp::verify() {
  FailureOr<KernelAttr> kernel = enclosingKernel(*this);
  if (failed(kernel))
    return failure();
  int64_t index = getIndexAttr().getInt();
  if (index < 0 || index >= kernel->getScalars())
    return emitOpError() << "reads scalar " << index << " of a kernel with "
                         << kernel->getScalars() << " scalars";
  return success();
}

LogicalResult WorkgroupIdOp::verify() {
  return verifyDimension(*this, getDimensionAttr().getInt());
}

LogicalResult WorkgroupCountOp::verify() {
  return verifyDimension(*this, getDimensionAttr().getInt());
}

//===----------------------------------------------------------------------===//
// Entry-function ops
//===----------------------------------------------------------------------===//

ParseResult lathe::parseTableEntryTypes(OpAsmParser &parser,
                                        SmallVectorImpl<Type> &entryTypes,
                                        Type tableType) {
  auto table = dyn_cast<TableType>(tableType);
  if (!table)
    return parser.emitError(parser.getCurrentLocation(),
                            "expected a !lathe.table type");
  entryTypes.assign(table.getSize(), table.getElement());
  return success();
}

void lathe::printTableEntryTypes(OpAsmPrinter &, Operation *, TypeRange,
                                 Type) {}

LogicalResult LaunchOp::verify() {
  for (auto [i, buffer] : llvm::enumerate(getBuffers()))
    if (!isa<MemRefType, TableType>(buffer.getType()))
      return emitOpError() << "buffer " << i
                           << " must be a memref or a !lathe.table, got "
                           << buffer.getType();
  return success();
}

LogicalResult LaunchOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  // Entries and target modules are siblings in the top module.
  auto top = (*this)->getParentOfType<func::FuncOp>()
                 ? (*this)->getParentOfType<func::FuncOp>()
                       ->getParentOfType<ModuleOp>()
                 : ModuleOp();
  if (!top)
    return emitOpError() << "must be inside an entry function of a module";
  SmallVector<ModuleOp> targets = getTargetModules(top);
  if (targets.empty())
    return emitOpError() << "launches @" << getKernel()
                         << " but the module has no target module (a nested "
                            "module with a "
                         << kTargetAttrName << " attribute)";
  for (ModuleOp target : targets) {
    auto name = target->getAttrOfType<StringAttr>(kTargetAttrName);
    auto func = symbolTable.lookupSymbolIn<func::FuncOp>(target, getKernelAttr());
    if (!func)
      return emitOpError() << "launches @" << getKernel()
                           << ", which target " << name << " does not define";
    KernelAttr kernel = lathe::getKernelAttr(func);
    if (!kernel)
      return emitOpError() << "launches @" << getKernel() << ", which target "
                           << name << " defines without " << kKernelAttrName;
    if (kernel.getBuffers() != static_cast<int64_t>(getBuffers().size()) ||
        kernel.getScalars() != static_cast<int64_t>(getScalars().size()))
      return emitOpError() << "passes " << getBuffers().size() << " buffers and "
                           << getScalars().size() << " scalars to @"
                           << getKernel() << ", which takes "
                           << kernel.getBuffers() << " and "
                           << kernel.getScalars() << " on target " << name;
  }
  return success();
}

LogicalResult ArenaOp::verify() {
  if (getOffsetAttr().getInt() < 0)
    return emitOpError() << "offset must be non-negative, got "
                         << getOffsetAttr().getInt();
  return verifyRowMajorView(*this, getType(), getDynamicSizes());
}

LogicalResult KVCacheOp::verify() {
  if (getLayerAttr().getInt() < 0)
    return emitOpError() << "layer must be non-negative, got "
                         << getLayerAttr().getInt();
  if (!getType().hasStaticShape() || !getType().getLayout().isIdentity())
    return emitOpError() << "a KV cache layer is a static row-major "
                            "[max_batch, max_seq_len, width] memref, got "
                         << getType();
  return success();
}

LogicalResult WeightTableOp::verify() {
  TableType type = getType();
  if (static_cast<int64_t>(getWeights().size()) != type.getSize())
    return emitOpError() << "has " << getWeights().size() << " weights for "
                         << type;
  for (auto [i, weight] : llvm::enumerate(getWeights()))
    if (weight.getType() != type.getElement())
      return emitOpError() << "weight " << i << " has type " << weight.getType()
                           << " but the table holds " << type.getElement();
  return success();
}

LogicalResult RopeTableOp::verify() {
  MemRefType type = getType();
  if (!type.hasStaticShape() || type.getDimSize(1) != 2 ||
      type.getDimSize(2) % 2 != 0 || type.getDimSize(0) <= 0)
    return emitOpError() << "a RoPE table is a static [positions, 2, dims] "
                            "memref with even dims, got "
                         << type;
  return success();
}
