#!/usr/bin/env python3
"""train's memory estimate (--dry-run) against the measured peak, one run per setting.

Usage: scripts/memory-estimate-check.py BUILD/reinforcer PREPARED.h5 [ARGS ...]
Each setting runs `train PREPARED -o TMP ARGS --dry-run` for the estimate and the same without
--dry-run under /usr/bin/time -f %M for the peak resident memory; prints a Markdown table."""
import os
import re
import subprocess
import sys
import tempfile

SETTINGS = [
    "--features cohort",
    "--features cohort,country",
    "--features cohort,country,education",
    "--features cohort,country,education,month",
    "--threads 2",
    "--threads 2 --refits 0",
    "--threads 8 --sync-every 1000 --episodes 20000",
    "--threads 256 --episodes 200 --sync-every 100",
    "--threads 256 --episodes 200 --sync-every 100 --refits 0",
]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, prepared = sys.argv[1], sys.argv[2]
    settings = [" ".join(sys.argv[3:])] if len(sys.argv) > 3 else SETTINGS
    print("| ARGS | estimate | measured peak | error |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "m.h5")
        for args in settings:
            base = [binary, "train", prepared, "-o", out, "--progress", "none"] + args.split()
            dry = subprocess.run(base + ["--dry-run"], capture_output=True, text=True, check=True).stdout
            estimate = float(re.search(r"memory estimate per rank \(peak\): ([0-9.]+) MB", dry).group(1))
            timed = subprocess.run(["/usr/bin/time", "-f", "%M"] + base, capture_output=True, text=True, check=True)
            peak = int(timed.stderr.strip().splitlines()[-1]) * 1024 / 1e6
            os.remove(out)
            print(f"| `{args}` | {estimate:.1f} MB | {peak:.0f} MB | {100 * (estimate - peak) / peak:+.0f}% |", flush=True)


if __name__ == "__main__":
    main()
