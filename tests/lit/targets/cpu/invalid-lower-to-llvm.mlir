// What lathe-cpu-lower-to-llvm rejects before lowering anything: modules
// that are not cpu target modules, and functions in them that the kernel
// ABI cannot express.
// RUN: lathe-opt %s --split-input-file --verify-diagnostics --lathe-cpu-lower-to-llvm

// expected-error @+1 {{expected a cpu target module (lathe.target = "cpu"), got "sm_90a"}}
module attributes {lathe.target = "sm_90a"} {
}

// -----

// expected-error @+1 {{expected a cpu target module (lathe.target = "cpu")}}
module {
}

// -----

module attributes {lathe.target = "cpu"} {
  // expected-error @+1 {{function @helper in a cpu target module is not a kernel (no lathe.kernel)}}
  func.func @helper() {
    return
  }
}

// -----

// The ABI passes everything through the dispatch: a kernel has no
// arguments of its own.
module attributes {lathe.target = "cpu"} {
  // expected-error @+1 {{kernel @k must take no arguments and return nothing: it reads its launch through lathe.binding, lathe.scalar and lathe.workgroup_id}}
  func.func @k(%x: memref<4xf32>) attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 0, scalars = 0, grid = affine_map<() -> (1, 1, 1)>>} {
    return
  }
}

// -----

module attributes {lathe.target = "cpu"} {
  // expected-error @+1 {{kernel @k has no body}}
  func.func private @k() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 0, scalars = 0, grid = affine_map<() -> (1, 1, 1)>>}
}

// -----

module attributes {lathe.target = "cpu"} {
  // expected-error @+1 {{a cpu target module holds only kernel functions, got 'memref.global'}}
  memref.global "private" constant @table : memref<4xf32> = dense<0.0>
}
