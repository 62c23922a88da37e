// Every rule of lathe.rope's verifier, and its ODS constraints. The
// #lathe.rope attribute's own rules are in invalid-attributes.mlir.
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

func.func @input_rank_2(%x: tensor<?x8xf32>, %pos: tensor<?x?xi32>) {
  // expected-error @+1 {{'lathe.rope' op input must be [batch, seq, dim] or [batch, seq, heads, dim], got [?, 8]}}
  %0 = lathe.rope %x, %pos <theta = 10000.0> : tensor<?x8xf32>, tensor<?x?xi32>
  return
}

// -----

func.func @input_rank_5(%x: tensor<1x2x3x4x8xf32>, %pos: tensor<1x2xi32>) {
  // expected-error @+1 {{'lathe.rope' op input must be [batch, seq, dim] or [batch, seq, heads, dim], got [1, 2, 3, 4, 8]}}
  %0 = lathe.rope %x, %pos <theta = 10000.0> : tensor<1x2x3x4x8xf32>, tensor<1x2xi32>
  return
}

// -----

func.func @positions_rank(%x: tensor<?x?x8xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{'lathe.rope' op positions must be [batch, seq], got [?]}}
  %0 = lathe.rope %x, %pos <theta = 10000.0> : tensor<?x?x8xf32>, tensor<?xi32>
  return
}

// -----

func.func @leading_dims(%x: tensor<2x5x4x8xf32>, %pos: tensor<2x6xi32>) {
  // expected-error @+1 {{'lathe.rope' op leading dims of input [2, 5, 4, 8] and positions [2, 6] disagree}}
  %0 = lathe.rope %x, %pos <theta = 10000.0> : tensor<2x5x4x8xf32>, tensor<2x6xi32>
  return
}

// -----

func.func @dynamic_dim(%x: tensor<?x?x4x?xf32>, %pos: tensor<?x?xi32>) {
  // expected-error @+1 {{'lathe.rope' op input must have a static last dim, got [?, ?, 4, ?]}}
  %0 = lathe.rope %x, %pos <theta = 10000.0> : tensor<?x?x4x?xf32>, tensor<?x?xi32>
  return
}

// -----

func.func @odd_dim(%x: tensor<?x?x4x7xf32>, %pos: tensor<?x?xi32>) {
  // expected-error @+1 {{'lathe.rope' op rotates pairs, so the last dim must be even, got 7}}
  %0 = lathe.rope %x, %pos <theta = 10000.0> : tensor<?x?x4x7xf32>, tensor<?x?xi32>
  return
}

// -----

func.func @result_type(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xi32>) {
  // expected-error @+1 {{'lathe.rope' op failed to verify that all of {input, result} have same type}}
  %0 = "lathe.rope"(%x, %pos) <{rope = #lathe.rope<theta = 10000.0>}> : (tensor<?x?x8xf32>, tensor<?x?xi32>) -> tensor<?x?x8xbf16>
  return
}

// -----

func.func @float_positions(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xf32>) {
  // expected-error @+1 {{'lathe.rope' op operand #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<?x?xf32>'}}
  %0 = lathe.rope %x, %pos <theta = 10000.0> : tensor<?x?x8xf32>, tensor<?x?xf32>
  return
}

// -----

func.func @missing_rope(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xi32>) {
  // expected-error @+1 {{'lathe.rope' op requires attribute 'rope'}}
  %0 = "lathe.rope"(%x, %pos) : (tensor<?x?x8xf32>, tensor<?x?xi32>) -> tensor<?x?x8xf32>
  return
}

// -----

// The attribute follows an SSA value, where `#` starts a result number: the
// `#lathe.rope` prefix must be left out (the printer never writes it).
func.func @prefixed_attribute(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xi32>) {
  // expected-error @+1 {{invalid SSA value result number}}
  %0 = lathe.rope %x, %pos #lathe.rope<theta = 10000.0> : tensor<?x?x8xf32>, tensor<?x?xi32>
  return
}
