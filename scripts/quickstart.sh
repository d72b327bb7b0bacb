#!/usr/bin/env bash
# Installs, builds, and runs the main job -- synth (unless a file is given) -> prepare ->
# mpirun -np 2 train -- on the built-in synthetic data, or on the CRM export given as the
# first argument (.xlsx or .csv).
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
echo "Results: $out/prepared.h5 and $out/run.h5 (schema: docs/HDF5_SCHEMA.md). In Python:"
echo "  import h5py, pandas as pd; pd.DataFrame(h5py.File('$out/run.h5')['learning_curve'][()])"
