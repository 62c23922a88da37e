// lathe.weight names a checkpoint tensor: name, file, byte offset, and the
// dtype and shape in its result type. Every dtype a checkpoint stores parses,
// prints and parses back, in custom and generic form.
// RUN: lathe-opt %s | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// CHECK-LABEL: func.func @dtypes()
func.func @dtypes() -> (tensor<1024x64xbf16>, tensor<64xf32>, tensor<8x16xf16>,
                        tensor<200x300xf8E4M3FN>, tensor<16x8xf8E5M2>) {
  // CHECK: %[[BF16:.+]] = lathe.weight "model.embed_tokens.weight" in "model.safetensors" at 0 : tensor<1024x64xbf16>
  %0 = lathe.weight "model.embed_tokens.weight" in "model.safetensors" at 0 : tensor<1024x64xbf16>
  // CHECK: %[[F32:.+]] = lathe.weight "model.norm.weight" in "model-00002-of-00002.safetensors" at 131072 : tensor<64xf32>
  %1 = lathe.weight "model.norm.weight" in "model-00002-of-00002.safetensors" at 131072 : tensor<64xf32>
  // CHECK: %[[F16:.+]] = lathe.weight "w16" in "a/b/c.safetensors" at 7 : tensor<8x16xf16>
  %2 = lathe.weight "w16" in "a/b/c.safetensors" at 7 : tensor<8x16xf16>
  // Offsets past 4 GiB: multi-file checkpoints of V3 have shards that large.
  // CHECK: %[[E4M3:.+]] = lathe.weight "model.layers.3.mlp.experts.7.up_proj.weight" in "model-00001-of-00163.safetensors" at 5000000000 : tensor<200x300xf8E4M3FN>
  %3 = lathe.weight "model.layers.3.mlp.experts.7.up_proj.weight" in "model-00001-of-00163.safetensors" at 5000000000 : tensor<200x300xf8E4M3FN>
  // CHECK: %[[E5M2:.+]] = lathe.weight "e5m2" in "x.safetensors" at 9223372036854775807 : tensor<16x8xf8E5M2>
  %4 = lathe.weight "e5m2" in "x.safetensors" at 9223372036854775807 : tensor<16x8xf8E5M2>
  // CHECK: return %[[BF16]], %[[F32]], %[[F16]], %[[E4M3]], %[[E5M2]]
  return %0, %1, %2, %3, %4 : tensor<1024x64xbf16>, tensor<64xf32>, tensor<8x16xf16>,
                              tensor<200x300xf8E4M3FN>, tensor<16x8xf8E5M2>
}

// Names are strings: quotes and non-ASCII bytes survive the round trip
// escaped; rank 0 and rank 3 weights are allowed.
// CHECK-LABEL: func.func @names_and_ranks()
func.func @names_and_ranks() -> (tensor<f32>, tensor<2x3x4xbf16>) {
  // CHECK: lathe.weight "odd \22name\22 \C3\A9" in "dir with spaces/w.bin" at 12 : tensor<f32>
  %0 = lathe.weight "odd \"name\" \C3\A9" in "dir with spaces/w.bin" at 12 : tensor<f32>
  // CHECK: lathe.weight "w3" in "w.bin" at 16 {origin = "converted"} : tensor<2x3x4xbf16>
  %1 = lathe.weight "w3" in "w.bin" at 16 {origin = "converted"} : tensor<2x3x4xbf16>
  return %0, %1 : tensor<f32>, tensor<2x3x4xbf16>
}

// The generic form stores name, file and offset as properties.
// GENERIC: "lathe.weight"() <{file = "model.safetensors", offset = 0 : i64, tensor_name = "model.embed_tokens.weight"}> : () -> tensor<1024x64xbf16>
// GENERIC: "lathe.weight"() <{file = "w.bin", offset = 16 : i64, tensor_name = "w3"}> {origin = "converted"} : () -> tensor<2x3x4xbf16>
