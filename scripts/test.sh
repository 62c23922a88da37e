#!/usr/bin/env bash
# The test command: installs what the tests need, builds, and runs every test
# (lit files, GoogleTest cases, fuzz targets, end-to-end numerics) through
# ctest. Extra arguments go to ctest (e.g. -R lit).
set -euo pipefail
source "$(dirname "$0")/env.sh"

"$LATHE_ROOT/scripts/bootstrap.sh"
lathe_configure
lathe_build
cd "$LATHE_BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" "$@"
