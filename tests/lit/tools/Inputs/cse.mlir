func.func @f(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %w1 = lathe.weight "model.norm.weight" in "model.safetensors" at 8 : tensor<8xbf16>
  %w2 = lathe.weight "model.norm.weight" in "model.safetensors" at 8 : tensor<8xbf16>
  %a = lathe.rms_norm %x, %w1 eps 1.0e-6 : tensor<?x?x8xf32>, tensor<8xbf16>
  %b = lathe.rms_norm %x, %w2 eps 1.0e-6 : tensor<?x?x8xf32>, tensor<8xbf16>
  %c = lathe.add %a, %b : tensor<?x?x8xf32>
  return %c : tensor<?x?x8xf32>
}
