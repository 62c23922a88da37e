#!/usr/bin/env python3
"""Edits a checkpoint's config.json in place, for tests of the config reader.

    edit_config.py CKPT_DIR KEY=JSON ... [KEY= ...]

KEY may be dotted to reach into objects (`rope_scaling.factor=0`); `KEY=`
with nothing after `=` deletes the field. Values are JSON (`q_lora_rank=null`,
`scoring_func="\\"relu\\""`; a value that is not JSON is taken as a string).
"""
import json
import os
import sys


def main():
    if len(sys.argv) < 3 or "=" not in "".join(sys.argv[2:]):
        sys.exit(__doc__)
    path = os.path.join(sys.argv[1], "config.json")
    with open(path) as f:
        config = json.load(f)
    for edit in sys.argv[2:]:
        key, _, text = edit.partition("=")
        *parents, leaf = key.split(".")
        target = config
        for parent in parents:
            target = target[parent]
        if text == "":
            del target[leaf]
            continue
        try:
            target[leaf] = json.loads(text)
        except json.JSONDecodeError:
            target[leaf] = text
    with open(path, "w") as f:
        json.dump(config, f, indent=2)


if __name__ == "__main__":
    main()
