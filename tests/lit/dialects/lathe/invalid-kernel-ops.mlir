// Every rule of the kernels-phase verifiers (LatheKernelOps.cpp): the
// !lathe.table type, the #lathe.kernel attribute, the interface ops inside
// a kernel, and the entry-function ops (lathe.launch against the target
// modules, lathe.arena, lathe.kv_cache, lathe.weight_table,
// lathe.rope_table).
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{a table needs at least one entry, got 0}}
func.func private @empty_table(!lathe.table<0 x memref<4xf32>>)

// -----

// expected-error @+1 {{table entries must be statically shaped row-major memrefs, got 'memref<?xf32>'}}
func.func private @dynamic_table(!lathe.table<2 x memref<?xf32>>)

// -----

// expected-error @+1 {{a kernel needs a family}}
func.func @no_family() attributes {lathe.kernel = #lathe.kernel<family = "", buffers = 0, scalars = 0, grid = affine_map<() -> (1, 1, 1)>>} {
  return
}

// -----

// expected-error @+1 {{a kernel's buffer and scalar counts must be non-negative}}
func.func @negative_buffers() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = -1, scalars = 0, grid = affine_map<() -> (1, 1, 1)>>} {
  return
}

// -----

// The grid reads the scalars as symbols, one per scalar.
// expected-error @+1 {{a kernel's grid maps its 2 scalars (as symbols, no dims) to 3 workgroup counts, got affine_map<()[s0] -> (s0, 1, 1)>}}
func.func @grid_symbols() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 0, scalars = 2, grid = affine_map<()[s0] -> (s0, 1, 1)>>} {
  return
}

// -----

// expected-error @+1 {{a kernel's grid maps its 1 scalars (as symbols, no dims) to 3 workgroup counts, got affine_map<(d0) -> (d0, 1)>}}
func.func @grid_dims() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 0, scalars = 1, grid = affine_map<(d0) -> (d0, 1)>>} {
  return
}

// -----

func.func @binding_outside_kernel() {
  // expected-error @+1 {{'lathe.binding' op must be inside a func.func marked lathe.kernel}}
  %0 = lathe.binding 0 : memref<4xf32>
  return
}

// -----

func.func @binding_index() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 3, scalars = 0, grid = affine_map<() -> (1, 1, 1)>>} {
  // expected-error @+1 {{'lathe.binding' op reads buffer 3 of a kernel with 3 buffers}}
  %0 = lathe.binding 3 : memref<4xf32>
  return
}

// -----

func.func @binding_layout() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 1, scalars = 0, grid = affine_map<() -> (1, 1, 1)>>} {
  // expected-error @+1 {{'lathe.binding' op views its buffer row-major; got layout strided<[1, 4]>}}
  %0 = lathe.binding 0 : memref<4x4xf32, strided<[1, 4]>>
  return
}

// -----

func.func @binding_sizes() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 1, scalars = 1, grid = affine_map<()[s0] -> (s0, 1, 1)>>} {
  %m = lathe.scalar 0 : index
  // expected-error @+1 {{'lathe.binding' op has 1 dynamic sizes for 'memref<?x?xf32>', which has 2 dynamic dims}}
  %0 = lathe.binding 0 {%m} : memref<?x?xf32>
  return
}

// -----

func.func @table_index(%e: index) attributes {lathe.kernel = #lathe.kernel<family = "gemm", buffers = 2, scalars = 0, grid = affine_map<() -> (1, 1, 1)>>} {
  // expected-error @+1 {{'lathe.binding_table' op reads buffer 2 of a kernel with 2 buffers}}
  %0 = lathe.binding_table 2 [%e] : memref<4xbf16>
  return
}

// -----

func.func @table_sizes(%e: index) attributes {lathe.kernel = #lathe.kernel<family = "gemm", buffers = 2, scalars = 0, grid = affine_map<() -> (1, 1, 1)>>} {
  // expected-error @+1 {{'lathe.binding_table' op has 0 dynamic sizes for 'memref<?xbf16>', which has 1 dynamic dims}}
  %0 = lathe.binding_table 1 [%e] : memref<?xbf16>
  return
}

// -----

func.func @table_outside_kernel(%e: index) {
  // expected-error @+1 {{'lathe.binding_table' op must be inside a func.func marked lathe.kernel}}
  %0 = lathe.binding_table 0 [%e] : memref<4xbf16>
  return
}

// -----

func.func @scalar_index() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 0, scalars = 1, grid = affine_map<()[s0] -> (s0, 1, 1)>>} {
  // expected-error @+1 {{'lathe.scalar' op reads scalar 1 of a kernel with 1 scalars}}
  %0 = lathe.scalar 1 : index
  return
}

// -----

func.func @scalar_outside_kernel() {
  // expected-error @+1 {{'lathe.scalar' op must be inside a func.func marked lathe.kernel}}
  %0 = lathe.scalar 0 : index
  return
}

// -----

func.func @workgroup_dimension() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 0, scalars = 0, grid = affine_map<() -> (1, 1, 1)>>} {
  // expected-error @+1 {{'lathe.workgroup_id' op dimension must be 0 (x), 1 (y) or 2 (z), got 3}}
  %0 = lathe.workgroup_id 3 : index
  return
}

// -----

func.func @workgroup_count_dimension() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 0, scalars = 0, grid = affine_map<() -> (1, 1, 1)>>} {
  // expected-error @+1 {{'lathe.workgroup_count' op dimension must be 0 (x), 1 (y) or 2 (z), got -1}}
  %0 = lathe.workgroup_count -1 : index
  return
}

// -----

func.func @workgroup_outside_kernel() {
  // expected-error @+1 {{'lathe.workgroup_id' op must be inside a func.func marked lathe.kernel}}
  %0 = lathe.workgroup_id 0 : index
  return
}

// -----

module @cpu attributes {lathe.target = "cpu"} {
  func.func @k() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 1, scalars = 0, grid = affine_map<() -> (1, 1, 1)>>} {
    return
  }
}
func.func @launch_scalar_buffer(%x: f32) {
  // expected-error @+1 {{'lathe.launch' op buffer 0 must be a memref or a !lathe.table, got 'f32'}}
  lathe.launch @k(%x) : f32
  return
}

// -----

module @cpu attributes {lathe.target = "cpu"} {
  func.func @k() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 1, scalars = 0, grid = affine_map<() -> (1, 1, 1)>>} {
    return
  }
}
llvm.func @launch_outside_entry() {
  %0 = lathe.kv_cache 0 : memref<1x4x8xf32>
  // expected-error @+1 {{'lathe.launch' op must be inside an entry function of a module}}
  lathe.launch @k(%0) : memref<1x4x8xf32>
  llvm.return
}

// -----

func.func @no_target(%a: memref<4xf32>) {
  // expected-error @+1 {{'lathe.launch' op launches @k but the module has no target module (a nested module with a lathe.target attribute)}}
  lathe.launch @k(%a) : memref<4xf32>
  return
}

// -----

module @cpu attributes {lathe.target = "cpu"} {
}
func.func @undefined_kernel(%a: memref<4xf32>) {
  // expected-error @+1 {{'lathe.launch' op launches @k, which target "cpu" does not define}}
  lathe.launch @k(%a) : memref<4xf32>
  return
}

// -----

module @cpu attributes {lathe.target = "cpu"} {
  func.func @k() {
    return
  }
}
func.func @not_a_kernel(%a: memref<4xf32>) {
  // expected-error @+1 {{'lathe.launch' op launches @k, which target "cpu" defines without lathe.kernel}}
  lathe.launch @k(%a) : memref<4xf32>
  return
}

// -----

module @cpu attributes {lathe.target = "cpu"} {
  func.func @k() attributes {lathe.kernel = #lathe.kernel<family = "add", buffers = 3, scalars = 1, grid = affine_map<()[s0] -> (s0, 1, 1)>>} {
    return
  }
}
func.func @interface_mismatch(%a: memref<4xf32>, %m: index) {
  // expected-error @+1 {{'lathe.launch' op passes 2 buffers and 1 scalars to @k, which takes 3 and 1 on target "cpu"}}
  lathe.launch @k(%a, %a) [%m] : memref<4xf32>, memref<4xf32>
  return
}

// -----

func.func @arena_offset() {
  // expected-error @+1 {{'lathe.arena' op offset must be non-negative, got -64}}
  %0 = lathe.arena -64 : memref<4xf32>
  return
}

// -----

func.func @arena_sizes(%m: index) {
  // expected-error @+1 {{'lathe.arena' op has 1 dynamic sizes for 'memref<4xf32>', which has 0 dynamic dims}}
  %0 = lathe.arena 0 size(%m) : memref<4xf32>
  return
}

// -----

func.func @kv_cache_layer() {
  // expected-error @+1 {{'lathe.kv_cache' op layer must be non-negative, got -1}}
  %0 = lathe.kv_cache -1 : memref<1x4x8xf32>
  return
}

// -----

func.func @kv_cache_layout() {
  // expected-error @+1 {{'lathe.kv_cache' op a KV cache layer is a static row-major [max_batch, max_seq_len, width] memref, got 'memref<1x4x8xf32, strided<[64, 16, 1]>>'}}
  %0 = lathe.kv_cache 0 : memref<1x4x8xf32, strided<[64, 16, 1]>>
  return
}

// -----

// The cache holds f32 or bf16 (ODS).
func.func @kv_cache_type() {
  // expected-error @+1 {{'lathe.kv_cache' op result #0 must be 3D memref of 32-bit float or bfloat16 type values, but got 'memref<1x4x8xf16>'}}
  %0 = lathe.kv_cache 0 : memref<1x4x8xf16>
  return
}

// -----

// The custom syntax takes the operand types from the table type, so these
// two rules are reachable only in generic form.
func.func @table_count(%w: memref<4xbf16>) {
  // expected-error @+1 {{'lathe.weight_table' op has 1 weights for '!lathe.table<2 x memref<4xbf16>>'}}
  %0 = "lathe.weight_table"(%w) : (memref<4xbf16>) -> !lathe.table<2 x memref<4xbf16>>
  return
}

// -----

func.func @table_entry_type(%w: memref<4xbf16>, %v: memref<4xf32>) {
  // expected-error @+1 {{'lathe.weight_table' op weight 1 has type 'memref<4xf32>' but the table holds 'memref<4xbf16>'}}
  %0 = "lathe.weight_table"(%w, %v) : (memref<4xbf16>, memref<4xf32>) -> !lathe.table<2 x memref<4xbf16>>
  return
}

// -----

func.func @rope_table_dims() {
  // expected-error @+1 {{'lathe.rope_table' op a RoPE table is a static [positions, 2, dims] memref with even dims, got 'memref<64x2x7xf32>'}}
  %0 = lathe.rope_table <theta = 10000.0> : memref<64x2x7xf32>
  return
}

// -----

func.func @rope_table_pairs() {
  // expected-error @+1 {{'lathe.rope_table' op a RoPE table is a static [positions, 2, dims] memref with even dims, got 'memref<64x3x8xf32>'}}
  %0 = lathe.rope_table <theta = 10000.0> : memref<64x3x8xf32>
  return
}
