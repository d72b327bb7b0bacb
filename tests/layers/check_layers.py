#!/usr/bin/env python3
"""Fails when a source file includes a header of a higher layer.

The layers, from the ground up (one folder each under include/reinforcer/ and src/): core
(errors, seeds, files), stats, parallel, h5; data; env (the model and the environments); rl;
eval; results (run, evaluated, checkpoint and prepared files); pipeline (trial, sweep); cli; and src/main.cpp on top. A
file may include its own layer and the ones below it. A folder not in the list is an error
too: a new layer has to be placed.

usage: check_layers.py SOURCE_DIR"""
import re
import sys
from pathlib import Path

LAYERS = ["core", "stats", "parallel", "h5", "data", "env", "rl", "eval", "results", "pipeline", "cli", "main"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"reinforcer/([a-z_0-9]+)/')


def layer_of(root, path):
    rel = path.relative_to(root)
    parts = rel.parts
    if parts[0] == "include":
        parts = parts[2:]  # include/reinforcer/<layer>/...
    else:
        parts = parts[1:]  # src/<layer>/...
    if len(parts) == 1:
        return "main" if parts[0] == "main.cpp" else None
    return parts[0]


def main():
    root = Path(sys.argv[1]).resolve()
    problems = []
    files = sorted(p for d in ("include", "src") for p in (root / d).rglob("*")
                   if p.suffix in (".hpp", ".cpp", ".in") and p.is_file())
    for path in files:
        layer = layer_of(root, path)
        if layer not in LAYERS:
            problems.append(f"{path.relative_to(root)}: folder '{layer}' is no layer; place it in {LAYERS}")
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            if target not in LAYERS:
                problems.append(f"{path.relative_to(root)}:{number}: includes folder '{target}', which is no layer")
            elif LAYERS.index(target) > LAYERS.index(layer):
                problems.append(f"{path.relative_to(root)}:{number}: layer {layer} includes the higher layer {target} "
                                f"({line.strip()})")
    for p in problems:
        print(p)
    print(f"{len(files)} files, {len(problems)} include(s) against the layers")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
