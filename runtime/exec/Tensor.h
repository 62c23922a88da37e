//===- Tensor.h - arrays that go into and come out of a call ---*- C++ -*-===//
//
// A call takes its inputs as TensorViews (the caller's memory, read once
// and copied into 64-byte aligned buffers the kernels see) and returns its
// outputs as Tensors it owns. Both are dense, C-order, little-endian: the
// layout of a .npy file's data.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_EXEC_TENSOR_H
#define LATHE_RUNTIME_EXEC_TENSOR_H

#include "runtime/support/DType.h"

#include <cstdint>
#include <vector>

namespace lathe::rt {

struct Tensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

struct TensorView {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void *data = nullptr;
  /// The bytes at `data`; a call checks them against dtype and shape.
  uint64_t bytes = 0;

  TensorView() = default;
  TensorView(DType dtype, std::vector<int64_t> shape, const void *data,
             uint64_t bytes)
      : dtype(dtype), shape(std::move(shape)), data(data), bytes(bytes) {}
  TensorView(const Tensor &tensor)
      : dtype(tensor.dtype), shape(tensor.shape), data(tensor.data.data()),
        bytes(tensor.data.size()) {}
};

} // namespace lathe::rt

#endif // LATHE_RUNTIME_EXEC_TENSOR_H
