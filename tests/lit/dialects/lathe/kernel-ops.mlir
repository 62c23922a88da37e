// The kernels-phase ops of LatheKernelOps.td round-trip: in a target
// module, a kernel (#lathe.kernel) reading its launch through
// lathe.binding, lathe.binding_table, lathe.scalar, lathe.workgroup_id and
// lathe.workgroup_count; in an entry function, lathe.launch over
// lathe.arena, lathe.kv_cache, lathe.weight_table (!lathe.table) and
// lathe.rope_table.
// RUN: lathe-opt %s | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// CHECK: #[[GRID:map[0-9]*]] = affine_map<()[s0, s1] -> (2, s1 ceildiv 4, 1)>
// CHECK: module @cpu attributes {lathe.target = "cpu"}
module @cpu attributes {lathe.target = "cpu"} {
  // CHECK-LABEL: func.func @gemm_e2()
  // CHECK-SAME: lathe.kernel = #lathe.kernel<family = "gemm", buffers = 3, scalars = 2, grid = #[[GRID:map[0-9]*]]>
  func.func @gemm_e2() attributes {lathe.kernel = #lathe.kernel<family = "gemm", buffers = 3, scalars = 2,
      grid = affine_map<()[s0, s1] -> (2, s1 ceildiv 4, 1)>>} {
    // CHECK: %[[M:.+]] = lathe.scalar 0 : index
    %m = lathe.scalar 0 : index
    // CHECK: %[[P:.+]] = lathe.scalar 1 : index
    %p = lathe.scalar 1 : index
    // CHECK: %[[X:.+]] = lathe.workgroup_id 0 : index
    %x = lathe.workgroup_id 0 : index
    // CHECK: %[[Y:.+]] = lathe.workgroup_id 1 : index
    %y = lathe.workgroup_id 1 : index
    // CHECK: %[[NY:.+]] = lathe.workgroup_count 1 : index
    %ny = lathe.workgroup_count 1 : index
    // CHECK: %[[IN:.+]] = lathe.binding 0{%[[M]]} : memref<?x64xf32>
    %in = lathe.binding 0 {%m} : memref<?x64xf32>
    // CHECK: %[[W:.+]] = lathe.binding_table 1[%[[Y]]] : memref<40x64xbf16>
    %w = lathe.binding_table 1 [%y] : memref<40x64xbf16>
    // CHECK: %[[W2:.+]] = lathe.binding_table 1[%[[X]]] {%[[NY]]} : memref<?x64xbf16>
    %w2 = lathe.binding_table 1 [%x] {%ny} : memref<?x64xbf16>
    // CHECK: %[[OUT:.+]] = lathe.binding 2{%[[P]]} {note = "y"} : memref<?x40xf32>
    %out = lathe.binding 2 {%p} {note = "y"} : memref<?x40xf32>
    // CHECK: %[[C:.+]] = lathe.binding 2 : memref<4x40xf32>
    %c = lathe.binding 2 : memref<4x40xf32>
    return
  }
}

// CHECK-LABEL: func.func @decode(
// CHECK-SAME: %[[W0:[a-z0-9_]+]]: memref<40x64xbf16>, %[[W1:[a-z0-9_]+]]: memref<40x64xbf16>
func.func @decode(%w0: memref<40x64xbf16>, %w1: memref<40x64xbf16>, %m: index, %pairs: index) {
  // CHECK: %[[T:.+]] = lathe.weight_table %[[W0]], %[[W1]] : <2 x memref<40x64xbf16>>
  %t = lathe.weight_table %w0, %w1 : !lathe.table<2 x memref<40x64xbf16>>
  // CHECK: %[[A:.+]] = lathe.arena 4096 size(%{{.+}}) : memref<?x64xf32>
  %a = lathe.arena 4096 size(%m) : memref<?x64xf32>
  // CHECK: %[[B:.+]] = lathe.arena 0 size(%{{.+}}) : memref<?x40xf32>
  %b = lathe.arena 0 size(%pairs) : memref<?x40xf32>
  // CHECK: %{{.+}} = lathe.kv_cache 3 : memref<8x4096x48xf32>
  %cache = lathe.kv_cache 3 : memref<8x4096x48xf32>
  // CHECK: %{{.+}} = lathe.rope_table <theta = 10000.0> : memref<4096x2x16xf32>
  %rope = lathe.rope_table <theta = 10000.0> : memref<4096x2x16xf32>
  // CHECK: lathe.launch @gemm_e2(%[[A]], %[[T]], %[[B]]) [%{{.+}}, %{{.+}}] : memref<?x64xf32>, !lathe.table<2 x memref<40x64xbf16>>, memref<?x40xf32>
  lathe.launch @gemm_e2(%a, %t, %b) [%m, %pairs] : memref<?x64xf32>, !lathe.table<2 x memref<40x64xbf16>>, memref<?x40xf32>
  return
}

// GENERIC: "lathe.scalar"() <{index = 0 : i64}> : () -> index
// GENERIC: "lathe.workgroup_id"() <{dimension = 0 : i64}> : () -> index
// GENERIC: "lathe.workgroup_count"() <{dimension = 1 : i64}> : () -> index
// GENERIC: "lathe.binding"(%{{.+}}) <{index = 0 : i64}> : (index) -> memref<?x64xf32>
// GENERIC: "lathe.binding_table"(%{{.+}}) <{index = 1 : i64}> : (index) -> memref<40x64xbf16>
// GENERIC: "lathe.launch"(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) <{kernel = @gemm_e2, operandSegmentSizes = array<i32: 3, 2>}>
