// lathe-cpu-convert-to-llvm gives a kernel the CPU kernel ABI of
// runtime/cpu/KernelABI.h: void name(const LatheDispatch *d, i64 x, i64 y,
// i64 z), with LatheDispatch = {void *const *buffers, const i64 *scalars,
// i64 grid[3]}; and the module exports lathe_cpu_abi_version.
// RUN: lathe-opt %s --lathe-cpu-convert-to-llvm --cse | FileCheck %s

// CHECK-LABEL: llvm.func @abi(
// CHECK-SAME: %[[D:[a-z0-9]+]]: !llvm.ptr, %[[X:[a-z0-9]+]]: i64, %[[Y:[a-z0-9]+]]: i64, %[[Z:[a-z0-9]+]]: i64)
// CHECK-SAME: passthrough = ["nounwind"]
module attributes {lathe.target = "cpu"} {
  func.func @abi() attributes {lathe.kernel = #lathe.kernel<family = "test", buffers = 3, scalars = 2, grid = affine_map<()[s0, s1] -> (s0, s1, 1)>>} {
    // d->scalars is field 1; scalar 1 is its element 1.
    // CHECK-DAG: %[[SCALARS_AT:.+]] = llvm.getelementptr inbounds %[[D]][0, 1] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, ptr, array<3 x i64>)>
    // CHECK-DAG: %[[SCALARS:.+]] = llvm.load %[[SCALARS_AT]] {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
    // CHECK-DAG: %[[S1_AT:.+]] = llvm.getelementptr inbounds %[[SCALARS]][1] : (!llvm.ptr) -> !llvm.ptr, i64
    // CHECK-DAG: %[[S1:.+]] = llvm.load %[[S1_AT]] {alignment = 8 : i64} : !llvm.ptr -> i64
    %n = lathe.scalar 1 : index
    // d->grid[2] is field 2, element 2.
    // CHECK-DAG: %[[GZ_AT:.+]] = llvm.getelementptr inbounds %[[D]][0, 2, 2] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, ptr, array<3 x i64>)>
    // CHECK-DAG: %[[GZ:.+]] = llvm.load %[[GZ_AT]] {alignment = 8 : i64} : !llvm.ptr -> i64
    %gz = lathe.workgroup_count 2 : index
    %y = lathe.workgroup_id 1 : index
    // Buffer 0: d->buffers[0], a [?, 8] view whose row count is scalar 1.
    // CHECK-DAG: %[[BUFFERS_AT:.+]] = llvm.getelementptr inbounds %[[D]][0, 0] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, ptr, array<3 x i64>)>
    // CHECK-DAG: %[[BUFFERS:.+]] = llvm.load %[[BUFFERS_AT]] {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
    // CHECK-DAG: %[[B0:.+]] = llvm.load %[[BUFFERS]] {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
    %in = lathe.binding 0 {%n} : memref<?x8xf32>
    // Buffer 1 is a table: entry y of the pointer array at d->buffers[1].
    // CHECK-DAG: %[[TABLE_AT:.+]] = llvm.getelementptr inbounds %[[BUFFERS]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
    // CHECK-DAG: %[[TABLE:.+]] = llvm.load %[[TABLE_AT]] {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
    // CHECK-DAG: %[[ENTRY_AT:.+]] = llvm.getelementptr inbounds %[[TABLE]][%[[Y]]] : (!llvm.ptr, i64) -> !llvm.ptr, !llvm.ptr
    // CHECK-DAG: %[[ENTRY:.+]] = llvm.load %[[ENTRY_AT]] {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
    %w = lathe.binding_table 1 [%y] : memref<4x8xbf16>
    // CHECK-DAG: %[[OUT_AT:.+]] = llvm.getelementptr inbounds %[[BUFFERS]][2] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
    // CHECK-DAG: %[[OUT:.+]] = llvm.load %[[OUT_AT]] {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
    %out = lathe.binding 2 : memref<4xf32>
    %x = lathe.workgroup_id 0 : index
    // in[gz + n][x]: row-major, row stride 8.
    // CHECK-DAG: %[[R:.+]] = llvm.add %[[GZ]], %[[S1]] : i64
    // CHECK-DAG: %[[ROW:.+]] = llvm.mul %[[R]], %{{.+}} overflow<nsw, nuw> : i64
    // CHECK-DAG: %[[AT:.+]] = llvm.add %[[ROW]], %[[X]] overflow<nsw, nuw> : i64
    // CHECK-DAG: llvm.getelementptr inbounds|nuw %[[B0]][%[[AT]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
    %r = arith.addi %gz, %n : index
    %v = memref.load %in[%r, %x] : memref<?x8xf32>
    // w[y][x] of the table entry, widened.
    // CHECK-DAG: llvm.getelementptr inbounds|nuw %[[ENTRY]][%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, bf16
    %wv = memref.load %w[%y, %x] : memref<4x8xbf16>
    %wf = arith.extf %wv : bf16 to f32
    %s = arith.mulf %v, %wf : f32
    // CHECK-DAG: llvm.getelementptr inbounds|nuw %[[OUT]][%[[X]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
    memref.store %s, %out[%x] : memref<4xf32>
    // CHECK: llvm.return
    return
  }
}

// CHECK: llvm.mlir.global external constant @lathe_cpu_abi_version(1 : i32) {addr_space = 0 : i32, alignment = 4 : i64} : i32
// CHECK-NOT: lathe.
