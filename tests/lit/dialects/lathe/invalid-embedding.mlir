// Every rule of lathe.embedding's verifier, and its ODS constraints.
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

func.func @result_rank(%t: tensor<?x?xi32>, %table: tensor<1024x64xbf16>) {
  // expected-error @+1 {{'lathe.embedding' op result must have rank 3 (tokens' rank + 1), got [?, 64]}}
  %0 = lathe.embedding %t, %table : tensor<?x?xi32>, tensor<1024x64xbf16> -> tensor<?x64xf32>
  return
}

// -----

func.func @leading_dims(%t: tensor<2x7xi32>, %table: tensor<1024x64xbf16>) {
  // expected-error @+1 {{'lathe.embedding' op leading dims of tokens [2, 7] and result [2, 8, 64] disagree}}
  %0 = lathe.embedding %t, %table : tensor<2x7xi32>, tensor<1024x64xbf16> -> tensor<2x8x64xf32>
  return
}

// -----

func.func @width(%t: tensor<?x?xi32>) {
  %table = lathe.weight "model.embed_tokens.weight" in "model.safetensors" at 0 : tensor<1024x64xbf16>
  // expected-error @+1 {{'lathe.embedding' op result's last dim 32 differs from table ('model.embed_tokens.weight') width 64}}
  %0 = lathe.embedding %t, %table : tensor<?x?xi32>, tensor<1024x64xbf16> -> tensor<?x?x32xf32>
  return
}

// -----

// A table that is not a checkpoint tensor must still have a known shape.
func.func @dynamic_table(%t: tensor<?x?xi32>, %table: tensor<?x64xbf16>) {
  // expected-error @+1 {{'lathe.embedding' op table must have a static shape, got [?, 64]}}
  %0 = lathe.embedding %t, %table : tensor<?x?xi32>, tensor<?x64xbf16> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @float_tokens(%t: tensor<?x?xf32>, %table: tensor<1024x64xbf16>) {
  // expected-error @+1 {{'lathe.embedding' op operand #0 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<?x?xf32>'}}
  %0 = lathe.embedding %t, %table : tensor<?x?xf32>, tensor<1024x64xbf16> -> tensor<?x?x64xf32>
  return
}

// -----

// Embeddings are never quantized.
func.func @fp8_table(%t: tensor<?x?xi32>, %table: tensor<1024x64xf8E4M3FN>) {
  // expected-error @+1 {{'lathe.embedding' op operand #1 must be 2D tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<1024x64xf8E4M3FN>'}}
  %0 = lathe.embedding %t, %table : tensor<?x?xi32>, tensor<1024x64xf8E4M3FN> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @integer_result(%t: tensor<?x?xi32>, %table: tensor<1024x64xbf16>) {
  // expected-error @+1 {{'lathe.embedding' op result #0 must be ranked tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?x?x64xi32>'}}
  %0 = lathe.embedding %t, %table : tensor<?x?xi32>, tensor<1024x64xbf16> -> tensor<?x?x64xi32>
  return
}
