// The example model parses, prints and parses again to the same text, also
// through the generic form.
// RUN: lathe-opt %lathe_src/examples/tiny-v3-layer.mlir > %t.1.mlir
// RUN: lathe-opt %t.1.mlir > %t.2.mlir
// RUN: diff %t.1.mlir %t.2.mlir
// RUN: lathe-opt --mlir-print-op-generic %t.1.mlir | lathe-opt > %t.3.mlir
// RUN: diff %t.1.mlir %t.3.mlir
// RUN: FileCheck %s < %t.1.mlir
// CHECK: lathe.mla %{{[0-9]+}}, %arg1 q_lora(%{{[^)]*}}) kv(%{{[^)]*}}) out(%l0_o_proj)
// CHECK-SAME: rope = #lathe.rope<theta = 10000.0, yarn = <factor = 40.0
// CHECK: lathe.moe {{.*}} scoring sigmoid router({{.*}} bias {{.*}}) experts gate[
// CHECK: lathe.lm_head
