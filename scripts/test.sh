#!/usr/bin/env bash
# Installs, builds and runs every test: once in a Release build and once with
# AddressSanitizer + UndefinedBehaviorSanitizer; then the readers' libFuzzer targets (clang),
# each for a bounded number of executions.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
jobs=$(nproc)
for variant in release asan; do
  dir="$root/build-test-$variant"
  flags=(-DCMAKE_BUILD_TYPE=Release)
  [ "$variant" = asan ] && flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DREINFORCER_SANITIZE=ON)
  echo "== $variant build"
  cmake -S "$root" -B "$dir" -G Ninja "${flags[@]}" >/dev/null
  cmake --build "$dir" -j "$jobs"
  echo "== $variant tests"
  (cd "$dir" && UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j "$jobs" --timeout 900)
done
dir="$root/build-test-fuzz"
echo "== fuzz build (clang, libFuzzer)"
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
      -DCMAKE_CXX_COMPILER=clang++ -DREINFORCER_FUZZ=ON >/dev/null
cmake --build "$dir" -j "$jobs"
echo "== fuzz runs"
(cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 600)
