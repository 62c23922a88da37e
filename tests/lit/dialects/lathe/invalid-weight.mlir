// Every rule of lathe.weight's verifier, and its ODS type constraint.
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{'lathe.weight' op needs a non-empty tensor name}}
%w = lathe.weight "" in "model.safetensors" at 0 : tensor<4xbf16>

// -----

// expected-error @+1 {{'lathe.weight' op 'model.norm.weight' names no file}}
%w = lathe.weight "model.norm.weight" in "" at 0 : tensor<4xbf16>

// -----

// expected-error @+1 {{'lathe.weight' op 'model.norm.weight' has negative offset -8}}
%w = lathe.weight "model.norm.weight" in "model.safetensors" at -8 : tensor<4xbf16>

// -----

// A checkpoint tensor has a fixed shape.
// expected-error @+1 {{'lathe.weight' op 'lm_head.weight' must have a static shape, got [?, 64]}}
%w = lathe.weight "lm_head.weight" in "model.safetensors" at 0 : tensor<?x64xbf16>

// -----

// Integer tensors are not weights lathe reads.
// expected-error @+1 {{'lathe.weight' op result #0 must be ranked tensor of 32-bit float or bfloat16 type or 16-bit float or f8E4M3FN type or f8E5M2 type values or 1D/2D/3D memref of 32-bit float or bfloat16 type or 16-bit float or f8E4M3FN type or f8E5M2 type values, but got 'tensor<4xi32>'}}
%w = lathe.weight "ids" in "model.safetensors" at 0 : tensor<4xi32>

// -----

// Weights are ranked: a tensor in the graph phases, a memref in the kernels
// phase; in the generic syntax and the custom one alike.
// expected-error @+1 {{'lathe.weight' op result #0 must be ranked tensor of 32-bit float or bfloat16 type or 16-bit float or f8E4M3FN type or f8E5M2 type values or 1D/2D/3D memref of 32-bit float or bfloat16 type or 16-bit float or f8E4M3FN type or f8E5M2 type values, but got 'tensor<*xbf16>'}}
%w = "lathe.weight"() <{tensor_name = "unranked", file = "model.safetensors", offset = 0 : i64}> : () -> tensor<*xbf16>

// -----

// expected-error @+1 {{'lathe.weight' op result #0 must be ranked tensor of 32-bit float or bfloat16 type or 16-bit float or f8E4M3FN type or f8E5M2 type values or 1D/2D/3D memref of 32-bit float or bfloat16 type or 16-bit float or f8E4M3FN type or f8E5M2 type values, but got 'tensor<*xbf16>'}}
%w = lathe.weight "unranked" in "model.safetensors" at 0 : tensor<*xbf16>

// -----

// expected-error @+1 {{'lathe.weight' op requires attribute 'offset'}}
%w = "lathe.weight"() <{tensor_name = "w", file = "model.safetensors"}> : () -> tensor<4xbf16>
