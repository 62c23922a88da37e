#!/usr/bin/env bash
# The main job: builds lathe, writes the tiny DeepSeek-V3-shaped checkpoint of
# tests/models (random weights, seed 0), compiles it to lathe IR, checks that
# lathe-opt reads it back, and prints the graph (the lathe.weight references
# left out). Token generation joins this script with the CPU target and
# lathe-run.
set -euo pipefail
source "$(dirname "$0")/env.sh"

"$LATHE_ROOT/scripts/bootstrap.sh"
lathe_configure >/dev/null
lathe_build lathe-compile lathe-opt

work=$LATHE_BUILD_DIR/example
mkdir -p "$work"
python=${LATHE_PYTHON:-/usr/bin/python3}
"$python" "$LATHE_ROOT/tests/models/make_tiny_checkpoint.py" --flavour v3 "$work/tiny-v3"
"$LATHE_BUILD_DIR/bin/lathe-compile" "$work/tiny-v3" --compile-to=input -o "$work/tiny-v3.mlir"
# The IR must read back: lathe-opt parses and verifies it.
"$LATHE_BUILD_DIR/bin/lathe-opt" "$work/tiny-v3.mlir" -o /dev/null
echo "== $work/tiny-v3.mlir: $(grep -c 'lathe.weight' "$work/tiny-v3.mlir") weight references and this graph:"
grep -v ' = lathe.weight ' "$work/tiny-v3.mlir"
