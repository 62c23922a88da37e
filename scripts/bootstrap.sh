#!/usr/bin/env bash
# Installs, idempotently, every Debian package that lathe's build and tests
# need. Packages already present are not fetched again, so a warm machine
# needs no network. Nothing is downloaded from outside Debian's archive.
#
#   bootstrap.sh                 the build's and the tests' packages
#   bootstrap.sh --only PKG...   just these (bench/cpu/setup.sh's)
set -euo pipefail

only=0
if [[ ${1:-} == --only ]]; then
  shift
  packages=("$@")
  only=1
else
  packages=(
    # LLVM/MLIR 22: libMLIR.so, libLLVM.so, mlir-tblgen, FileCheck, lit, not.
    llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools liblld-22-dev
    # Build.
    cmake ninja-build ccache g++ pkg-config
    # Bundles.
    libflatbuffers-dev flatbuffers-compiler
    # Tests: GoogleTest, numpy for checkpoints and float64 references,
    # clang + libFuzzer for the fuzz targets.
    libgtest-dev python3 python3-numpy clang-14 libclang-rt-14-dev
  )
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "bootstrap: all ${#packages[@]} packages present" >&2
fi

((only)) && exit 0

# The CUDA toolkit is optional: ptxas checks of generated kernels run when it
# is found through CUDA_HOME (default /usr/local/cuda).
cuda_home=${CUDA_HOME:-/usr/local/cuda}
if [[ -x "$cuda_home/bin/ptxas" ]]; then
  echo "bootstrap: CUDA toolkit at $cuda_home ($("$cuda_home/bin/ptxas" --version | tail -n 1))" >&2
else
  echo "bootstrap: no CUDA toolkit at $cuda_home (set CUDA_HOME); PTX assembly tests will be skipped" >&2
fi
