//===- Passes.td - the CPU target's lowering passes --------*- tablegen -*-===//
//
// A cpu target module (lathe.target = "cpu") goes from kernels in upstream
// dialects plus lathe's interface ops to the LLVM dialect in three passes,
// which `lathe-cpu-lower-to-llvm` runs in order. Each also runs alone from
// lathe-opt, so every step has its own lit tests.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_TARGETS_CPU_PASSES_TD
#define LATHE_TARGETS_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def CpuVectorize : Pass<"lathe-cpu-vectorize", "mlir::ModuleOp"> {
  let summary = "Tiles and vectorizes the linalg ops of CPU kernels, then "
                "bufferizes them";
  let description = [{
    For every kernel of the module, on tensors: each statically shaped
    linalg op is tiled along its innermost loop by `tile` elements (a
    reduction there is split into `tile` partial sums, so the loop carries
    whole vectors and one horizontal reduction follows it), its outer
    parallel loops by 1, and each tile is vectorized, with masks where the
    tile is partial. Then the kernel is bufferized in one shot (scratch
    tensors become stack allocations), and whatever linalg is left
    (dynamically shaped ops) becomes scalar loops.
  }];
  let options = [
    Option<"tile", "tile", "int64_t", /*default=*/"64",
           "Elements per vectorized tile of the innermost loop">,
  ];
  let dependentDialects = [
    "mlir::affine::AffineDialect", "mlir::arith::ArithDialect",
    "mlir::bufferization::BufferizationDialect", "mlir::linalg::LinalgDialect",
    "mlir::memref::MemRefDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect", "mlir::vector::VectorDialect",
  ];
}

def CpuConvertToLLVM : Pass<"lathe-cpu-convert-to-llvm", "mlir::ModuleOp"> {
  let summary = "Lowers bufferized CPU kernels to the LLVM dialect with the "
                "CPU kernel ABI";
  let description = [{
    Lowers vector ops to what LLVM's x86 backend takes (1-D vectors, masked
    loads and stores, reductions), `math.exp` to a polynomial (so the shared
    object needs no libm), scf to cf, and then converts everything to the
    LLVM dialect in one conversion together with the kernel ABI of
    runtime/cpu/KernelABI.h: each kernel becomes
    `llvm.func @name(%dispatch: !llvm.ptr, %x: i64, %y: i64, %z: i64)`;
    `lathe.binding i` loads `dispatch->buffers[i]` into a row-major memref
    descriptor, `lathe.binding_table i [e]` entry `e` of the pointer array
    there, `lathe.scalar i` `dispatch->scalars[i]`, `lathe.workgroup_id d`
    argument `d + 1` and `lathe.workgroup_count d` `dispatch->grid[d]`. The
    module gets `lathe_cpu_abi_version`.
  }];
  let dependentDialects = [
    "mlir::LLVM::LLVMDialect", "mlir::cf::ControlFlowDialect",
    "mlir::vector::VectorDialect",
  ];
}

def CpuLowerToLLVM : Pass<"lathe-cpu-lower-to-llvm", "mlir::ModuleOp"> {
  let summary = "Checks a cpu target module and lowers its kernels to the "
                "LLVM dialect";
  let description = [{
    Rejects what the CPU pipeline cannot lower (a module without
    `lathe.target = "cpu"`, a function that is not a `#lathe.kernel`, a
    kernel with arguments or results), then runs `lathe-cpu-vectorize`,
    cleanups and `lathe-cpu-convert-to-llvm`. What `compileCpuModule` runs
    before translating to LLVM IR.
  }];
  let options = [
    Option<"tile", "tile", "int64_t", /*default=*/"64",
           "Elements per vectorized tile of the innermost loop">,
  ];
}

#endif // LATHE_TARGETS_CPU_PASSES_TD
