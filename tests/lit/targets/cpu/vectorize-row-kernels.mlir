// lathe-cpu-vectorize on row kernels as RowKernels.cpp builds them (linalg
// on tensors over one row of 100 elements): each op is tiled by 64 along
// the row, the last tile masked; a reduction along the row carries 64
// partial sums through the loop and reduces them once after it; the
// kernel is bufferized in place (scratch on the stack) and no linalg,
// tensor or scalar access is left in the loops.
// RUN: lathe-opt %s --lathe-cpu-vectorize | FileCheck %s
// RUN: lathe-opt %s --lathe-cpu-vectorize=tile=16 | FileCheck %s --check-prefix=TILE16

#grid = affine_map<()[s0] -> (s0, 1, 1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
module attributes {lathe.target = "cpu"} {
  // CHECK-LABEL: func.func @add_d100()
  // CHECK: scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
  // CHECK: %[[N:.+]] = affine.min #{{.+}}(%[[I]])
  // CHECK: %[[MASK:.+]] = vector.create_mask %{{.+}}, %[[N]] : vector<1x64xi1>
  // CHECK-NOT: memref.load
  // CHECK: %[[A:.+]] = vector.transfer_read %{{.+}}, %[[MASK]] {in_bounds = [true, true]} : memref<1x?xf32, strided<[100, 1], offset: ?>>, vector<1x64xf32>
  // CHECK: %[[B:.+]] = vector.transfer_read %{{.+}}, %[[MASK]] {in_bounds = [true, true]} : memref<1x?xf32, strided<[100, 1], offset: ?>>, vector<1x64xf32>
  // CHECK: %[[S:.+]] = arith.addf %[[A]], %[[B]] : vector<1x64xf32>
  // CHECK: vector.transfer_write %[[S]], %{{.+}}, %[[MASK]] {in_bounds = [true, true]} : vector<1x64xf32>, memref<1x?xf32, strided<[100, 1], offset: ?>>
  // CHECK-NEXT: {{^ +}$}}
  // CHECK-NEXT: return
  // TILE16-LABEL: func.func @add_d100()
  // TILE16: vector.create_mask %{{.+}}, %{{.+}} : vector<1x16xi1>
  // TILE16: arith.addf %{{.+}}, %{{.+}} : vector<1x16xf32>
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

  // CHECK-LABEL: func.func @rms_norm_d100_bf16()
  // The partial sums and the total live on the stack, allocated up front.
  // CHECK-DAG: %[[PARTIAL:.+]] = memref.alloca() {alignment = 64 : i64} : memref<1x64xf32>
  // CHECK-DAG: %[[TOTAL:.+]] = memref.alloca() {alignment = 64 : i64} : memref<1xf32>
  // CHECK: vector.transfer_write %{{.+}}, %[[PARTIAL]]
  // CHECK: scf.for
  // CHECK-NOT: memref.load
  // CHECK: %[[X:.+]] = vector.transfer_read %{{.+}} : memref<1x?xf32, strided<[150, 1], offset: ?>>, vector<1x64xf32>
  // CHECK: %[[ACC:.+]] = vector.transfer_read %{{.+}} : memref<1x?xf32, strided<[64, 1]>>, vector<1x64xf32>
  // CHECK: %[[SQ:.+]] = arith.mulf %[[X]], %[[X]] : vector<1x64xf32>
  // CHECK: %[[NEXT:.+]] = arith.addf %[[ACC]], %[[SQ]] : vector<1x64xf32>
  // CHECK: vector.transfer_write %[[NEXT]]
  // CHECK-NEXT: {{^ +}$}}
  // One horizontal reduction per row.
  // CHECK: %[[SUMS:.+]] = vector.transfer_read %[[PARTIAL]]
  // CHECK: vector.multi_reduction <add>, %[[SUMS]], %{{.+}} [1] : vector<1x64xf32> to vector<1xf32>
  // CHECK: math.sqrt
  // CHECK: %[[INV:.+]] = arith.divf
  // CHECK: scf.for
  // CHECK-NOT: memref.load
  // CHECK: %[[W:.+]] = vector.transfer_read %{{.+}} : memref<?xbf16, strided<[1], offset: ?>>, vector<1x64xbf16>
  // CHECK: %[[SPLAT:.+]] = vector.broadcast %[[INV]] : f32 to vector<1x64xf32>
  // CHECK: arith.mulf %{{.+}}, %[[SPLAT]] : vector<1x64xf32>
  // CHECK: arith.extf %[[W]] : vector<1x64xbf16> to vector<1x64xf32>
  // CHECK: vector.transfer_write
  // CHECK-NEXT: {{^ +}$}}
  // CHECK-NEXT: return
  // CHECK-NOT: linalg.
  // CHECK-NOT: bufferization.
  // CHECK-NOT: tensor.
  func.func @rms_norm_d100_bf16() attributes {lathe.kernel = #lathe.kernel<family = "rms_norm", buffers = 3, scalars = 1, grid = #grid>} {
    %m = lathe.scalar 0 : index
    %in = lathe.binding 0 {%m} : memref<?x150xf32>
    %weight = lathe.binding 1 : memref<100xbf16>
    %out = lathe.binding 2 {%m} : memref<?x100xf32>
    %row = lathe.workgroup_id 0 : index
    %dst = memref.subview %out[%row, 0] [1, 100] [1, 1] : memref<?x100xf32> to memref<1x100xf32, strided<[100, 1], offset: ?>>
    %src = memref.subview %in[%row, 30] [1, 100] [1, 1] : memref<?x150xf32> to memref<1x100xf32, strided<[150, 1], offset: ?>>
    %x = bufferization.to_tensor %src restrict : memref<1x100xf32, strided<[150, 1], offset: ?>> to tensor<1x100xf32>
    %empty = tensor.empty() : tensor<1xf32>
    %zero = arith.constant 0.0 : f32
    %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<1xf32>) -> tensor<1xf32>
    %sum = linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
        ins(%x : tensor<1x100xf32>) outs(%init : tensor<1xf32>) {
    ^bb0(%in_: f32, %acc: f32):
      %sq = arith.mulf %in_, %in_ : f32
      %next = arith.addf %acc, %sq : f32
      linalg.yield %next : f32
    } -> tensor<1xf32>
    %c0 = arith.constant 0 : index
    %total = tensor.extract %sum[%c0] : tensor<1xf32>
    %dim = arith.constant 100.0 : f32
    %mean = arith.divf %total, %dim : f32
    %eps = arith.constant 1.0e-6 : f32
    %var = arith.addf %mean, %eps : f32
    %rms = math.sqrt %var : f32
    %one = arith.constant 1.0 : f32
    %inv = arith.divf %one, %rms : f32
    %w = bufferization.to_tensor %weight restrict : memref<100xbf16> to tensor<100xbf16>
    %o = bufferization.to_tensor %dst restrict writable : memref<1x100xf32, strided<[100, 1], offset: ?>> to tensor<1x100xf32>
    %r = linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d1)>, #id], iterator_types = ["parallel", "parallel"]}
        ins(%x, %w : tensor<1x100xf32>, tensor<100xbf16>) outs(%o : tensor<1x100xf32>) {
    ^bb0(%xv: f32, %wv: bf16, %ov: f32):
      %n = arith.mulf %xv, %inv : f32
      %wf = arith.extf %wv : bf16 to f32
      %y = arith.mulf %n, %wf : f32
      linalg.yield %y : f32
    } -> tensor<1x100xf32>
    bufferization.materialize_in_destination %r in restrict writable %dst : (tensor<1x100xf32>, memref<1x100xf32, strided<[100, 1], offset: ?>>) -> ()
    return
  }
}
