//===- LatheKernelOps.td - the kernels phase ---------------*- tablegen -*-===//
//
// After phase `kernels`, a module holds
//   - entry functions (`@prefill`, `@decode`) on memrefs: straight-line lists
//     of `lathe.launch` over buffers (weights, the KV cache, planned
//     activation buffers), with sizes computed by `affine.apply` from the
//     entry's dynamic dims;
//   - one nested module per target (`module @cpu attributes {lathe.target =
//     "cpu"}`) holding the kernel functions that launches name. A kernel is
//     one workgroup of a grid, as a GPU kernel is one block: it reads its
//     buffers, scalars and workgroup id through the interface ops below, as
//     IREE's HAL interface ops do, so that one kernel body serves any
//     calling convention (the CPU kernel ABI, a CUDA launch).
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_KERNEL_OPS_TD
#define LATHE_KERNEL_OPS_TD

include "mlir/IR/SymbolInterfaces.td"

//===----------------------------------------------------------------------===//
// Types and attributes
//===----------------------------------------------------------------------===//

def Lathe_TableType : TypeDef<Lathe_Dialect, "Table"> {
  let mnemonic = "table";
  let summary = "buffers of one type passed to a kernel as one argument";
  let description = [{
    The weights of a MoE layer's experts, say: a kernel picks one entry by a
    runtime index (`lathe.binding_table`). The runtime passes an array of
    pointers, one per entry.

    ```mlir
    !lathe.table<16 x memref<32x64xbf16>>
    ```
  }];
  let parameters = (ins "int64_t":$size, "::mlir::MemRefType":$element);
  let assemblyFormat = "`<` $size `x` $element `>`";
  let genVerifyDecl = 1;
}

def Lathe_KernelAttr : AttrDef<Lathe_Dialect, "Kernel"> {
  let mnemonic = "kernel";
  let summary = "a kernel function's family, interface and grid";
  let description = [{
    Marks a `func.func` of a target module as a kernel. `buffers` and
    `scalars` count the launch's operands; `grid` gives the workgroup counts
    (x, y, z) from the launch's scalars (`s0`, `s1`, ...).

    ```mlir
    #lathe.kernel<family = "gemm", buffers = 3, scalars = 1,
                  grid = affine_map<()[s0] -> (2, s0 ceildiv 4, 1)>>
    ```
  }];
  let parameters = (ins StringRefParameter<"kernel family">:$family,
                        "int64_t":$buffers, "int64_t":$scalars,
                        "::mlir::AffineMapAttr":$grid);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Inside a kernel: the launch's interface
//===----------------------------------------------------------------------===//

class Lathe_KernelInterfaceOp<string mnemonic, list<Trait> traits = []>
    : Lathe_Op<mnemonic, !listconcat(traits, [Pure])> {
  let hasVerifier = 1;
}

def Lathe_BindingOp : Lathe_KernelInterfaceOp<"binding"> {
  let summary = "buffer `index` of the launch, viewed as a memref";
  let description = [{
    A row-major view of the buffer's first byte; the dynamic sizes are
    usually computed from `lathe.scalar`s.

    ```mlir
    %m = lathe.scalar 0 : index
    %x = lathe.binding 0 {%m} : memref<?x64xf32>
    ```
  }];
  let arguments = (ins I64Attr:$index, Variadic<Index>:$dynamic_sizes);
  let results = (outs AnyMemRef:$result);
  let assemblyFormat = [{
    $index (`{` $dynamic_sizes^ `}`)? attr-dict `:` type($result)
  }];
}

def Lathe_BindingTableOp : Lathe_KernelInterfaceOp<"binding_table"> {
  let summary = "entry `entry` of the table passed as buffer `index`";
  let description = [{
    ```mlir
    %w = lathe.binding_table 3 [%expert] : memref<32x64xbf16>
    ```
  }];
  let arguments = (ins I64Attr:$index, Index:$entry,
                       Variadic<Index>:$dynamic_sizes);
  let results = (outs AnyMemRef:$result);
  let assemblyFormat = [{
    $index `[` $entry `]` (`{` $dynamic_sizes^ `}`)? attr-dict `:` type($result)
  }];
}

def Lathe_ScalarOp : Lathe_KernelInterfaceOp<"scalar"> {
  let summary = "scalar `index` of the launch";
  let arguments = (ins I64Attr:$index);
  let results = (outs Index:$result);
  let assemblyFormat = "$index attr-dict `:` type($result)";
}

def Lathe_WorkgroupIdOp : Lathe_KernelInterfaceOp<"workgroup_id"> {
  let summary = "this workgroup's id along `dimension` (0 = x, 1 = y, 2 = z)";
  let arguments = (ins I64Attr:$dimension);
  let results = (outs Index:$result);
  let assemblyFormat = "$dimension attr-dict `:` type($result)";
}

def Lathe_WorkgroupCountOp : Lathe_KernelInterfaceOp<"workgroup_count"> {
  let summary = "the grid's size along `dimension` (0 = x, 1 = y, 2 = z)";
  let arguments = (ins I64Attr:$dimension);
  let results = (outs Index:$result);
  let assemblyFormat = "$dimension attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// In an entry function: buffers and launches
//===----------------------------------------------------------------------===//

def Lathe_LaunchOp : Lathe_Op<"launch", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "runs a kernel's grid over buffers";
  let description = [{
    Runs every workgroup of `kernel`'s grid, as defined by each target
    module, with these buffers and scalars; launches run in program order.
    A kernel reads and writes its buffers as its body says, so a launch is
    treated as reading and writing all of them.

    ```mlir
    lathe.launch @gemm_n40_k64_bf16(%x, %w, %y) [%m]
        : memref<?x64xf32>, memref<40x64xbf16>, memref<?x40xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$kernel,
                       Arg<Variadic<AnyType>, "", [MemRead, MemWrite]>:$buffers,
                       Variadic<Index>:$scalars);
  let assemblyFormat = [{
    $kernel `(` $buffers `)` (`[` $scalars^ `]`)? attr-dict `:` type($buffers)
  }];
  let hasVerifier = 1;
}

def Lathe_ArenaOp : Lathe_Op<"arena", [Pure]> {
  let summary = "a planned activation buffer: a view of the entry's arena";
  let description = [{
    Bytes `[offset, offset + size)` of the function's scratch arena, where
    the size is the one at the entry's largest dims (the buffer planner has
    checked that buffers alive at the same time do not overlap).

    ```mlir
    %h = lathe.arena 4096 size(%m) : memref<?x64xf32>
    ```
  }];
  let arguments = (ins I64Attr:$offset, Variadic<Index>:$dynamic_sizes);
  let results = (outs AnyMemRef:$result);
  let assemblyFormat = [{
    $offset (`size` `(` $dynamic_sizes^ `)`)? attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

def Lathe_KVCacheOp : Lathe_Op<"kv_cache", [Pure]> {
  let summary = "layer `layer` of the latent KV cache";
  let description = [{
    A `[max_batch, max_seq_len, width]` buffer that lives across calls: row
    `b`, position `p` holds what `lathe.mla` caches for that token.

    ```mlir
    %cache = lathe.kv_cache 0 : memref<8x4096x48xf32>
    ```
  }];
  let arguments = (ins I64Attr:$layer);
  let results = (outs MemRefRankOf<[F32, BF16], [3]>:$result);
  let assemblyFormat = "$layer attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Lathe_WeightTableOp : Lathe_Op<"weight_table", [Pure]> {
  let summary = "weights passed to one kernel argument";
  let description = [{
    ```mlir
    %t = lathe.weight_table %w0, %w1 : !lathe.table<2 x memref<32x64xbf16>>
    ```
  }];
  let arguments = (ins Variadic<AnyMemRef>:$weights);
  let results = (outs Lathe_TableType:$result);
  let assemblyFormat = [{
    $weights attr-dict `:` type($result) custom<TableEntryTypes>(type($weights), ref(type($result)))
  }];
  let hasVerifier = 1;
}

def Lathe_RopeTableOp : Lathe_Op<"rope_table", [Pure]> {
  let summary = "the RoPE rotation of every position, computed at compile time";
  let description = [{
    A `[positions, 2, d]` f32 constant: row `p` holds `cos(p f_i)` at `2i` and
    `2i+1` in `[p, 0]`, and `-sin(p f_i)` at `2i`, `sin(p f_i)` at `2i+1` in
    `[p, 1]`, with the frequencies `f_i` of `rope` over `d` dims, evaluated
    in double precision. Rotating the pair `(x_2i, x_2i+1)` is then
    `x * row0 + swap_pairs(x) * row1`. The bundle carries the data; the IR
    only its definition.

    ```mlir
    %t = lathe.rope_table <theta = 10000.0> : memref<4096x2x16xf32>
    ```
  }];
  let arguments = (ins Lathe_RopeAttr:$rope);
  let results = (outs MemRefRankOf<[F32], [3]>:$result);
  let assemblyFormat = "$rope attr-dict `:` type($result)";
  let hasVerifier = 1;
}

#endif // LATHE_KERNEL_OPS_TD
