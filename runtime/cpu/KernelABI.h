/*===- KernelABI.h - how lathe-run calls a CPU kernel ------------*- C -*-===//
 *
 * A CPU kernel is one workgroup of a launch, as a GPU kernel is one block:
 * the runtime calls it once per workgroup id in the grid, from any thread
 * of its pool, in any order. The code generator (targets/cpu) emits every
 * kernel of a bundle with this signature into one shared object; the
 * runtime dlopen's it. Plain C, so that both sides, and hand-written test
 * kernels, agree on it without sharing any code.
 *
 *===----------------------------------------------------------------------===*/

#ifndef LATHE_RUNTIME_CPU_KERNELABI_H
#define LATHE_RUNTIME_CPU_KERNELABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What one launch passes to each of its workgroups. */
typedef struct LatheDispatch {
  /* One pointer per buffer of the step, in order. A WeightTable buffer is a
   * pointer to an array of pointers, one per weight of the table. */
  void *const *buffers;
  /* The step's scalars, evaluated. */
  const int64_t *scalars;
  /* Workgroup counts in x, y, z. */
  int64_t grid[3];
} LatheDispatch;

/* Runs workgroup (x, y, z) of the launch. */
typedef void (*LatheKernelFn)(const LatheDispatch *dispatch, int64_t x,
                              int64_t y, int64_t z);

/* The version of this ABI; the shared object exports it as
 * `uint32_t lathe_cpu_abi_version`. */
#define LATHE_CPU_ABI_VERSION 1

#ifdef __cplusplus
}
#endif

#endif /* LATHE_RUNTIME_CPU_KERNELABI_H */
