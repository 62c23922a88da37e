# Sourced by the scripts: where the build goes and which tools it uses.
# Every setting can be overridden from the environment.
LATHE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LATHE_BUILD_DIR=${LATHE_BUILD_DIR:-$LATHE_ROOT/build}
LATHE_LLVM_PREFIX=${LATHE_LLVM_PREFIX:-/usr/lib/llvm-22}
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export CUDA_HOME
# ccache keeps rebuilds of the MLIR-heavy sources cheap across clones.
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/lathe-ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

lathe_configure() {
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  cmake -S "$LATHE_ROOT" -B "$LATHE_BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE="${LATHE_BUILD_TYPE:-Release}" \
    -DLATHE_LLVM_PREFIX="$LATHE_LLVM_PREFIX" \
    "${launcher[@]}" "$@"
}

lathe_build() {
  cmake --build "$LATHE_BUILD_DIR" -- "$@"
}
