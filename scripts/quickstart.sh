#!/usr/bin/env bash
# Installs, builds, and runs the main job: on the built-in synthetic data, or on the CRM
# export given as the first argument (.xlsx or .csv).
#   scripts/quickstart.sh                 # synthetic data
#   scripts/quickstart.sh SalesCRM.xlsx   # your export
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DREINFORCER_TESTS=OFF >/dev/null
cmake --build "$root/build" -j "$(nproc)"
bin="$root/build/reinforcer"
out="$root/out"
mkdir -p "$out"
if [ $# -ge 1 ]; then
  input="$1"
else
  input="$out/synth.xlsx"
  "$bin" synth -n 20000 --seed 1 --dirty -o "$input"
fi
"$bin" prepare "$input" -o "$out/prepared.h5"
echo
echo "Results: $out/prepared.h5 (open with h5py: pandas.DataFrame(h5py.File(p)['customers'][()]))"
