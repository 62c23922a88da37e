// #lathe.rope and #lathe.yarn on their own. Their f64 parameters print with
// the fewest digits that parse back to the same double, always as a float
// literal ('.' present), plain up to 8 padding zeros and scientific beyond.
// RUN: lathe-opt %s | lathe-opt | FileCheck %s
// RUN: lathe-opt %s --mlir-print-op-generic | lathe-opt | FileCheck %s

// CHECK-LABEL: module attributes {
module attributes {
  // CHECK-SAME: test.a_plain = #lathe.rope<theta = 10000.0>
  test.a_plain = #lathe.rope<theta = 10000.0>,
  // Integer-valued, shortest digits, scientific past 8 padding zeros.
  // CHECK-SAME: test.b_theta_1e8 = #lathe.rope<theta = 100000000.0>
  test.b_theta_1e8 = #lathe.rope<theta = 1.0e8>,
  // CHECK-SAME: test.c_theta_1e9 = #lathe.rope<theta = 1.0E+9>
  test.c_theta_1e9 = #lathe.rope<theta = 1000000000.0>,
  // CHECK-SAME: test.d_theta_1e20 = #lathe.rope<theta = 1.0E+20>
  test.d_theta_1e20 = #lathe.rope<theta = 1.0e20>,
  // The next double above 1 needs all 17 digits.
  // CHECK-SAME: test.e_theta_ulp = #lathe.rope<theta = 1.0000000000000002>
  test.e_theta_ulp = #lathe.rope<theta = 1.0000000000000002>,
  // A hexadecimal literal gives the exact bits (0x40C3880000000000 = 10000).
  // CHECK-SAME: test.f_theta_hex = #lathe.rope<theta = 10000.0>
  test.f_theta_hex = #lathe.rope<theta = 0x40C3880000000000>,
  // V3's YaRN, nested in a rope with its prefix elided.
  // CHECK-SAME: test.g_v3 = #lathe.rope<theta = 10000.0, yarn = <factor = 40.0, original_max_position_embeddings = 4096, beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>>
  test.g_v3 = #lathe.rope<theta = 10000.0, yarn = <factor = 40.0, original_max_position_embeddings = 4096,
                                                 beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>>,
  // A yarn on its own; decimals print as written, not as 0.70699999999999996;
  // mscale may be zero or negative; a factor below 1 is allowed.
  // CHECK-SAME: test.h_yarn = #lathe.yarn<factor = 0.5, original_max_position_embeddings = 1, beta_fast = 1.0000000000000002, beta_slow = 1.0, mscale = 0.707, mscale_all_dim = -0.0000125>
  test.h_yarn = #lathe.yarn<factor = 0.5, original_max_position_embeddings = 1, beta_fast = 1.0000000000000002,
                          beta_slow = 1.0, mscale = 0.707, mscale_all_dim = -1.25e-5>,
  // CHECK-SAME: test.i_yarn_small = #lathe.yarn<factor = 5.0E-324, original_max_position_embeddings = 9223372036854775807, beta_fast = 1.7976931348623157E+308, beta_slow = 2.2250738585072014E-308, mscale = 0.0, mscale_all_dim = 0.1>
  test.i_yarn_small = #lathe.yarn<factor = 4.9406564584124654e-324, original_max_position_embeddings = 9223372036854775807,
                                beta_fast = 1.7976931348623157e308, beta_slow = 2.2250738585072014e-308,
                                mscale = 0.0, mscale_all_dim = 0.1>
} {
}
