// Every rule of lathe.lm_head's verifier, and its ODS constraints.
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

func.func @scalar_input(%x: tensor<f32>, %w: tensor<1024x64xbf16>) {
  // expected-error @+1 {{'lathe.lm_head' op input must have rank at least 1, got []}}
  %0 = lathe.lm_head %x, %w : tensor<f32>, tensor<1024x64xbf16> -> tensor<1024xf32>
  return
}

// -----

func.func @dynamic_hidden(%x: tensor<?x?x?xf32>, %w: tensor<1024x64xbf16>) {
  // expected-error @+1 {{'lathe.lm_head' op input must have a static last dim, got [?, ?, ?]}}
  %0 = lathe.lm_head %x, %w : tensor<?x?x?xf32>, tensor<1024x64xbf16> -> tensor<?x?x1024xf32>
  return
}

// -----

func.func @dynamic_vocab(%x: tensor<?x?x64xf32>, %w: tensor<?x64xbf16>) {
  // expected-error @+1 {{'lathe.lm_head' op weight must have a static shape, got [?, 64]}}
  %0 = lathe.lm_head %x, %w : tensor<?x?x64xf32>, tensor<?x64xbf16> -> tensor<?x?x?xf32>
  return
}

// -----

func.func @hidden(%x: tensor<?x?x32xf32>) {
  %w = lathe.weight "lm_head.weight" in "model.safetensors" at 0 : tensor<1024x64xbf16>
  // expected-error @+1 {{'lathe.lm_head' op input has 32 features but weight ('lm_head.weight') [1024, 64] takes 64}}
  %0 = lathe.lm_head %x, %w : tensor<?x?x32xf32>, tensor<1024x64xbf16> -> tensor<?x?x1024xf32>
  return
}

// -----

func.func @vocab(%x: tensor<?x?x64xf32>, %w: tensor<1024x64xbf16>) {
  // expected-error @+1 {{'lathe.lm_head' op result has shape [?, ?, 1000] but needs [?, ?, 1024]}}
  %0 = lathe.lm_head %x, %w : tensor<?x?x64xf32>, tensor<1024x64xbf16> -> tensor<?x?x1000xf32>
  return
}

// -----

func.func @result_rank(%x: tensor<?x?x64xf32>, %w: tensor<1024x64xbf16>) {
  // expected-error @+1 {{'lathe.lm_head' op result has shape [?, 1024] but needs [?, ?, 1024]}}
  %0 = lathe.lm_head %x, %w : tensor<?x?x64xf32>, tensor<1024x64xbf16> -> tensor<?x1024xf32>
  return
}

// -----

// Logits are f32 (ODS).
func.func @bf16_logits(%x: tensor<?x?x64xf32>, %w: tensor<1024x64xbf16>) {
  // expected-error @+1 {{'lathe.lm_head' op result #0 must be ranked tensor of 32-bit float values, but got 'tensor<?x?x1024xbf16>'}}
  %0 = lathe.lm_head %x, %w : tensor<?x?x64xf32>, tensor<1024x64xbf16> -> tensor<?x?x1024xbf16>
  return
}

// -----

// The LM head stays in high precision (ODS).
func.func @fp8_weight(%x: tensor<?x?x64xf32>, %w: tensor<1024x64xf8E4M3FN>) {
  // expected-error @+1 {{'lathe.lm_head' op operand #1 must be 2D tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<1024x64xf8E4M3FN>'}}
  %0 = lathe.lm_head %x, %w : tensor<?x?x64xf32>, tensor<1024x64xf8E4M3FN> -> tensor<?x?x1024xf32>
  return
}
