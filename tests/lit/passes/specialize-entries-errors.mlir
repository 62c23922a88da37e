// RUN: lathe-opt %s --split-input-file --verify-diagnostics --lathe-specialize-entries="max-seq-len=4096"

// expected-error @+1 {{needs func.func @forward, the imported model}}
module attributes {lathe.config = {max_position_embeddings = 2048 : i64}} {
  func.func @main() { return }
}

// -----

// expected-error @+1 {{needs lathe.config.max_position_embeddings}}
module {
  func.func @forward(%t: tensor<?x?xi32>, %p: tensor<?x?xi32>) -> tensor<?x?x8xf32> {
    %w = lathe.weight "lm_head.weight" in "m.safetensors" at 0 : tensor<8x4xbf16>
    %e = lathe.weight "embed" in "m.safetensors" at 64 : tensor<8x4xbf16>
    %h = lathe.embedding %t, %e : tensor<?x?xi32>, tensor<8x4xbf16> -> tensor<?x?x4xf32>
    %l = lathe.lm_head %h, %w : tensor<?x?x4xf32>, tensor<8x4xbf16> -> tensor<?x?x8xf32>
    return %l : tensor<?x?x8xf32>
  }
}

// -----

// expected-error @+1 {{max-seq-len 4096 exceeds the model's max_position_embeddings 2048}}
module attributes {lathe.config = {max_position_embeddings = 2048 : i64}} {
  func.func @forward(%t: tensor<?x?xi32>, %p: tensor<?x?xi32>) -> tensor<?x?x8xf32> {
    %w = lathe.weight "lm_head.weight" in "m.safetensors" at 0 : tensor<8x4xbf16>
    %e = lathe.weight "embed" in "m.safetensors" at 64 : tensor<8x4xbf16>
    %h = lathe.embedding %t, %e : tensor<?x?xi32>, tensor<8x4xbf16> -> tensor<?x?x4xf32>
    %l = lathe.lm_head %h, %w : tensor<?x?x4xf32>, tensor<8x4xbf16> -> tensor<?x?x8xf32>
    return %l : tensor<?x?x8xf32>
  }
}

// -----

module attributes {lathe.config = {max_position_embeddings = 8192 : i64}} {
  // expected-error @+1 {{'func.func' op expected exactly one lathe.lm_head, found 0}}
  func.func @forward(%t: tensor<?x?xi32>, %p: tensor<?x?xi32>) -> tensor<?x?x4xf32> {
    %e = lathe.weight "embed" in "m.safetensors" at 64 : tensor<8x4xbf16>
    %h = lathe.embedding %t, %e : tensor<?x?xi32>, tensor<8x4xbf16> -> tensor<?x?x4xf32>
    return %h : tensor<?x?x4xf32>
  }
}
