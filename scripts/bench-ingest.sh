#!/usr/bin/env bash
# Ingest and synth benchmark for docs/PERFORMANCE.md: median wall time and peak memory of
# whole-process runs (GNU time), five runs each after one warm-up.
#   scripts/bench-ingest.sh [build-dir] [runs]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
runs=${2:-5}
bin="$build/reinforcer"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
real="$root/../shared/data/SalesCRM.xlsx"

measure() {  # label, command...
  local label=$1; shift
  "$@" >/dev/null 2>&1  # warm-up
  local walls=() mems=()
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>&1
    read -r w m <"$work/t"
    walls+=("$w"); mems+=("$m")
  done
  local med_w med_m
  med_w=$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
  med_m=$(printf '%s\n' "${mems[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
  printf '| %-44s | %8s s | %8d MB | %s |\n' "$label" "$med_w" "$((med_m / 1024))" \
    "$(printf '%s ' "${walls[@]}")"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); runs: $runs (median)"
echo "| command | wall (median) | peak RSS (median) | all runs (s) |"
echo "|---|---|---|---|"
"$bin" synth -n 1000000 --seed 1 -o "$work/m1.csv" >/dev/null
"$bin" synth -n 1000000 --seed 1 -o "$work/m1.xlsx" >/dev/null
measure "synth -n 10000000 -o synth.csv" "$bin" synth -n 10000000 --seed 1 -o "$work/s10.csv"
rm -f "$work/s10.csv"
measure "prepare 1,000,000-row CSV" "$bin" prepare -q "$work/m1.csv" -o "$work/p.h5"
measure "prepare 1,000,000-row xlsx" "$bin" prepare -q "$work/m1.xlsx" -o "$work/p.h5"
if [ -f "$real" ]; then
  measure "prepare the real export (11,032 rows, xlsx)" "$bin" prepare -q "$real" -o "$work/p.h5"
fi
