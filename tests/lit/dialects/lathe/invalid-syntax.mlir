// Parse errors of the lathe attributes and custom op syntax: what a
// researcher editing a dump by hand sees.
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

// Every #lathe.yarn field is required; a missing one is found at the '>'.
// expected-error @+1 {{expected ','}}
module attributes {test.yarn = #lathe.yarn<factor = 40.0, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0>} {}

// -----

// expected-error @+1 {{expected '>'}}
module attributes {test.yarn = #lathe.yarn<factor = 40.0, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0, alpha = 1.0>} {}

// -----

// Float parameters take float literals, as builtin floats do: `40.0`, not `40`.
// expected-error @+3 {{unexpected decimal integer literal for a floating point value}}
// expected-note @+2 {{add a trailing dot to make the literal a float}}
// expected-error @+1 {{failed to parse Lathe_YarnAttr parameter 'factor' which is to be a `::llvm::APFloat`}}
module attributes {test.yarn = #lathe.yarn<factor = 40, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>} {}

// -----

// expected-error @+2 {{expected integer value}}
// expected-error @+1 {{failed to parse Lathe_YarnAttr parameter 'original_max_position_embeddings' which is to be a `int64_t`}}
module attributes {test.yarn = #lathe.yarn<factor = 40.0, original_max_position_embeddings = 4096.0, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>} {}

// -----

// yarn is optional, theta is not.
// expected-error @+1 {{struct is missing required parameter: theta}}
module attributes {test.rope = #lathe.rope<yarn = <factor = 40.0, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>>} {}

// -----

// expected-error @+2 {{expected valid keyword}}
// expected-error @+1 {{expected a parameter name in struct}}
module attributes {test.rope = #lathe.rope<>} {}

// -----

// expected-error @+2 {{invalid kind of attribute specified}}
// expected-error @+1 {{failed to parse Lathe_RopeAttr parameter 'yarn' which is to be a `::lathe::YarnAttr`}}
module attributes {test.rope = #lathe.rope<theta = 10000.0, yarn = #lathe.rope<theta = 2.0>>} {}

// -----

// expected-error @+1 {{unknown attribute `ropes` in dialect `lathe`}}
module attributes {test.rope = #lathe.ropes<theta = 10000.0>} {}

// -----

// The scoring functions are softmax and sigmoid.
func.func @unknown_scoring(%h: tensor<?x?x64xf32>, %r: tensor<1x64xf32>, %g: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) {
  // expected-error @+1 {{custom op 'lathe.moe' expected string or keyword containing one of the following enum values for attribute 'scoring' [softmax, sigmoid]}}
  %0 = lathe.moe %h scoring relu router(%r) experts gate [%g] up [%g] down [%d] {top_k = 1 : i64}
      : (tensor<?x?x64xf32>, tensor<1x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @missing_scoring(%h: tensor<?x?x64xf32>, %r: tensor<1x64xf32>, %g: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) {
  // expected-error @+1 {{custom op 'lathe.moe' expected 'scoring'}}
  %0 = lathe.moe %h router(%r) experts gate [%g] up [%g] down [%d] {top_k = 1 : i64}
      : (tensor<?x?x64xf32>, tensor<1x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// shared(...) takes gate, up and down.
func.func @two_shared(%h: tensor<?x?x64xf32>, %r: tensor<1x64xf32>, %g: tensor<32x64xbf16>, %d: tensor<64x32xbf16>) {
  // expected-error @+1 {{expected ','}}
  %0 = lathe.moe %h scoring sigmoid router(%r) experts gate [%g] up [%g] down [%d] shared(%g, %g) {top_k = 1 : i64}
      : (tensor<?x?x64xf32>, tensor<1x64xf32>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

// q_lora(...) takes q_a_proj, q_a_norm and q_b_proj.
func.func @two_q_lora(%h: tensor<?x?x64xf32>, %pos: tensor<?x?xi32>, %qa: tensor<48x64xbf16>, %qb: tensor<96x48xbf16>,
                      %kva: tensor<40x64xbf16>, %kvn: tensor<32xbf16>, %kvb: tensor<128x32xbf16>, %wo: tensor<64x64xbf16>) {
  // expected-error @+1 {{expected ','}}
  %0 = lathe.mla %h, %pos q_lora(%qa, %qb) kv(%kva, %kvn, %kvb) out(%wo) {}
      : (tensor<?x?x64xf32>, tensor<?x?xi32>, tensor<48x64xbf16>, tensor<96x48xbf16>, tensor<40x64xbf16>, tensor<32xbf16>, tensor<128x32xbf16>, tensor<64x64xbf16>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @linear_types(%x: tensor<?x?x64xf32>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{custom op 'lathe.linear' number of operands and types do not match: got 2 operands and 1 types}}
  %0 = lathe.linear %x, %w : (tensor<?x?x64xf32>) -> tensor<?x?x128xf32>
  return
}

// -----

// expected-error @+1 {{floating point value not valid for specified type}}
%w = lathe.weight "w" in "model.safetensors" at 1.5 : tensor<4xbf16>

// -----

func.func @rope_without_attribute(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xi32>) {
  // expected-error @+1 {{expected '<'}}
  %0 = lathe.rope %x, %pos : tensor<?x?x8xf32>, tensor<?x?xi32>
  return
}
