#!/usr/bin/env bash
# Installs, idempotently, what bench/cpu needs beyond scripts/bootstrap.sh:
# Debian's PyTorch (the eager peer) and the OpenMP build of OpenBLAS. Kept out
# of bootstrap.sh so that the test path never pulls torch.
#
# Why OpenBLAS, and its OpenMP build: Debian's torch is built against the
# generic BLAS interface, and python3-torch alone brings the reference BLAS
# (~2.5 GFLOP/s here), which would make any comparison meaningless. The
# pthread build of OpenBLAS keeps its own threads, which fight torch's OpenMP
# threads on a small machine (decode 2-3x slower); the OpenMP build shares
# torch's pool. Installing it makes it the system's libblas.so.3 (Debian's
# alternatives), numpy's included, unless libopenblas0-pthread is present,
# whose priority is higher; bench_cpu.py then still points the peer at the
# OpenMP build.
set -euo pipefail

exec "$(dirname "$0")/../../scripts/bootstrap.sh" --only python3-torch python3-numpy libopenblas0-openmp gcc
