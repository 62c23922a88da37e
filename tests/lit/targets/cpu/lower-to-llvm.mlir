// lathe-cpu-lower-to-llvm, the whole CPU pipeline up to the LLVM dialect,
// on the two kinds of kernel the generators build: a row kernel in linalg
// (vectorized here, 64 lanes a tile, masked tail) and a kernel written in
// vector ops like Gemm.cpp's micro-kernel (16 lanes of bf16 weights widened
// to f32, FMAs, a masked tail, a reassociating horizontal sum), plus
// math.exp, which becomes a polynomial so the shared object needs no libm.
// RUN: lathe-opt %s --lathe-cpu-lower-to-llvm | FileCheck %s

#grid = affine_map<()[s0] -> (s0, 1, 1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
module attributes {lathe.target = "cpu"} {
  // CHECK-LABEL: llvm.func @add_d100(
  // CHECK-SAME: %{{.+}}: !llvm.ptr, %[[ROW:.+]]: i64, %{{.+}}: i64, %{{.+}}: i64)
  // CHECK: ^bb{{[0-9]+}}(%[[I:.+]]: i64):
  // CHECK: %[[LANES:.+]] = llvm.icmp "sgt" %{{.+}}, %{{.+}} : vector<64xi32>
  // CHECK-NOT: -> f32
  // CHECK: %[[A:.+]] = llvm.intr.masked.load %{{.+}}, %[[LANES]], %{{.+}} {alignment = 4 : i32} : (!llvm.ptr, vector<64xi1>, vector<64xf32>) -> vector<64xf32>
  // CHECK: %[[B:.+]] = llvm.intr.masked.load %{{.+}}, %[[LANES]], %{{.+}} {alignment = 4 : i32} : (!llvm.ptr, vector<64xi1>, vector<64xf32>) -> vector<64xf32>
  // CHECK: %[[S:.+]] = llvm.fadd %[[A]], %[[B]] : vector<64xf32>
  // CHECK: llvm.intr.masked.store %[[S]], %{{.+}}, %[[LANES]] {alignment = 4 : i32} : vector<64xf32>, vector<64xi1> into !llvm.ptr
  // CHECK: llvm.return
  func.func @add_d100() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 3, scalars = 1, grid = #grid>} {
    %m = lathe.scalar 0 : index
    %row = lathe.workgroup_id 0 : index
    %a = lathe.binding 0 {%m} : memref<?x100xf32>
    %b = lathe.binding 1 {%m} : memref<?x100xf32>
    %c = lathe.binding 2 {%m} : memref<?x100xf32>
    %av = memref.subview %a[%row, 0] [1, 100] [1, 1] : memref<?x100xf32> to memref<1x100xf32, strided<[100, 1], offset: ?>>
    %bv = memref.subview %b[%row, 0] [1, 100] [1, 1] : memref<?x100xf32> to memref<1x100xf32, strided<[100, 1], offset: ?>>
    %cv = memref.subview %c[%row, 0] [1, 100] [1, 1] : memref<?x100xf32> to memref<1x100xf32, strided<[100, 1], offset: ?>>
    %at = bufferization.to_tensor %av restrict : memref<1x100xf32, strided<[100, 1], offset: ?>> to tensor<1x100xf32>
    %bt = bufferization.to_tensor %bv restrict : memref<1x100xf32, strided<[100, 1], offset: ?>> to tensor<1x100xf32>
    %ct = bufferization.to_tensor %cv restrict writable : memref<1x100xf32, strided<[100, 1], offset: ?>> to tensor<1x100xf32>
    %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%at, %bt : tensor<1x100xf32>, tensor<1x100xf32>) outs(%ct : tensor<1x100xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %s = arith.addf %x, %y : f32
      linalg.yield %s : f32
    } -> tensor<1x100xf32>
    bufferization.materialize_in_destination %r in restrict writable %cv : (tensor<1x100xf32>, memref<1x100xf32, strided<[100, 1], offset: ?>>) -> ()
    return
  }

  // y[x] = w[x] · v over k = 40: two full steps of 16 and a masked one.
  // CHECK-LABEL: llvm.func @dot_k40_bf16(
  // CHECK: %[[W:.+]] = llvm.load %{{.+}} {alignment = 2 : i64} : !llvm.ptr -> vector<16xbf16>
  // CHECK: %[[WF:.+]] = llvm.fpext %[[W]] : vector<16xbf16> to vector<16xf32>
  // CHECK: %[[ACC:.+]] = llvm.intr.fmuladd(%{{.+}}, %[[WF]], %{{.+}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
  // The tail loads the bf16 bits as i16: no f32 detour through compiler-rt.
  // CHECK: %[[TAIL:.+]] = llvm.intr.masked.load %{{.+}}, %{{.+}}, %{{.+}} {alignment = 2 : i32} : (!llvm.ptr, vector<16xi1>, vector<16xi16>) -> vector<16xi16>
  // CHECK: %[[TAILBF:.+]] = llvm.bitcast %[[TAIL]] : vector<16xi16> to vector<16xbf16>
  // CHECK: llvm.fpext %[[TAILBF]] : vector<16xbf16> to vector<16xf32>
  // CHECK: llvm.intr.fmuladd({{.+}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
  // CHECK: "llvm.intr.vector.reduce.fadd"(%{{.+}}, %{{.+}}) <{fastmathFlags = #llvm.fastmath<reassoc>}> : (f32, vector<16xf32>) -> f32
  func.func @dot_k40_bf16() attributes {lathe.kernel = #lathe.kernel<family = "gemm", buffers = 3, scalars = 0, grid = affine_map<() -> (8, 1, 1)>>} {
    %v = lathe.binding 0 : memref<40xf32>
    %w = lathe.binding 1 : memref<8x40xbf16>
    %y = lathe.binding 2 : memref<8xf32>
    %x = lathe.workgroup_id 0 : index
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %c32 = arith.constant 32 : index
    %c8 = arith.constant 8 : index
    %zero = arith.constant dense<0.0> : vector<16xf32>
    %zerobf = arith.constant dense<0.0> : vector<16xbf16>
    %acc = scf.for %k = %c0 to %c32 step %c16 iter_args(%a = %zero) -> vector<16xf32> {
      %vv = vector.load %v[%k] : memref<40xf32>, vector<16xf32>
      %wv = vector.load %w[%x, %k] : memref<8x40xbf16>, vector<16xbf16>
      %wf = arith.extf %wv : vector<16xbf16> to vector<16xf32>
      %n = vector.fma %vv, %wf, %a : vector<16xf32>
      scf.yield %n : vector<16xf32>
    }
    %mask = vector.create_mask %c8 : vector<16xi1>
    %vt = vector.maskedload %v[%c32], %mask, %zero : memref<40xf32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
    %wt = vector.maskedload %w[%x, %c32], %mask, %zerobf : memref<8x40xbf16>, vector<16xi1>, vector<16xbf16> into vector<16xbf16>
    %wtf = arith.extf %wt : vector<16xbf16> to vector<16xf32>
    %last = vector.fma %vt, %wtf, %acc : vector<16xf32>
    %sum = vector.reduction <add>, %last : vector<16xf32> into f32
    memref.store %sum, %y[%x] : memref<8xf32>
    return
  }

  // The polynomial's math.fma becomes a contractable multiply-add (fused
  // where the CPU has FMA; never a call to fmaf).
  // CHECK-LABEL: llvm.func @sigmoid16(
  // CHECK-NOT: llvm.intr.{{exp|fma}}(
  // CHECK: %[[P:.+]] = llvm.fmul %{{.+}}, %{{.+}} {fastmathFlags = #llvm.fastmath<contract>} : vector<16xf32>
  // CHECK: llvm.fadd %[[P]], %{{.+}} {fastmathFlags = #llvm.fastmath<contract>} : vector<16xf32>
  // CHECK-NOT: llvm.intr.{{exp|fma}}(
  // CHECK: llvm.intr.floor(%{{.+}}) : (vector<16xf32>) -> vector<16xf32>
  // CHECK-NOT: llvm.intr.{{exp|fma}}(
  // CHECK: llvm.fdiv %{{.+}}, %{{.+}} : vector<16xf32>
  // CHECK-NOT: llvm.intr.{{exp|fma}}(
  // CHECK: llvm.return
  func.func @sigmoid16() attributes {lathe.kernel = #lathe.kernel<family = "test", buffers = 1, scalars = 0, grid = affine_map<() -> (1, 1, 1)>>} {
    %buf = lathe.binding 0 : memref<16xf32>
    %c0 = arith.constant 0 : index
    %one = arith.constant dense<1.0> : vector<16xf32>
    %x = vector.load %buf[%c0] : memref<16xf32>, vector<16xf32>
    %neg = arith.negf %x : vector<16xf32>
    %e = math.exp %neg : vector<16xf32>
    %d = arith.addf %one, %e : vector<16xf32>
    %s = arith.divf %one, %d : vector<16xf32>
    vector.store %s, %buf[%c0] : memref<16xf32>, vector<16xf32>
    return
  }
}

// CHECK: llvm.mlir.global external constant @lathe_cpu_abi_version(1 : i32)
