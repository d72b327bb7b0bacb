#!/bin/bash
# Merges a sweep directory's trial files into one sweep file and checks the sweep is complete
# (the SLURM version is slurm/merge.sbatch).
#
#   jobs/merge.sh SWEEP_DIR OUTPUT.h5 [merge options, e.g. --objective regret_p95]
#
# Knobs: REINFORCER=reinforcer (the executable: a path, or a name found on PATH).
# Exit: 0 merged and every trial complete; 3 merged, but trials are failed or missing (rerun
# them: TASKS=failed MODE=array jobs/sweep.sh ...); otherwise reinforcer's exit code.
set -u
if [ $# -lt 2 ]; then
  echo "usage: jobs/merge.sh SWEEP_DIR OUTPUT.h5 [merge options]" >&2
  exit 2
fi
sweep_dir=$1 output=$2
shift 2
REINFORCER=${REINFORCER:-reinforcer}
"$REINFORCER" merge "$sweep_dir" -o "$output" "$@" || exit
status=$("$REINFORCER" sweep --status "$sweep_dir") || exit
echo "$status"
if [ -n "$(echo "$status" | sed -n 's/^rerun: *//p')" ]; then
  echo "merge.sh: the sweep is incomplete; rerun the failed and missing trials (TASKS=failed MODE=array jobs/sweep.sh ...)" >&2
  exit 3
fi
