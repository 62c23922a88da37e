// Every rule of the #lathe.rope and #lathe.yarn verifiers. They run while
// parsing, so the error points at the attribute.
// RUN: lathe-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{rope theta must be a finite number above 1, got 1.000000e+00}}
module attributes {test.rope = #lathe.rope<theta = 1.0>} {}

// -----

// expected-error @+1 {{rope theta must be a finite number above 1, got -1.000000e+04}}
module attributes {test.rope = #lathe.rope<theta = -10000.0>} {}

// -----

// 1.0e400 overflows to +inf.
// expected-error @+1 {{rope theta must be a finite number above 1, got INF}}
module attributes {test.rope = #lathe.rope<theta = 1.0e400>} {}

// -----

// expected-error @+1 {{rope theta must be a finite number above 1, got nan}}
module attributes {test.rope = #lathe.rope<theta = 0x7FF8000000000000>} {}

// -----

// expected-error @+1 {{yarn factor must be positive and finite, got 0.000000e+00}}
module attributes {test.yarn = #lathe.yarn<factor = 0.0, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>} {}

// -----

// An infinite factor would print as `+Inf`, which does not parse back.
// expected-error @+1 {{yarn factor must be positive and finite, got INF}}
module attributes {test.yarn = #lathe.yarn<factor = 1.0e400, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>} {}

// -----

// expected-error @+1 {{yarn original_max_position_embeddings must be positive, got 0}}
module attributes {test.yarn = #lathe.yarn<factor = 40.0, original_max_position_embeddings = 0, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>} {}

// -----

// expected-error @+1 {{yarn needs finite beta_fast > beta_slow > 0, got beta_fast = 1.000000e+00, beta_slow = 3.200000e+01}}
module attributes {test.yarn = #lathe.yarn<factor = 40.0, original_max_position_embeddings = 4096, beta_fast = 1.0, beta_slow = 32.0, mscale = 1.0, mscale_all_dim = 1.0>} {}

// -----

// expected-error @+1 {{yarn needs finite beta_fast > beta_slow > 0, got beta_fast = 3.200000e+01, beta_slow = 3.200000e+01}}
module attributes {test.yarn = #lathe.yarn<factor = 40.0, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 32.0, mscale = 1.0, mscale_all_dim = 1.0>} {}

// -----

// expected-error @+1 {{yarn needs finite beta_fast > beta_slow > 0, got beta_fast = 3.200000e+01, beta_slow = 0.000000e+00}}
module attributes {test.yarn = #lathe.yarn<factor = 40.0, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 0.0, mscale = 1.0, mscale_all_dim = 1.0>} {}

// -----

// expected-error @+1 {{yarn needs finite beta_fast > beta_slow > 0, got beta_fast = INF, beta_slow = 1.000000e+00}}
module attributes {test.yarn = #lathe.yarn<factor = 40.0, original_max_position_embeddings = 4096, beta_fast = 1.0e400, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>} {}

// -----

// expected-error @+1 {{yarn mscale and mscale_all_dim must be finite}}
module attributes {test.yarn = #lathe.yarn<factor = 40.0, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 1.0, mscale = 0x7FF8000000000000, mscale_all_dim = 1.0>} {}

// -----

// expected-error @+1 {{yarn mscale and mscale_all_dim must be finite}}
module attributes {test.yarn = #lathe.yarn<factor = 40.0, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = -1.0e400>} {}

// -----

// A yarn nested in a rope is verified too; the rope then fails to parse.
// expected-error @+2 {{yarn factor must be positive and finite, got -4.000000e+01}}
// expected-error @+1 {{failed to parse Lathe_RopeAttr parameter 'yarn' which is to be a `::lathe::YarnAttr`}}
module attributes {test.rope = #lathe.rope<theta = 10000.0, yarn = <factor = -40.0, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>>} {}

// -----

// The same rules hold where an op holds the attribute.
func.func @in_rope_op(%x: tensor<?x?x8xf32>, %pos: tensor<?x?xi32>) {
  // expected-error @+1 {{rope theta must be a finite number above 1, got 5.000000e-01}}
  %0 = lathe.rope %x, %pos <theta = 0.5> : tensor<?x?x8xf32>, tensor<?x?xi32>
  return
}
