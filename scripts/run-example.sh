#!/usr/bin/env bash
# The main job: builds lathe, writes the tiny DeepSeek-V3-shaped checkpoint of
# tests/models (random weights, seed 0), compiles it for the CPU into a
# bundle, and generates tokens from a prompt with lathe-run.
set -euo pipefail
source "$(dirname "$0")/env.sh"

"$LATHE_ROOT/scripts/bootstrap.sh"
lathe_configure >/dev/null
lathe_build lathe-compile lathe-run lathe-inspect

work=$LATHE_BUILD_DIR/example
mkdir -p "$work"
python=${LATHE_PYTHON:-/usr/bin/python3}
bin=$LATHE_BUILD_DIR/bin
"$python" "$LATHE_ROOT/tests/models/make_tiny_checkpoint.py" --flavour v3 "$work/tiny-v3"
"$bin/lathe-compile" "$work/tiny-v3" --target=cpu -o "$work/tiny-v3.lathe"
"$bin/lathe-inspect" "$work/tiny-v3.lathe" | head -n 8
# Two rows of prompt token ids; 16 new tokens each, greedy.
"$python" -c "import numpy as np; np.save('$work/prompt.npy', np.array([[1, 2, 3, 4], [42, 7, 7, 9]], dtype=np.int64))"
"$bin/lathe-run" "$work/tiny-v3.lathe" generate --prompt-tokens="$work/prompt.npy" \
  --max-new-tokens=16 --greedy --output-tokens="$work/tokens.npy" --output-logits="$work/logits.npy"
echo "== new tokens ($work/tokens.npy):"
"$python" -c "import numpy as np; print(np.load('$work/tokens.npy'))"
