#!/usr/bin/env bash
# Installs, builds, and runs the main job -- synth (unless a file is given) -> prepare ->
# mpirun -np 2 train -> evaluate -> report, call list and plots -- on the built-in synthetic
# data, or on the CRM export given as the first argument (.xlsx or .csv).
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
# Open MPI refuses root unless told; on a workstation shared memory is the fast transport.
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1} OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader}
ranks=2
[ "$(nproc)" -ge 2 ] || export OMPI_MCA_rmaps_base_oversubscribe=1
echo
mpirun -np "$ranks" "$bin" train "$out/prepared.h5" -o "$out/run.h5"
echo
mpirun -np "$ranks" "$bin" evaluate "$out/run.h5" -o "$out/evaluated.h5" --threads 1
"$bin" report "$out/evaluated.h5"
"$bin" report "$out/evaluated.h5" --format markdown -o "$out/report.md"
"$bin" recommend "$out/evaluated.h5" -o "$out/call-list.csv"
/usr/bin/python3 "$root/analysis/plots.py" "$out/evaluated.h5" -o "$out/plots"
echo
echo "Results in $out: prepared.h5, run.h5, evaluated.h5 (schema: docs/HDF5_SCHEMA.md), report.md,"
echo "call-list.csv and plots/. In Python: import sys; sys.path.insert(0, 'analysis');"
echo "  import reinforcer_analysis as ra; ra.load('$out/evaluated.h5').tables['evaluation/targeting']"
