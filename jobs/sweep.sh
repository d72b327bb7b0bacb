#!/bin/bash
# Runs a reinforcer sweep on a workstation (the SLURM version is slurm/submit-sweep.sh).
#
#   jobs/sweep.sh PREPARED.h5 GRID.ini SWEEP_DIR [sweep options...]
#
# Knobs (environment variables, default after =):
#   REINFORCER=reinforcer   the executable: a path, or a name found on PATH
#   MODE=groups             groups: one 'mpirun -np RANKS reinforcer sweep --ranks-per-trial K':
#                           groups of K ranks take trials as they finish;
#                           array: the tasks of a job array one after another, each
#                           'reinforcer sweep --trial-index I --trials-per-task M' (under mpirun
#                           when RANKS > 1), as the SLURM array would run them
#   RANKS=2                 MPI ranks (1: no mpirun)
#   RANKS_PER_TRIAL=1       K, ranks that train one trial together (groups mode; divides RANKS)
#   THREADS=1               OpenMP threads per rank (--threads, OMP_NUM_THREADS)
#   TRIALS_PER_TASK=1       M, trials per task (array mode)
#   TASKS=all               array mode: all; failed (the failed and missing trials' tasks, from
#                           'reinforcer sweep --status'); or a list such as 0-3,7
#   MPIRUN=mpirun           mpirun, and MPIRUN_ARGS= extra options for it (as root Open MPI also
#                           wants OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)
# A re-run skips complete trials and retries failed ones. SIGTERM or SIGUSR1 to this script is
# forwarded: the running trial is checkpointed and resumed by the next run.
# Exit: 0 every trial run is complete; 5 some failed; 75 interrupted; 2 usage error.
# Then: jobs/merge.sh SWEEP_DIR sweep.h5
set -u
if [ $# -lt 3 ]; then
  echo "usage: jobs/sweep.sh PREPARED.h5 GRID.ini SWEEP_DIR [sweep options]" >&2
  exit 2
fi
prepared=$1 grid=$2 sweep_dir=$3
shift 3
REINFORCER=${REINFORCER:-reinforcer}
MODE=${MODE:-groups}
RANKS=${RANKS:-2}
RANKS_PER_TRIAL=${RANKS_PER_TRIAL:-1}
THREADS=${THREADS:-1}
TRIALS_PER_TASK=${TRIALS_PER_TASK:-1}
TASKS=${TASKS:-all}
MPIRUN=${MPIRUN:-mpirun}
MPIRUN_ARGS=${MPIRUN_ARGS:-}
read -r -a mpirun_args <<<"$MPIRUN_ARGS"
export OMP_NUM_THREADS=$THREADS

launch=()
[ "$RANKS" -gt 1 ] && launch=("$MPIRUN" -np "$RANKS" --bind-to none -x OMP_NUM_THREADS "${mpirun_args[@]}")

child=
trapped=0
stop=
# shellcheck disable=SC2317  # called by the traps
forward() { trapped=1; stop=$1; [ -n "$child" ] && kill -s "$1" "$child" 2>/dev/null; }
trap 'forward USR1' USR1
trap 'forward TERM' TERM
# Runs a command in the background and waits for it through forwarded signals; sets rc.
run() {
  echo "sweep.sh: $*"
  "$@" &
  child=$!
  while :; do
    trapped=0
    wait "$child"
    rc=$?
    [ "$trapped" = 1 ] || break
  done
  child=
}

case $MODE in
  groups)
    run "${launch[@]}" "$REINFORCER" sweep "$prepared" --grid "$grid" -o "$sweep_dir" \
      --ranks-per-trial "$RANKS_PER_TRIAL" --threads "$THREADS" "$@"
    exit "$rc" ;;
  array) ;;
  *) echo "sweep.sh: MODE=$MODE: give groups or array" >&2; exit 2 ;;
esac

trials=$("$REINFORCER" sweep --grid "$grid" --list "$@" | tail -n +2 | grep -c .) || exit 2
tasks=$(( (trials + TRIALS_PER_TASK - 1) / TRIALS_PER_TASK ))
list=$TASKS
case $TASKS in
  all) list="0-$((tasks - 1))" ;;
  failed)
    if [ -f "$sweep_dir/sweep.ini" ]; then
      status=$("$REINFORCER" sweep --status "$sweep_dir" --trials-per-task "$TRIALS_PER_TASK") || exit
      if [ "$TRIALS_PER_TASK" -gt 1 ]; then key="rerun tasks"; else key="rerun"; fi
      list=$(echo "$status" | sed -n "s/^$key: *//p")
    else
      list="0-$((tasks - 1))"
    fi ;;
esac
indices=()
IFS=, read -r -a parts <<<"$list"
for part in "${parts[@]}"; do
  if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
    for ((i = BASH_REMATCH[1]; i <= BASH_REMATCH[2]; ++i)); do indices+=("$i"); done
  elif [[ $part =~ ^[0-9]+$ ]]; then
    indices+=("$part")
  else
    echo "sweep.sh: TASKS=$TASKS: '$part' is not an index or a range (e.g. 0-3,7)" >&2
    exit 2
  fi
done
echo "sweep.sh: $trials trials in $tasks tasks of $TRIALS_PER_TASK; running tasks ${list:-(none)}"
failed=0
for i in "${indices[@]}"; do
  run "${launch[@]}" "$REINFORCER" sweep "$prepared" --grid "$grid" -o "$sweep_dir" --trial-index "$i" \
    --trials-per-task "$TRIALS_PER_TASK" --threads "$THREADS" "$@"
  case $rc in
    0) ;;
    5) failed=1 ;;
    *) echo "sweep.sh: task $i exited $rc${stop:+ (SIG$stop)}; stopping" >&2; exit "$rc" ;;
  esac
  if [ -n "$stop" ]; then echo "sweep.sh: stopped by SIG$stop after task $i" >&2; exit 75; fi
done
[ "$failed" = 1 ] && exit 5
exit 0
