// Every rule of lathe.rms_norm's verifier, and its ODS constraints.
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

func.func @scalar_input(%x: tensor<f32>, %w: tensor<1xf32>) {
  // expected-error @+1 {{'lathe.rms_norm' op input must have rank at least 1, got []}}
  %0 = lathe.rms_norm %x, %w eps 1.0e-06 : tensor<f32>, tensor<1xf32>
  return
}

// -----

func.func @dynamic_hidden(%x: tensor<?x?x?xf32>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'lathe.rms_norm' op input must have a static last dim, got [?, ?, ?]}}
  %0 = lathe.rms_norm %x, %w eps 1.0e-06 : tensor<?x?x?xf32>, tensor<64xbf16>
  return
}

// -----

// The weight is named by its checkpoint tensor when it comes from one.
func.func @weight_length(%x: tensor<?x?x64xf32>) {
  %w = lathe.weight "model.layers.0.input_layernorm.weight" in "model.safetensors" at 0 : tensor<32xbf16>
  // expected-error @+1 {{'lathe.rms_norm' op weight ('model.layers.0.input_layernorm.weight') has shape [32] but the input's last dim needs [64]}}
  %0 = lathe.rms_norm %x, %w eps 1.0e-06 : tensor<?x?x64xf32>, tensor<32xbf16>
  return
}

// -----

func.func @dynamic_weight(%x: tensor<?x?x64xf32>, %w: tensor<?xbf16>) {
  // expected-error @+1 {{'lathe.rms_norm' op weight has shape [?] but the input's last dim needs [64]}}
  %0 = lathe.rms_norm %x, %w eps 1.0e-06 : tensor<?x?x64xf32>, tensor<?xbf16>
  return
}

// -----

func.func @zero_eps(%x: tensor<?x?x64xf32>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'lathe.rms_norm' op eps must be positive and finite, got 0.000000e+00}}
  %0 = lathe.rms_norm %x, %w eps 0.0 : tensor<?x?x64xf32>, tensor<64xbf16>
  return
}

// -----

func.func @negative_eps(%x: tensor<?x?x64xf32>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'lathe.rms_norm' op eps must be positive and finite, got -1.000000e-06}}
  %0 = lathe.rms_norm %x, %w eps -1.0e-06 : tensor<?x?x64xf32>, tensor<64xbf16>
  return
}

// -----

// +inf, written as its bits.
func.func @infinite_eps(%x: tensor<?x?x64xf32>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'lathe.rms_norm' op eps must be positive and finite, got INF}}
  %0 = lathe.rms_norm %x, %w eps 0x7FF0000000000000 : tensor<?x?x64xf32>, tensor<64xbf16>
  return
}

// -----

func.func @nan_eps(%x: tensor<?x?x64xf32>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'lathe.rms_norm' op eps must be positive and finite, got nan}}
  %0 = lathe.rms_norm %x, %w eps 0x7FF8000000000000 : tensor<?x?x64xf32>, tensor<64xbf16>
  return
}

// -----

func.func @result_type(%x: tensor<?x?x64xf32>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'lathe.rms_norm' op failed to verify that all of {input, result} have same type}}
  %0 = "lathe.rms_norm"(%x, %w) <{eps = 1.0e-06 : f64}> : (tensor<?x?x64xf32>, tensor<64xbf16>) -> tensor<?x?x64xbf16>
  return
}

// -----

func.func @weight_rank(%x: tensor<?x?x64xf32>, %w: tensor<1x64xbf16>) {
  // expected-error @+1 {{'lathe.rms_norm' op operand #1 must be 1D tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<1x64xbf16>'}}
  %0 = lathe.rms_norm %x, %w eps 1.0e-06 : tensor<?x?x64xf32>, tensor<1x64xbf16>
  return
}

// -----

func.func @eps_type(%x: tensor<?x?x64xf32>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'lathe.rms_norm' op attribute 'eps' failed to satisfy constraint: 64-bit float attribute}}
  %0 = "lathe.rms_norm"(%x, %w) <{eps = 1.0e-06 : f32}> : (tensor<?x?x64xf32>, tensor<64xbf16>) -> tensor<?x?x64xf32>
  return
}
